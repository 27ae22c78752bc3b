#include "cli/registry_cmd_format.h"

#include <cstdio>
#include <set>

#include "core/arn.h"

namespace lathe::cli {

using nlohmann::json;

namespace {

std::string Time(int64_t ms) { return ms > 0 ? Iso8601(ms) : "-"; }
std::string OrDash(const std::string& s) { return s.empty() ? "-" : s; }

json EvaluationJson(const registry::EvaluationRecord& e) {
  return json{{"evaluation", e.evaluation}, {"reportUri", e.report_uri}, {"testSet", e.test_set},
              {"baseline", e.baseline},     {"overallScore", e.overall_score}, {"metrics", e.metrics},
              {"comparison", e.comparison}, {"verdict", e.verdict},      {"created", Time(e.created_ms)}};
}

std::string Value(const json& j) {
  if (j.is_null()) return "-";
  if (j.is_string()) return j.get<std::string>();
  return j.dump();
}

}  // namespace

json GroupJson(const registry::ModelGroup& g) {
  return json{{"name", g.name},           {"arn", g.arn},           {"description", g.description},
              {"createdBy", g.created_by}, {"created", Time(g.created_ms)}, {"latestVersion", g.latest_version},
              {"policy", registry::PolicyToJson(g.policy)}};
}

json VersionJson(const registry::ModelVersion& v) {
  json data = json::array();
  for (const auto& d : v.data)
    data.push_back({{"uri", d.uri}, {"purpose", d.purpose}, {"etag", d.etag}, {"versionId", d.version_id},
                    {"sha256", d.sha256}, {"records", d.records}, {"format", d.format}});
  json evaluations = json::array();
  for (const auto& e : v.evaluations) evaluations.push_back(EvaluationJson(e));
  return json{{"group", v.group},
              {"version", v.version},
              {"arn", v.arn},
              {"status", registry::VersionStatusName(v.status)},
              {"customModelArn", v.custom_model_arn},
              {"baseModel", v.base_model},
              {"trainingJobArn", v.training_job_arn},
              {"hyperparameters", v.hyperparameters},
              {"data", data},
              {"evaluations", evaluations},
              {"description", v.description},
              {"approvalDescription", v.approval_description},
              {"createdBy", v.created_by},
              {"created", Time(v.created_ms)},
              {"lastModifiedBy", v.last_modified_by},
              {"lastModified", Time(v.last_modified_ms)},
              {"metadata", v.metadata}};
}

json MoveJson(const registry::AliasMove& m) {
  return json{{"group", m.group}, {"alias", m.alias},   {"fromVersion", m.from_version}, {"toVersion", m.to_version},
              {"time", Time(m.time_ms)}, {"actor", m.actor}, {"reason", m.reason},        {"rollback", m.rollback}};
}

void PrintGroups(const std::vector<registry::ModelGroup>& groups) {
  if (groups.empty()) {
    std::printf("no model groups (lathe registry create-group NAME makes one)\n");
    return;
  }
  std::printf("%-32s  %-7s  %-24s  %-32s  %s\n", "GROUP", "LATEST", "CREATED", "GATE", "DESCRIPTION");
  for (const auto& g : groups) {
    char gate[96];
    std::snprintf(gate, sizeof gate, "%s>+%g%s", g.policy.primary_metric.c_str(), g.policy.min_margin,
                  g.policy.require_significance ? ",sig" : "");
    std::printf("%-32s  %-7d  %-24s  %-32s  %s\n", g.name.c_str(), g.latest_version, Time(g.created_ms).c_str(), gate,
                g.description.c_str());
  }
}

void PrintPolicy(const std::string& group, const registry::PromotionPolicy& p) {
  std::printf("promotion gate of %s:\n  reference test set  %s\n  primary metric      %s\n  min margin          %g\n"
              "  max regression      %g\n  significance        %s\n",
              group.c_str(), p.reference_test_set.empty() ? "(the evaluation's own)" : p.reference_test_set.c_str(),
              p.primary_metric.c_str(), p.min_margin, p.max_regression,
              p.require_significance ? "required" : "not required");
}

void PrintVersions(const std::vector<registry::ModelVersion>& versions, const std::map<std::string, int>& aliases) {
  std::printf("%-32s  %-7s  %-21s  %-24s  %-10s  %-16s  %s\n", "GROUP", "VERSION", "STATUS", "CREATED", "SCORE",
              "ALIASES", "MODEL");
  for (const auto& v : versions) {
    std::string names;
    for (const auto& [alias, version] : aliases)
      if (version == v.version) names += (names.empty() ? "" : ",") + alias;
    char score[32] = "-";
    if (!v.evaluations.empty()) std::snprintf(score, sizeof(score), "%.4f", v.evaluations.back().overall_score);
    std::printf("%-32s  %-7d  %-21s  %-24s  %-10s  %-16s  %s\n", v.group.c_str(), v.version,
                registry::VersionStatusName(v.status), Time(v.created_ms).c_str(), score, OrDash(names).c_str(),
                OrDash(v.custom_model_arn).c_str());
  }
}

void PrintVersion(const registry::ModelVersion& v) {
  std::printf("%s/%d  %s\n", v.group.c_str(), v.version, registry::VersionStatusName(v.status));
  std::printf("  arn:             %s\n", v.arn.c_str());
  std::printf("  model:           %s\n", OrDash(v.custom_model_arn).c_str());
  std::printf("  base model:      %s\n", OrDash(v.base_model).c_str());
  std::printf("  training job:    %s\n", OrDash(v.training_job_arn).c_str());
  std::printf("  created:         %s by %s\n", Time(v.created_ms).c_str(), OrDash(v.created_by).c_str());
  if (v.last_modified_ms > 0)
    std::printf("  last modified:   %s by %s\n", Time(v.last_modified_ms).c_str(), OrDash(v.last_modified_by).c_str());
  if (!v.description.empty()) std::printf("  description:     %s\n", v.description.c_str());
  if (!v.approval_description.empty()) std::printf("  approval:        %s\n", v.approval_description.c_str());
  if (!v.hyperparameters.empty()) {
    std::printf("  hyperparameters:\n");
    for (auto& [k, val] : v.hyperparameters.items()) std::printf("    %-24s %s\n", k.c_str(), Value(val).c_str());
  }
  std::printf("  data (%zu):\n", v.data.size());
  for (const auto& d : v.data)
    std::printf("    %-10s %s  records=%llu format=%s sha256=%s%s%s\n", OrDash(d.purpose).c_str(), d.uri.c_str(),
                static_cast<unsigned long long>(d.records), OrDash(d.format).c_str(), OrDash(d.sha256).c_str(),
                d.etag.empty() ? "" : " etag=", d.etag.c_str());
  std::printf("  evaluations (%zu):\n", v.evaluations.size());
  for (const auto& e : v.evaluations)
    std::printf("    %s  overallScore=%.4f%s%s  %s\n", OrDash(e.evaluation).c_str(), e.overall_score,
                e.verdict.empty() ? "" : " verdict=", e.verdict.c_str(), e.report_uri.c_str());
  if (!v.metadata.empty()) {
    std::printf("  metadata:\n");
    for (const auto& [k, val] : v.metadata) std::printf("    %-24s %s\n", k.c_str(), val.c_str());
  }
}

void PrintHistory(const std::vector<registry::AliasMove>& moves) {
  std::printf("%-24s  %-5s  %-5s  %-9s  %-16s  %s\n", "TIME", "FROM", "TO", "ROLLBACK", "ACTOR", "REASON");
  for (const auto& m : moves)
    std::printf("%-24s  %-5s  %-5d  %-9s  %-16s  %s\n", Time(m.time_ms).c_str(),
                m.from_version ? std::to_string(m.from_version).c_str() : "-", m.to_version,
                m.rollback ? "yes" : "", m.actor.c_str(), m.reason.c_str());
}

json DiffRows(const registry::ModelVersion& a, const registry::ModelVersion& b) {
  json rows = json::array();
  auto row = [&rows](const std::string& field, const json& x, const json& y) {
    rows.push_back({{"field", field}, {"a", x}, {"b", y}, {"changed", x != y}});
  };
  row("customModelArn", a.custom_model_arn, b.custom_model_arn);
  row("baseModel", a.base_model, b.base_model);
  row("trainingJobArn", a.training_job_arn, b.training_job_arn);
  row("status", registry::VersionStatusName(a.status), registry::VersionStatusName(b.status));
  std::set<std::string> keys;
  for (auto& [k, v] : a.hyperparameters.items()) keys.insert(k);
  for (auto& [k, v] : b.hyperparameters.items()) keys.insert(k);
  for (const std::string& k : keys)
    row("hyperparameters." + k, a.hyperparameters.contains(k) ? a.hyperparameters[k] : json(),
        b.hyperparameters.contains(k) ? b.hyperparameters[k] : json());
  auto data_of = [](const registry::ModelVersion& v) {
    json d = json::array();
    for (const auto& o : v.data) d.push_back(o.uri + (o.sha256.empty() ? "" : "@" + o.sha256.substr(0, 12)));
    return d;
  };
  row("data", data_of(a), data_of(b));
  const registry::EvaluationRecord* ea = a.evaluations.empty() ? nullptr : &a.evaluations.back();
  const registry::EvaluationRecord* eb = b.evaluations.empty() ? nullptr : &b.evaluations.back();
  row("score.overallScore", ea ? json(ea->overall_score) : json(), eb ? json(eb->overall_score) : json());
  std::set<std::string> metrics;
  if (ea && ea->metrics.is_object())
    for (auto& [k, v] : ea->metrics.items()) metrics.insert(k);
  if (eb && eb->metrics.is_object())
    for (auto& [k, v] : eb->metrics.items()) metrics.insert(k);
  for (const std::string& k : metrics)
    row("score." + k, ea && ea->metrics.contains(k) ? ea->metrics[k] : json(),
        eb && eb->metrics.contains(k) ? eb->metrics[k] : json());
  return rows;
}

void PrintDiff(const registry::ModelVersion& a, const registry::ModelVersion& b, const json& rows) {
  const std::string va = "v" + std::to_string(a.version), vb = "v" + std::to_string(b.version);
  std::printf("  %-32s  %-28s  %-28s\n", "FIELD", va.c_str(), vb.c_str());
  for (const json& r : rows)
    std::printf("%s %-32s  %-28s  %-28s\n", r["changed"].get<bool>() ? "*" : " ", r["field"].get<std::string>().c_str(),
                Value(r["a"]).c_str(), Value(r["b"]).c_str());
}

Result<int64_t> ParseTime(const std::string& text) {
  if (text.empty() || text.size() > 40) return Status::InvalidArgument("--at: expected a time, got '" + text.substr(0, 40) + "'");
  bool digits = true;
  for (char c : text) digits = digits && c >= '0' && c <= '9';
  if (digits && text.size() <= 11) return static_cast<int64_t>(std::stoll(text)) * 1000;
  int64_t ms = ParseIso8601(text);
  if (ms < 0)
    return Status::InvalidArgument("--at: expected 2026-12-01T10:00:00Z or seconds since the epoch, got '" + text + "'");
  return ms;
}

}  // namespace lathe::cli
