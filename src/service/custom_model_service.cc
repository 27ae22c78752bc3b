#include "service/custom_model_service.h"

#include <filesystem>
#include <spdlog/spdlog.h>

#include "core/arn.h"
#include "service/field_rules.h"
#include "service/job_artifacts.h"

namespace lathe::service {

Status InUseConflict(const std::string& model) {
  return Status::Conflict(model + " is in use (served by a provisioned throughput, the base of a job in progress, or "
                                  "under evaluation in a job in progress)");
}

Result<std::string> CustomModelService::Register(const store::ResourceRow& job, const std::string& model_dir,
                                                 const nlohmann::json& artifact) {
  const nlohmann::json& j = job.doc;
  if (auto earlier = db_->Find(kCustomModelKind, j.value("outputModelName", job.name));
      earlier.ok() && earlier->doc.value("jobArn", "") == job.arn)
    return earlier->arn;
  store::ResourceRow m;
  m.kind = kCustomModelKind;
  m.id = NewResourceId();
  m.name = j.value("outputModelName", job.name);
  m.arn = BedrockArn(InRegion(config_.scope, ArnRegion(job.arn)), "custom-model/" + j.value("_baseModelId", std::string(kDefaultModelId)) + "/" + m.id);
  m.status = "Active";
  m.created_ms = NowMillis();
  m.doc = {{"modelArn", m.arn},
           {"modelName", m.name},
           {"jobName", job.name},
           {"jobArn", job.arn},
           {"baseModelArn", j.value("baseModelArn", "")},
           {"baseModelName", j.value("_baseModelId", "")},
           {"customizationType", j.value("customizationType", "FINE_TUNING")},
           {"hyperParameters", j.value("hyperParameters", nlohmann::json::object())},
           {"trainingDataConfig", j.value("trainingDataConfig", nlohmann::json::object())},
           {"outputDataConfig", j.value("outputDataConfig", nlohmann::json::object())},
           {"creationTime", Iso8601(m.created_ms)},
           {"modelStatus", "Active"},
           {"_dir", model_dir}};
  if (!artifact.is_null()) m.doc["_artifact"] = artifact;
  if (j.contains("validationDataConfig")) m.doc["validationDataConfig"] = j["validationDataConfig"];
  if (j.contains("trainingMetrics")) m.doc["trainingMetrics"] = j["trainingMetrics"];
  if (j.contains("validationMetrics")) m.doc["validationMetrics"] = j["validationMetrics"];
  LATHE_RETURN_IF_ERROR(db_->Insert(m));
  if (j.contains("_customModelTags")) LATHE_RETURN_IF_ERROR(db_->SetTags(m.arn, TagsFromJson(j["_customModelTags"])));
  return m.arn;
}

Result<store::ResourceRow> CustomModelService::Find(const std::string& identifier) {
  auto row = db_->Find(kCustomModelKind, identifier);
  if (!row.ok() && row.status().code() == Status::Code::kNotFound)
    return Status::NotFound("Custom model " + identifier + " not found");
  if (row.ok() && row->doc.contains("_artifact")) row->doc["_dir"] = config_.data_dir + "/custom-models/" + row->id;
  return row;
}

Status CustomModelService::FetchArtifact(const store::ResourceRow& row) {
  const std::string dir = row.doc.value("_dir", "");
  std::error_code ec;
  if (std::filesystem::exists(dir + "/config.json", ec)) return Status::Ok();
  std::lock_guard<std::mutex> lock(fetch_mu_);
  if (std::filesystem::exists(dir + "/config.json", ec)) return Status::Ok();
  if (!objects_) return Status::Unsupported("model " + row.name + " is in the artifact bucket, and this node has no object store to fetch it from");
  std::filesystem::create_directories(std::filesystem::path(dir).parent_path(), ec);
  Status s = DownloadModelArtifact(objects_, config_.scope.account, row.doc["_artifact"], dir);
  if (!s.ok()) return Status::IOError("model " + row.name + " cannot be fetched from the artifact bucket: " + s.message());
  return Status::Ok();
}

void CustomModelService::DeleteArtifact(const store::ResourceRow& row) {
  if (!row.doc.contains("_artifact")) return;
  const std::string uri = row.doc["_artifact"].is_object() ? row.doc["_artifact"].value("uri", "") : "";
  if (!objects_) {
    spdlog::warn("custom model {} ({}) is deleted, but its files in {} stay: this node has no object store", row.name,
                 row.id, uri);
    return;
  }
  if (Status s = DeleteModelArtifact(objects_, config_.scope.account, row.doc["_artifact"]); !s.ok())
    spdlog::warn("custom model {} ({}) is deleted, but not all of its files in {}: {}", row.name, row.id, uri,
                 s.message());
}

Result<store::ResourceRow> CustomModelService::FindServable(const std::string& identifier) {
  auto custom = Find(identifier);
  if (custom.ok() && custom->doc.contains("_artifact")) LATHE_RETURN_IF_ERROR(FetchArtifact(*custom));
  if (custom.ok() || custom.status().code() != Status::Code::kNotFound || !imported_) return custom;
  // An imported model in the artifact bucket (imported where jobs run on workers) is fetched too.
  auto fetched = [this](Result<store::ResourceRow> row) -> Result<store::ResourceRow> {
    if (row->doc.contains("_artifact")) LATHE_RETURN_IF_ERROR(FetchArtifact(*row));
    return row;
  };
  if (auto imported = imported_->Find(identifier); imported.ok()) return fetched(std::move(imported));
  if (auto mapped = imported_->FindMapped(identifier); mapped.ok()) return fetched(std::move(mapped));
  return custom;
}

Result<nlohmann::json> CustomModelService::Get(const std::string& identifier) {
  LATHE_RETURN_IF_ERROR(CheckLength(identifier, "modelIdentifier", rules::kModelIdentifier));
  auto row = Find(identifier);
  if (!row.ok()) return row.status();
  return PublicFields(row->doc);
}

Result<nlohmann::json> CustomModelService::List(const std::map<std::string, std::string>& query) {
  auto q = ParseListQuery(query, rules::kCustomModelName);
  if (!q.ok()) return q.status();
  std::map<std::string, std::string> doc_equals;
  if (auto base = query.find("baseModelArnEquals"); base != query.end()) doc_equals["baseModelArn"] = base->second;
  std::string next;
  auto rows = ListPage(db_, kCustomModelKind, *q, doc_equals, &next);
  if (!rows.ok()) return rows.status();
  nlohmann::json summaries = nlohmann::json::array();
  for (const auto& r : *rows)
    summaries.push_back({{"modelArn", r.arn},
                         {"modelName", r.name},
                         {"creationTime", Iso8601(r.created_ms)},
                         {"baseModelArn", r.doc.value("baseModelArn", "")},
                         {"baseModelName", r.doc.value("baseModelName", "")},
                         {"customizationType", r.doc.value("customizationType", "FINE_TUNING")},
                         {"ownerAccountId", config_.scope.account},
                         {"modelStatus", r.status}});
  nlohmann::json out = {{"modelSummaries", summaries}};
  if (!next.empty()) out["nextToken"] = next;
  return out;
}

Status CustomModelService::Delete(const std::string& identifier,
                                  const std::function<bool(const std::string& arn)>& in_use,
                                  const std::function<void()>& row_deleted) {
  LATHE_RETURN_IF_ERROR(CheckLength(identifier, "modelIdentifier", rules::kModelIdentifier));
  auto row = Find(identifier);
  if (!row.ok()) return row.status();
  if (in_use(row->arn))
    return InUseConflict("Custom model " + row->name);
  LATHE_RETURN_IF_ERROR(db_->Delete(kCustomModelKind, row->id));
  if (row_deleted) row_deleted();
  std::error_code ec;
  const std::string dir = row->doc.value("_dir", "");
  if (on_deleted_ && !dir.empty()) on_deleted_(dir);
  // Only files lathe made: the job's folder under the data dir holds the model, or (made on a
  // worker) this node's copy of it.
  for (const char* folder : {"/jobs", "/custom-models"}) {
    const std::string mine = std::filesystem::weakly_canonical(config_.data_dir + folder, ec).string() + "/";
    if (!dir.empty() && std::filesystem::weakly_canonical(dir, ec).string().rfind(mine, 0) == 0)
      std::filesystem::remove_all(dir, ec);
  }
  DeleteArtifact(*row);
  return RemoveAllTags(db_, row->arn);
}

}  // namespace lathe::service
