// One version in the automation guide's registry layout (section 1.4): a folder per version
// with the model id, how it was trained, what it was trained on, and how it scored. The guide's
// "deployment date" and "rollback pointer" are in training-config.json's "deployments": for each
// alias now on this version, since when, the version it replaced, where a rollback would take it
// (rollbackTo) and every move onto this version with its date.
#include "core/arn.h"
#include "services/registry/registry.h"
#include "services/registry/rows.h"

namespace lathe::registry {

using nlohmann::json;

namespace {
std::string Pretty(const json& j) { return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n"; }
}  // namespace

Result<std::map<std::string, std::string>> Registry::ExportFiles(const std::string& group, int version) {
  Result<ModelVersion> v = GetVersion(group, version);
  if (!v.ok()) return v.status();
  Result<std::map<std::string, int>> aliases = Aliases(group);
  if (!aliases.ok()) return aliases.status();

  json deployments = json::array();
  for (const auto& [alias, at] : *aliases) {
    if (at != version) continue;
    Result<std::vector<AliasMove>> history = AliasHistory(group, alias);
    if (!history.ok()) return history.status();
    if (history->empty()) continue;
    const AliasMove& last = history->back();  // the move that put the alias here
    // The rollback pointer is where `alias rollback` would go now (its undo stack), which after
    // a rollback is not the version the last move came from.
    const AliasMove* undo = rows::MoveARollbackUndoes(*history);
    json onto = json::array();  // every move onto this version, oldest first
    for (const AliasMove& m : *history)
      if (m.to_version == version)
        onto.push_back({{"at", Iso8601(m.time_ms)}, {"by", m.actor}, {"fromVersion", m.from_version == 0 ? json() : json(m.from_version)},
                        {"rollback", m.rollback}, {"reason", m.reason}});
    deployments.push_back({{"alias", alias},
                           {"since", Iso8601(last.time_ms)},
                           {"by", last.actor},
                           {"previousVersion", last.from_version == 0 ? json() : json(last.from_version)},
                           {"rollbackTo", undo && undo->from_version != 0 ? json(undo->from_version) : json()},
                           {"moves", std::move(onto)}});
  }

  json config = {{"group", v->group},
                 {"version", v->version},
                 {"modelPackageArn", v->arn},
                 {"customModelArn", v->custom_model_arn},
                 {"baseModel", v->base_model},
                 {"trainingJobArn", v->training_job_arn},
                 {"hyperParameters", v->hyperparameters},
                 {"status", VersionStatusName(v->status)},
                 {"description", v->description},
                 {"createdBy", v->created_by},
                 {"createdAt", Iso8601(v->created_ms)},
                 {"metadata", v->metadata},
                 {"deployments", std::move(deployments)}};

  json objects = json::array();
  uint64_t training_records = 0;
  for (const DataObject& d : v->data) {
    objects.push_back(rows::DataObjectToJson(d));
    if (d.purpose == "training") training_records += d.records;
  }
  json manifest = {{"group", v->group}, {"version", v->version}, {"trainingRecords", training_records},
                   {"dataObjects", std::move(objects)}};

  json evaluations = json::array();
  for (const EvaluationRecord& e : v->evaluations) {
    json one = rows::EvaluationToJson(e);
    one.erase("createdMs");
    one["createdAt"] = Iso8601(e.created_ms);
    evaluations.push_back(std::move(one));
  }
  json report = {{"group", v->group}, {"version", v->version}, {"evaluations", std::move(evaluations)}};
  // The newest evaluation's scores at the top, as the guide's table lists them.
  if (!v->evaluations.empty()) {
    report["overallScore"] = v->evaluations.back().overall_score;
    report["metrics"] = v->evaluations.back().metrics;
  }

  const std::string folder = group + "-v" + std::to_string(version) + "/";
  std::map<std::string, std::string> files;
  files[folder + "model-id.txt"] = (v->custom_model_arn.empty() ? v->arn : v->custom_model_arn) + "\n";
  files[folder + "training-config.json"] = Pretty(config);
  files[folder + "training-data-manifest.json"] = Pretty(manifest);
  files[folder + "evaluation-report.json"] = Pretty(report);
  return files;
}

}  // namespace lathe::registry
