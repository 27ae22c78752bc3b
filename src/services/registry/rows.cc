// The registry's rows in lathe.db (registry.h lists the kinds) and their JSON documents.
#include <cstdio>

#include "services/registry/rows.h"

#include "core/json_fields.h"

namespace lathe::registry::rows {
namespace {

using nlohmann::json;
using store::ResourceRow;

// Fixed-width numbers in row ids, so that the store's order (created_ms, then id) is the
// numeric order when two rows share a millisecond.
std::string Padded(int64_t n, int width) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%0*lld", width, static_cast<long long>(n));
  return buf;
}

ResourceRow Row(const char* kind, std::string id, std::string arn, std::string status, int64_t created_ms, json doc) {
  ResourceRow r;
  r.kind = kind;
  r.name = id;
  r.id = std::move(id);
  r.arn = std::move(arn);
  r.status = std::move(status);
  r.created_ms = created_ms;
  r.doc = std::move(doc);
  return r;
}

std::map<std::string, std::string> MapFromJson(const json& j) {
  std::map<std::string, std::string> m;
  if (j.is_object())
    for (const auto& [k, v] : j.items())
      if (v.is_string()) m[k] = v.get<std::string>();
  return m;
}

constexpr auto Str = JsonStr;

// Integers only (a float here was never written by lathe): 0 otherwise.
int64_t Int(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? JsonInt(j, key) : 0;
}

DataObject DataObjectFromJson(const json& j) {
  DataObject d;
  d.uri = Str(j, "uri");
  d.purpose = Str(j, "purpose");
  d.etag = Str(j, "etag");
  d.version_id = Str(j, "versionId");
  d.sha256 = Str(j, "sha256");
  d.records = static_cast<uint64_t>(Int(j, "records"));
  d.format = Str(j, "format");
  return d;
}

}  // namespace

json DataObjectToJson(const DataObject& d) {
  return {{"uri", d.uri},         {"purpose", d.purpose}, {"etag", d.etag},    {"versionId", d.version_id},
          {"sha256", d.sha256},   {"records", d.records}, {"format", d.format}};
}

json EvaluationToJson(const EvaluationRecord& e) {
  return {{"evaluation", e.evaluation}, {"reportUri", e.report_uri},       {"testSet", e.test_set},
          {"baseline", e.baseline},     {"overallScore", e.overall_score}, {"metrics", e.metrics},
          {"comparison", e.comparison}, {"verdict", e.verdict},            {"createdMs", e.created_ms}};
}

EvaluationRecord EvaluationFromJson(const json& j) {
  EvaluationRecord e;
  e.evaluation = Str(j, "evaluation");
  e.report_uri = Str(j, "reportUri");
  e.test_set = Str(j, "testSet");
  e.baseline = Str(j, "baseline");
  if (auto it = j.find("overallScore"); it != j.end() && it->is_number()) e.overall_score = it->get<double>();
  if (auto it = j.find("metrics"); it != j.end() && it->is_object()) e.metrics = *it;
  if (auto it = j.find("comparison"); it != j.end() && it->is_object()) e.comparison = *it;
  e.verdict = Str(j, "verdict");
  e.created_ms = Int(j, "createdMs");
  return e;
}

ResourceRow GroupToRow(const ModelGroup& g) {
  json doc = {{"name", g.name},           {"description", g.description}, {"createdBy", g.created_by},
              {"createdMs", g.created_ms}, {"policy", PolicyToJson(g.policy)}, {"latestVersion", g.latest_version}};
  // SageMaker's ModelPackageGroupStatus: a group is usable as soon as it exists.
  return Row(kGroupKind, g.name, g.arn, "Completed", g.created_ms, std::move(doc));
}

ModelGroup GroupFromRow(const ResourceRow& row) {
  ModelGroup g;
  g.name = row.name;
  g.arn = row.arn;
  g.description = Str(row.doc, "description");
  g.created_by = Str(row.doc, "createdBy");
  g.created_ms = row.created_ms;
  if (auto it = row.doc.find("policy"); it != row.doc.end())
    if (Result<PromotionPolicy> p = PolicyFromJson(*it); p.ok()) g.policy = *p;
  g.latest_version = static_cast<int>(Int(row.doc, "latestVersion"));
  return g;
}

ResourceRow VersionToRow(const ModelVersion& v, const std::string& client_token) {
  json data = json::array();
  for (const DataObject& d : v.data) data.push_back(DataObjectToJson(d));
  json evaluations = json::array();
  for (const EvaluationRecord& e : v.evaluations) evaluations.push_back(EvaluationToJson(e));
  json doc = {{"group", v.group},
              {"version", v.version},
              {"customModelArn", v.custom_model_arn},
              {"baseModel", v.base_model},
              {"trainingJobArn", v.training_job_arn},
              {"hyperParameters", v.hyperparameters},
              {"data", std::move(data)},
              {"evaluations", std::move(evaluations)},
              {"description", v.description},
              {"createdBy", v.created_by},
              {"lastModifiedBy", v.last_modified_by},
              {"approvalDescription", v.approval_description},
              {"lastModifiedMs", v.last_modified_ms},
              {"metadata", json(v.metadata)},
              {"clientToken", client_token}};
  ResourceRow row = Row(kVersionKind, v.group + "/" + Padded(v.version, 10), v.arn, VersionStatusName(v.status),
                        v.created_ms, std::move(doc));
  row.name = VersionName(v.group, v.version);
  return row;
}

ModelVersion VersionFromRow(const ResourceRow& row) {
  const json& d = row.doc;
  ModelVersion v;
  v.group = Str(d, "group");
  v.version = static_cast<int>(Int(d, "version"));
  v.arn = row.arn;
  v.custom_model_arn = Str(d, "customModelArn");
  v.base_model = Str(d, "baseModel");
  v.training_job_arn = Str(d, "trainingJobArn");
  if (auto it = d.find("hyperParameters"); it != d.end() && it->is_object()) v.hyperparameters = *it;
  if (auto it = d.find("data"); it != d.end() && it->is_array())
    for (const json& o : *it) v.data.push_back(DataObjectFromJson(o));
  if (auto it = d.find("evaluations"); it != d.end() && it->is_array())
    for (const json& e : *it) v.evaluations.push_back(EvaluationFromJson(e));
  v.description = Str(d, "description");
  v.created_by = Str(d, "createdBy");
  v.last_modified_by = Str(d, "lastModifiedBy");
  v.approval_description = Str(d, "approvalDescription");
  v.created_ms = row.created_ms;
  v.last_modified_ms = Int(d, "lastModifiedMs");
  if (Result<VersionStatus> s = ParseVersionStatus(row.status); s.ok()) v.status = *s;
  if (auto it = d.find("metadata"); it != d.end()) v.metadata = MapFromJson(*it);
  return v;
}

ResourceRow AliasToRow(const std::string& group, const std::string& alias, int version, int64_t moves,
                       int64_t last_move_ms) {
  json doc = {{"group", group}, {"alias", alias}, {"version", version}, {"moves", moves}, {"lastMoveMs", last_move_ms}};
  return Row(kAliasKind, group + "/" + alias, "", "active", last_move_ms, std::move(doc));
}

ResourceRow MoveToRow(const AliasMove& m, int64_t seq) {
  json doc = {{"group", m.group},   {"alias", m.alias},     {"from", m.from_version},   {"to", m.to_version},
              {"timeMs", m.time_ms}, {"actor", m.actor},     {"reason", m.reason},       {"rollback", m.rollback},
              {"seq", seq}};
  return Row(kMoveKind, m.group + "/" + m.alias + "/" + Padded(seq, 12), "", m.rollback ? "rollback" : "move",
             m.time_ms, std::move(doc));
}

AliasMove MoveFromRow(const ResourceRow& row) {
  AliasMove m;
  m.group = Str(row.doc, "group");
  m.alias = Str(row.doc, "alias");
  m.from_version = static_cast<int>(Int(row.doc, "from"));
  m.to_version = static_cast<int>(Int(row.doc, "to"));
  m.time_ms = Int(row.doc, "timeMs");
  m.actor = Str(row.doc, "actor");
  m.reason = Str(row.doc, "reason");
  auto it = row.doc.find("rollback");
  m.rollback = it != row.doc.end() && it->is_boolean() && it->get<bool>();
  return m;
}

std::vector<ResourceRow> LineageRows(const ModelVersion& v) {
  std::vector<ResourceRow> out;
  const std::string version_name = VersionName(v.group, v.version);
  for (size_t i = 0; i < v.data.size(); ++i) {
    const DataObject& d = v.data[i];
    // The version's name as text: the store's doc filters compare strings.
    json doc = {{"uri", d.uri},        {"sha256", d.sha256},          {"group", v.group},
                {"version", v.version}, {"versionName", version_name}, {"purpose", d.purpose}};
    out.push_back(Row(kLineageKind, version_name + "/" + Padded(static_cast<int64_t>(i), 3), "", d.purpose,
                      v.created_ms, std::move(doc)));
  }
  return out;
}

Result<ResourceRow> FindVersionRow(store::MetadataStore* db, const std::string& group, int version) {
  Result<ResourceRow> row = db->Find(kVersionKind, VersionName(group, version));
  if (!row.ok() && row.status().code() == Status::Code::kNotFound)
    return Status::NotFound("model version " + VersionName(group, version) + " does not exist");
  return row;
}

Result<std::vector<ResourceRow>> LineageRowsOf(store::MetadataStore* db, const std::string& group, int version) {
  store::MetadataStore::ListFilter f;
  f.doc_equals["versionName"] = VersionName(group, version);
  return db->List(kLineageKind, f);
}

std::string TokenName(const std::string& group, const std::string& token) { return group + "/" + token; }

ResourceRow TokenRow(const std::string& group, const std::string& token, int version, int64_t created_ms) {
  return Row(kTokenKind, TokenName(group, token), "", "claimed", created_ms, {{"group", group}, {"version", version}});
}

store::Expect SameRevision(const ResourceRow& read) {
  return {read.kind, read.id, "revision", read.doc.contains("revision") ? read.doc["revision"] : json()};
}

void NextRevision(const ResourceRow& read, ResourceRow* rewritten) {
  const json& r = read.doc.contains("revision") ? read.doc["revision"] : json();
  rewritten->doc["revision"] = (r.is_number_integer() ? r.get<int64_t>() : 0) + 1;
}

Result<std::map<std::string, int>> AliasesOf(store::MetadataStore* db, const std::string& group) {
  store::MetadataStore::ListFilter f;
  f.doc_equals["group"] = group;
  Result<std::vector<ResourceRow>> rows = db->List(kAliasKind, f);
  if (!rows.ok()) return rows.status();
  std::map<std::string, int> out;
  for (const ResourceRow& r : *rows) out[Str(r.doc, "alias")] = static_cast<int>(Int(r.doc, "version"));
  return out;
}

}  // namespace lathe::registry::rows
