#include "services/cleanup/plan.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "core/arn.h"

namespace lathe::cleanup {
namespace {

using nlohmann::json;

constexpr const char* kCustomModelArnPart = ":custom-model/";

std::string VersionKey(const std::string& group, int version) { return group + "/" + std::to_string(version); }

std::string Hours(int64_t ms) { return service::FormatRetentionDuration(ms); }

// What a reference that a throughput or deployment serves names, as custom model ARNs: the
// reference itself, or (registry references, model_reference.h) the custom model of the version
// it resolves to in the snapshot.
class References {
 public:
  explicit References(const Snapshot& s) : s_(s) {
    for (const auto& v : s.versions) by_key_[VersionKey(v.group, v.version)] = &v;
  }
  void Add(const json& value, std::set<std::string>* out) const {
    if (!value.is_string()) return;
    std::string ref = value.get<std::string>();
    if (ref.empty() || ref.size() > 2048) return;
    out->insert(ref);
    // ARN forms of registry references -> their short forms.
    for (const char* part : {":model-package-group/", ":model-package/"})
      if (auto at = ref.find(part); ref.rfind("arn:", 0) == 0 && at != std::string::npos)
        ref = ref.substr(at + std::string(part).size());
    if (ref.rfind("arn:", 0) == 0) return;
    if (auto colon = ref.find(':'); colon != std::string::npos) {
      auto group = s_.aliases.find(ref.substr(0, colon));
      if (group == s_.aliases.end()) return;
      auto alias = group->second.find(ref.substr(colon + 1));
      if (alias != group->second.end()) AddVersion(VersionKey(group->first, alias->second), out);
      return;
    }
    AddVersion(ref, out);
  }

 private:
  void AddVersion(const std::string& key, std::set<std::string>* out) const {
    if (auto v = by_key_.find(key); v != by_key_.end() && !v->second->custom_model_arn.empty())
      out->insert(v->second->custom_model_arn);
  }
  const Snapshot& s_;
  std::map<std::string, const registry::ModelVersion*> by_key_;
};

// Every model a throughput or deployment row serves, will serve, or is loading.
void ServedBy(const store::ResourceRow& row, const References& refs, std::set<std::string>* out) {
  for (const char* key : {"modelArn", "desiredModelArn", "modelReference"}) refs.Add(row.doc.value(key, json()), out);
  if (auto serving = row.doc.find("_serving"); serving != row.doc.end() && serving->is_object())
    for (const auto& [variant, v] : serving->items())
      if (v.is_object())
        for (const char* key : {"modelArn", "served"}) refs.Add(v.value(key, json()), out);
  if (auto traffic = row.doc.find("traffic"); traffic != row.doc.end() && traffic->is_object())
    refs.Add(traffic->value("challengerModelArn", json()), out);
}

bool Loading(const store::ResourceRow& row) {
  auto update = row.doc.find("updateDetails");
  return row.status == "Creating" || row.status == "Updating" ||
         (update != row.doc.end() && update->is_object() && update->value("updateStatus", json()) == "Updating");
}

}  // namespace

int64_t LastUse(const store::ResourceRow& row, int64_t stats_last) {
  int64_t last = row.created_ms;
  // Deployments write "lastInvokedMs"; provisioned throughput "_lastInvokedMs" (off its wire shape).
  for (const char* key : {"lastInvokedMs", "_lastInvokedMs"})
    if (auto v = row.doc.find(key); v != row.doc.end() && v->is_number_integer()) last = std::max(last, v->get<int64_t>());
  return std::max(last, stats_last);
}

namespace {

std::string Normal(const std::string& path) {
  std::string s = std::filesystem::path(path).lexically_normal().string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

}  // namespace

const char* ItemKindName(ItemKind k) {
  switch (k) {
    case ItemKind::kThroughput: return "provisioned-throughput";
    case ItemKind::kDeployment: return "deployment";
    case ItemKind::kCustomModel: return "custom-model";
    case ItemKind::kVersionMark: return "registry-version";
  }
  return "?";
}

std::vector<std::string> ModelFolders(const store::ResourceRow& model, const std::string& data_dir) {
  auto dir = model.doc.find("_dir");
  if (dir == model.doc.end() || !dir->is_string() || dir->get<std::string>().empty() || data_dir.empty()) return {};
  const std::string d = Normal(dir->get<std::string>()), root = Normal(data_dir) + "/";
  if (d.rfind(root, 0) != 0) return {};
  // Only the folders lathe makes for a model: a job's (jobs/<id>) or an imported model's
  // (custom-models/<id>); never the data dir's own folders.
  for (const char* parent : {"jobs/", "custom-models/"}) {
    const std::string base = root + parent;
    if (d.rfind(base, 0) != 0) continue;
    const std::string child = d.substr(base.size(), d.find('/', base.size()) - base.size());
    if (child.empty() || child == "." || child == "..") return {};
    return {base + child};
  }
  return {};
}

Plan MakePlan(const service::RetentionPolicy& policy, const Snapshot& s) {
  Plan plan;
  const References refs(s);
  std::map<std::string, std::vector<std::string>> served_by_idle;  // model reference -> idle items serving it
  auto keep = [&](Kept k) {
    if (plan.kept.size() < kMaxKeptListed) plan.kept.push_back(std::move(k));
    else ++plan.kept_unlisted;
  };
  auto idle_items = [&](const std::vector<store::ResourceRow>& rows, ItemKind kind, int64_t idle_ms,
                        const std::map<std::string, int64_t>& stats_last, std::set<std::string>* served_by_kept) {
    for (const auto& row : rows) {
      auto stats = stats_last.find(row.id);
      const int64_t last = LastUse(row, stats == stats_last.end() ? 0 : stats->second);
      const int64_t idle_for = s.now_ms - last;
      if (idle_ms < 0 || Loading(row) || idle_for < idle_ms) {
        ServedBy(row, refs, served_by_kept);
        if (idle_ms >= 0)
          keep({kind, row.name, row.arn,
                               Loading(row) ? "still loading (" + row.status + ")"
                                            : "used " + Hours(std::max<int64_t>(idle_for, 0)) + " ago (idle after " +
                                                  Hours(idle_ms) + ")"});
        continue;
      }
      PlanItem item;
      item.kind = kind;
      item.name = row.name;
      item.arn = row.arn;
      item.id = row.id;
      item.reason = "no request for " + Hours(idle_for) + " (idle after " + Hours(idle_ms) + ")";
      std::set<std::string> served;
      ServedBy(row, refs, &served);
      for (const auto& m : served) served_by_idle[m].push_back(row.arn);
      plan.items.push_back(std::move(item));
    }
  };
  // Throughput and deployments first: a model they alone served may go in the same run.
  std::set<std::string> in_use;
  idle_items(s.throughputs, ItemKind::kThroughput, policy.idle_throughput_ms, {}, &in_use);
  idle_items(s.deployments, ItemKind::kDeployment, policy.idle_deployment_ms, s.deployment_last_request, &in_use);
  for (const auto& job : s.jobs)
    if (job.status == "InProgress" || job.status == "Stopping") in_use.insert(job.doc.value("baseModelArn", ""));
  for (const auto& job : s.evaluation_jobs)
    if (job.status == "InProgress" || job.status == "Stopping")
      for (const auto& m : job.doc.value("_models", json::array()))
        if (m.is_object()) {
          in_use.insert(m.value("arn", ""));
          in_use.insert(m.value("modelArn", ""));
        }

  // Registry: which versions protect their model, and which versions each model has.
  std::map<std::string, std::string> protected_by;  // custom model ARN -> why
  std::map<std::string, std::vector<std::string>> versions_of;  // custom model ARN -> "<group>/<version>"
  std::map<std::string, std::vector<int>> numbers;  // group -> its version numbers
  for (const auto& v : s.versions) numbers[v.group].push_back(v.version);
  for (auto& [group, list] : numbers) std::sort(list.rbegin(), list.rend());
  const size_t newest = static_cast<size_t>(policy.KeepVersions());
  for (const auto& v : s.versions) {
    if (v.custom_model_arn.empty()) continue;
    versions_of[v.custom_model_arn].push_back(VersionKey(v.group, v.version));
    if (auto group = s.aliases.find(v.group); group != s.aliases.end())
      for (const auto& [alias, version] : group->second)
        if (version == v.version) protected_by[v.custom_model_arn] = "version " + VersionKey(v.group, v.version) + " holds alias " + alias;
    const auto& list = numbers[v.group];
    const size_t rank = std::find(list.begin(), list.end(), v.version) - list.begin();
    if (rank < newest && !protected_by.count(v.custom_model_arn))
      protected_by[v.custom_model_arn] = "version " + VersionKey(v.group, v.version) + " is among the newest " +
                                         std::to_string(newest) + " of its group";
  }

  std::set<std::string> existing;
  for (const auto& m : s.custom_models) {
    existing.insert(m.arn);
    if (policy.model_max_age_ms < 0) continue;
    auto kept = [&](const std::string& why) { keep({ItemKind::kCustomModel, m.name, m.arn, why}); };
    const int64_t age = s.now_ms - m.created_ms;
    if (auto p = protected_by.find(m.arn); p != protected_by.end()) kept(p->second);
    else if (in_use.count(m.arn) || in_use.count(m.name) || in_use.count(m.id)) kept("in use");
    else if (age < policy.model_max_age_ms)
      kept(Hours(std::max<int64_t>(age, 0)) + " old (deleted after " + Hours(policy.model_max_age_ms) + ")");
    else {
      PlanItem item;
      item.kind = ItemKind::kCustomModel;
      item.name = m.name;
      item.arn = m.arn;
      item.id = m.id;
      item.reason = Hours(age) + " old (deleted after " + Hours(policy.model_max_age_ms) + ")";
      item.folders = ModelFolders(m, s.data_dir);
      for (const auto& f : item.folders)
        if (auto b = s.folder_bytes.find(f); b != s.folder_bytes.end()) item.bytes += b->second;
      if (auto v = versions_of.find(m.arn); v != versions_of.end()) item.versions = v->second;
      std::set<std::string> after;
      for (const std::string& ref : {m.arn, m.name, m.id})
        if (auto by = served_by_idle.find(ref); by != served_by_idle.end()) after.insert(by->second.begin(), by->second.end());
      item.after.assign(after.begin(), after.end());
      plan.items.push_back(std::move(item));
    }
  }
  // Versions whose custom model is gone (deleted through the API) but not marked yet: only when the
  // policy does something, and only this server's own custom model ARNs (another region's or
  // account's model is not in this lathe.db, and is not gone).
  const std::string own_prefix = "arn:aws:bedrock:" + s.scope.region + ":" + s.scope.account + kCustomModelArnPart;
  for (const auto& v : s.versions) {
    if (!policy.enabled() || v.custom_model_arn.rfind(own_prefix, 0) != 0 || existing.count(v.custom_model_arn) ||
        v.metadata.count(kModelDeletedKey))
      continue;
    PlanItem item;
    item.kind = ItemKind::kVersionMark;
    item.name = VersionKey(v.group, v.version);
    item.arn = v.arn;
    item.reason = "its custom model " + v.custom_model_arn + " no longer exists";
    item.versions = {item.name};
    plan.items.push_back(std::move(item));
  }
  for (const auto& item : plan.items) plan.total_bytes += item.bytes;
  return plan;
}

std::set<std::string> ServedModels(const store::ResourceRow& row, const Snapshot& snapshot) {
  std::set<std::string> out;
  ServedBy(row, References(snapshot), &out);
  return out;
}

json PlanToJson(const Plan& plan) {
  json items = json::array(), kept = json::array();
  for (const auto& i : plan.items)
    items.push_back({{"kind", ItemKindName(i.kind)}, {"name", i.name}, {"arn", i.arn}, {"reason", i.reason},
                     {"bytes", i.bytes}, {"versions", i.versions}});
  for (const auto& k : plan.kept)
    kept.push_back({{"kind", ItemKindName(k.kind)}, {"name", k.name}, {"arn", k.arn}, {"reason", k.reason}});
  json out = {{"items", items}, {"kept", kept}, {"totalBytes", plan.total_bytes}};
  if (plan.kept_unlisted) out["keptUnlisted"] = plan.kept_unlisted;
  return out;
}

}  // namespace lathe::cleanup
