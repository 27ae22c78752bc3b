// The Models & registry page (groups, versions, lineage, aliases with their history; promote and
// roll back) and the Evaluations page (Bedrock's evaluation jobs and the report each wrote).
#include "core/arn.h"
#include "core/env.h"
#include "core/json_nesting.h"
#include "service/bedrock_service.h"
#include "services/registry/registry.h"
#include "ui/api.h"
#include "ui/json_fields.h"
#include "ui/query_params.h"

namespace lathe::ui {

using json = nlohmann::json;

namespace {

constexpr size_t kMaxGroupsListed = 500;
constexpr size_t kMaxVersionsListed = 200;
constexpr size_t kMaxReportCases = 200;
constexpr uint64_t kMaxReportBytes = 32u << 20;

json MoveJson(const registry::AliasMove& m) {
  return {{"group", m.group}, {"alias", m.alias}, {"fromVersion", m.from_version}, {"toVersion", m.to_version},
          {"time", Iso8601(m.time_ms)}, {"actor", m.actor}, {"reason", m.reason}, {"rollback", m.rollback}};
}

bool Mentions(const std::string& model, const std::string& group) {
  return model.rfind(group + ":", 0) == 0 || model.rfind(group + "/", 0) == 0 ||
         model.find("model-package/" + group + "/") != std::string::npos;
}

}  // namespace

json VersionJson(const registry::ModelVersion& v) {
  json data = json::array(), evaluations = json::array();
  for (const auto& d : v.data)
    data.push_back({{"uri", d.uri}, {"purpose", d.purpose}, {"sha256", d.sha256}, {"records", d.records}, {"format", d.format},
                    {"etag", d.etag}, {"versionId", d.version_id}});
  for (const auto& e : v.evaluations)
    evaluations.push_back({{"evaluation", e.evaluation}, {"reportUri", e.report_uri}, {"testSet", e.test_set},
                           {"baseline", e.baseline}, {"overallScore", e.overall_score}, {"verdict", e.verdict},
                           {"metrics", e.metrics}, {"time", Iso8601(e.created_ms)}});
  return {{"group", v.group}, {"version", v.version}, {"arn", v.arn}, {"status", registry::VersionStatusName(v.status)},
          {"customModelArn", v.custom_model_arn}, {"baseModel", v.base_model}, {"trainingJobArn", v.training_job_arn},
          {"hyperParameters", v.hyperparameters}, {"data", data}, {"evaluations", evaluations},
          {"description", v.description}, {"createdBy", v.created_by}, {"creationTime", Iso8601(v.created_ms)}};
}

ApiResult Api::Groups() {
  if (!b_.registry) return Unavailable("model registry");
  registry::ListOptions o;
  o.limit = kMaxGroupsListed;
  auto groups = b_.registry->ListGroups(o);
  if (!groups.ok()) return groups.status();
  json out = json::array();
  for (const auto& g : *groups) {
    json aliases = json::object();
    if (auto a = b_.registry->Aliases(g.name); a.ok())
      for (const auto& [alias, version] : *a) aliases[alias] = version;
    out.push_back({{"name", g.name}, {"arn", g.arn}, {"description", g.description}, {"latestVersion", g.latest_version},
                   {"creationTime", Iso8601(g.created_ms)}, {"aliases", aliases}});
  }
  return json{{"groups", out}};
}

ApiResult Api::Group(const std::string& name) {
  if (!b_.registry) return Unavailable("model registry");
  LATHE_RETURN_IF_ERROR(CheckName("group", name, registry::kMaxGroupNameBytes));
  auto group = b_.registry->GetGroup(name);
  if (!group.ok()) return group.status();
  registry::ListOptions o;
  o.descending = true;
  o.limit = kMaxVersionsListed;
  auto versions = b_.registry->ListVersions(group->name, o);
  if (!versions.ok()) return versions.status();
  json out = {{"name", group->name}, {"arn", group->arn}, {"description", group->description},
              {"latestVersion", group->latest_version}, {"policy", registry::PolicyToJson(group->policy)},
              {"versions", json::array()}, {"aliases", json::object()}, {"deployments", json::array()}};
  for (const auto& v : *versions) out["versions"].push_back(VersionJson(v));
  if (auto aliases = b_.registry->Aliases(group->name); aliases.ok())
    for (const auto& [alias, version] : *aliases) {
      json history = json::array();
      if (auto h = b_.registry->AliasHistory(group->name, alias); h.ok())
        for (const auto& m : *h) history.push_back(MoveJson(m));
      out["aliases"][alias] = {{"version", version}, {"history", history}};
    }
  if (b_.bedrock)  // what serves the group's versions: the lineage's last step
    if (auto d = b_.bedrock->deployments().List({{"maxResults", "100"}}); d.ok())
      for (const auto& s : (*d)["modelDeploymentSummaries"])
        if (Mentions(StringField(s, "modelArn"), group->name))
          out["deployments"].push_back({{"name", StringField(s, "customModelDeploymentName")},
                                        {"arn", StringField(s, "customModelDeploymentArn")},
                                        {"model", StringField(s, "modelArn")}, {"status", StringField(s, "status")}});
  return out;
}

ApiResult Api::MoveAlias(const std::string& group, const std::string& alias, const ApiCall& call) {
  if (!b_.registry) return Unavailable("model registry");
  LATHE_RETURN_IF_ERROR(CheckName("group", group, registry::kMaxGroupNameBytes));
  LATHE_RETURN_IF_ERROR(CheckName("alias", alias, registry::kMaxAliasBytes));
  if (!JsonNestingWithin(call.body, 8)) return Status::InvalidArgument("the body nests deeper than 8 levels");
  const json body = json::parse(call.body, nullptr, false);
  if (!body.is_object()) return Status::InvalidArgument("the body must be a JSON object");
  const json action = AnyField(body, "action");
  const json reason = body.value("reason", json(""));
  if (!reason.is_string() || reason.get<std::string>().size() > registry::kMaxReasonBytes)
    return Status::InvalidArgument("reason: a string of at most 1024 bytes");
  Result<registry::AliasMove> moved = Status::InvalidArgument("action: \"promote\" or \"rollback\"");
  if (action == "promote") {
    const json version = AnyField(body, "version");
    if (!version.is_number_integer() || version.get<int64_t>() < 1 || version.get<int64_t>() > 1000000)
      return Status::InvalidArgument("version: a version number");
    moved = b_.registry->SetAlias(group, alias, version.get<int>(), call.actor, reason.get<std::string>());
  } else if (action == "rollback") {
    moved = b_.registry->Rollback(group, alias, call.actor, reason.get<std::string>());
  }
  if (!moved.ok()) return moved.status();
  return MoveJson(*moved);
}

ApiResult Api::Evaluations(const ApiCall&) {
  if (!b_.bedrock) return Unavailable("evaluation jobs");
  auto listed = b_.bedrock->evaluations().List({{"maxResults", "100"}, {"sortOrder", "Descending"}});
  if (!listed.ok()) return listed.status();
  return json{{"evaluations", ArrayField((*listed), "jobSummaries")}};
}

ApiResult Api::Evaluation(const std::string& id) {
  if (!b_.bedrock || !b_.store) return Unavailable("evaluation jobs");
  LATHE_RETURN_IF_ERROR(CheckName("evaluation", id, 2048));
  auto row = b_.store->Find(service::kEvaluationJobKind, id);
  if (!row.ok()) return row.status();
  auto job = b_.bedrock->evaluations().Get(row->arn);
  if (!job.ok()) return job.status();
  json out = {{"id", row->id}, {"job", *job}};
  if (auto results = b_.bedrock->evaluations().Results(row->arn); results.ok()) out["results"] = *results;
  // The report `lathe eval run` wrote: per model its scores, the paired comparisons, and the
  // answers side by side (the first kMaxReportCases cases).
  const std::string path = b_.data_dir + "/evaluation-jobs/" + row->id + "/out/report.json";
  uint64_t size = 0;
  std::string text;
  if (Env::Default()->GetFileSize(path, &size).ok() && size <= kMaxReportBytes &&
      ReadFileToString(Env::Default(), path, &text).ok()) {
    const json report = json::parse(text, nullptr, false);
    if (report.is_object()) {
      json models = json::array(), cases = json::array();
      const json& test_cases = ArrayField(ObjectField(report, "testSet"), "cases");
      for (const auto& m : ArrayField(report, "models"))
        models.push_back({{"label", StringField(m, "label")}, {"identifier", StringField(m, "identifier")},
                          {"overallScore", AnyField(m, "overallScore")}, {"metrics", ObjectField(m, "metrics")}});
      for (size_t i = 0; i < test_cases.size() && i < kMaxReportCases; ++i) {
        const json& c = test_cases[i];
        json answers = json::array();
        for (const auto& m : ArrayField(report, "models")) {
          const json& mc = ArrayField(m, "cases");
          answers.push_back(i < mc.size() ? json{{"text", StringField(mc[i], "text")}, {"metrics", ObjectField(mc[i], "metrics")}}
                                          : json::object());
        }
        cases.push_back({{"prompt", AnyField(c, "prompt").is_string() ? StringField(c, "prompt") : AnyField(c, "messages").dump()},
                         {"category", StringField(c, "category")}, {"reference", StringField(c, "referenceResponse")},
                         {"answers", answers}});
      }
      out["report"] = {{"models", models}, {"comparisons", ArrayField(report, "comparisons")},
                       {"cases", cases}, {"caseCount", test_cases.size()}};
    }
  }
  return out;
}

}  // namespace lathe::ui
