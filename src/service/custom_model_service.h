// Custom models: what a Completed job produces. GetCustomModel / ListCustomModels /
// DeleteCustomModel, and the model directory the runtime serves.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "core/status.h"
#include "service/imported_models.h"
#include "service/job_object_store.h"
#include "service/resource_json.h"
#include "service/service_config.h"
#include "store/metadata_store.h"

namespace lathe::service {

inline constexpr const char* kCustomModelKind = "custom-model";

// ConflictException for deleting `model` ("Custom model NAME") while something uses it.
Status InUseConflict(const std::string& model);

class CustomModelService {
 public:
  CustomModelService(const ServiceConfig& config, store::MetadataStore* db) : config_(config), db_(db) {}

  // Records the model a job produced (its files stay in model_dir, under the data dir). A job run
  // by a `lathe worker` also names `artifact`, where the model lies in the artifact bucket
  // (JobArtifacts::UploadModel): other nodes fetch it from there. A job that registered its model
  // already (a worker died before saving the job's end) gets the same model back.
  Result<std::string> Register(const store::ResourceRow& job, const std::string& model_dir,
                               const nlohmann::json& artifact = nullptr);
  // Where models made on workers are fetched from (docs/scale-out.md); null: nowhere.
  void set_object_store(JobObjectStore* objects) {
    objects_ = objects;
    if (imported_) imported_->set_object_store(objects);
  }

  Result<nlohmann::json> Get(const std::string& identifier);
  Result<nlohmann::json> List(const std::map<std::string, std::string>& query);
  // Conflict while `in_use` says a provisioned throughput serves it. `row_deleted` (a test seam:
  // the cleanup's SIGKILL test) is called between the row's delete and the folder's removal.
  // A model made on a worker also loses its objects in the artifact bucket, once the row is gone
  // (best effort: a failure is logged, the model stays deleted).
  Status Delete(const std::string& identifier, const std::function<bool(const std::string& arn)>& in_use,
                const std::function<void()>& row_deleted = {});

  // The row of a custom model by ARN, name or id (NotFound otherwise); doc["_dir"] is its folder
  // (for a model made on a worker: where this node keeps its copy, which FindServable fetches).
  Result<store::ResourceRow> Find(const std::string& identifier);
  // What serving and jobs' base models look up: a custom model, else an imported model (ARN, name
  // or id), else the imported model a Bedrock model id is mapped to (`lathe models add
  // --bedrock-id`). doc["_dir"] is its folder, doc["baseModelName"] what it was made from.
  Result<store::ResourceRow> FindServable(const std::string& identifier);
  void set_imported_models(ImportedModelService* imported) { imported_ = imported; }
  // Called with a deleted model's folder before its files go (the runtime drops its on-demand pool).
  void set_on_deleted(std::function<void(const std::string& dir)> hook) { on_deleted_ = std::move(hook); }

 private:
  const ServiceConfig& config_;
  store::MetadataStore* db_;
  // A model made on a worker: its copy on this node, fetched from the artifact bucket once.
  Status FetchArtifact(const store::ResourceRow& row);
  // Deletes the objects of a deleted model made on a worker; logs what it cannot.
  void DeleteArtifact(const store::ResourceRow& row);

  ImportedModelService* imported_ = nullptr;  // null: custom models only
  JobObjectStore* objects_ = nullptr;
  std::mutex fetch_mu_;  // one fetch at a time: two requests for a new model download it once
  std::function<void(const std::string& dir)> on_deleted_;
};

}  // namespace lathe::service
