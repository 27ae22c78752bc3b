// Everything `lathe serve` does, without HTTP: opens the data directory and owns the services.
// The API layer calls these and turns Status codes into Bedrock's errors.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/status.h"
#include "service/custom_model_service.h"
#include "service/data_locations.h"
#include "service/deployment_service.h"
#include "service/evaluation_jobs.h"
#include "service/job_data_locations.h"
#include "service/job_object_store.h"
#include "service/job_service.h"
#include "service/imported_models.h"
#include "service/model_catalog.h"
#include "service/model_import_jobs.h"
#include "service/model_memory.h"
#include "service/runtime_service.h"
#include "service/service_config.h"
#include "service/throughput_service.h"
#include "service/usage_meter.h"
#include "store/metadata_store.h"

namespace lathe::service {

class BedrockService {
 public:
  // Opens DATA_DIR/lathe.db, then (with `start`) starts the job runner and reloads provisioned
  // throughput and custom model deployments. Without `start`, Start() does that once the caller has wired what jobs use (the
  // S3 store): a job resumed at start-up may read s3:// data at once.
  static Result<std::unique_ptr<BedrockService>> Open(const ServiceConfig& config, bool start = true);
  void Start();
  // Where jobs read and write s3:// URIs (lathe serve's S3 store); null: s3:// is refused. Set
  // before Start(); it must outlive the job runner (destroying this service stops the runner).
  // Models made on workers, and a worker's checkpoints, go through it too (docs/scale-out.md).
  void set_object_store(JobObjectStore* objects) {
    job_locations_.set_object_store(objects);
    custom_models_->set_object_store(objects);
    jobs_->set_artifact_store(objects);
  }
  // What bounds a job's role (IAM's evaluation of its policies, installed by the server); empty:
  // nothing. Set before Start().
  void set_role_access(RoleAccess role_access) { job_locations_.set_role_access(std::move(role_access)); }

  const ServiceConfig& config() const { return config_; }
  ModelCatalog& catalog() { return *catalog_; }
  JobService& jobs() { return *jobs_; }
  EvaluationJobService& evaluations() { return *evaluations_; }
  CustomModelService& custom_models() { return *custom_models_; }
  ImportedModelService& imported_models() { return *imported_models_; }
  ModelImportJobService& import_jobs() { return *import_jobs_; }
  // Whether a custom or imported model must not be deleted now: served, the base of a job in
  // progress, or under evaluation.
  bool ModelInUse(const std::string& arn);
  ThroughputService& throughput() { return *throughput_; }
  DeploymentService& deployments() { return *deployments_; }
  ModelMemory& model_memory() { return *model_memory_; }
  RuntimeService& runtime() { return *runtime_; }
  // The metadata store, shared with the other services of `lathe serve` (IAM keeps its roles there).
  store::MetadataStore* store() { return db_.get(); }

  // ListFoundationModels (byProvider, byCustomizationType, byOutputModality, byInferenceType).
  // `region`: the request's, for the model ARNs ("" = the server's).
  Result<nlohmann::json> ListFoundationModels(const std::map<std::string, std::string>& query,
                                              const std::string& region = "");
  Result<nlohmann::json> GetFoundationModel(const std::string& id, const std::string& region = "");
  // Tags on jobs, custom models and provisioned throughput (NotFound for other ARNs). Each takes
  // its operation's request body ({"resourceARN", "tags"}, {"resourceARN", "tagKeys"},
  // {"resourceARN"}), checked against the service model (request_fields.h); ListTagsForResource
  // answers {"tags": [{"key", "value"}, ...]}.
  Status TagResource(const nlohmann::json& request);
  Status UntagResource(const nlohmann::json& request);
  Result<nlohmann::json> ListTagsForResource(const nlohmann::json& request);

 private:
  explicit BedrockService(ServiceConfig config)
      : config_(std::move(config)),
        locations_(config_.file_roots, config_.data_dir),
        job_locations_(config_.env, &locations_, nullptr) {}
 public:
  ~BedrockService();

 private:
  Status CheckTaggable(const std::string& arn);

  ServiceConfig config_;
  std::unique_ptr<store::MetadataStore> db_;
  std::unique_ptr<UsageMeter> usage_;  // on-demand tokens (`lathe costs`); flushed before db_ closes
  LocalDataLocations locations_;
  JobDataLocations job_locations_;  // locations_ for file://, the object store for s3://
  std::unique_ptr<ModelCatalog> catalog_;
  std::unique_ptr<ImportedModelService> imported_models_;
  std::unique_ptr<CustomModelService> custom_models_;
  std::unique_ptr<ModelMemory> model_memory_;  // what throughput_ and runtime_ load
  std::unique_ptr<ThroughputService> throughput_;
  std::unique_ptr<DeploymentService> deployments_;  // its follower drives throughput_'s alias following
  std::unique_ptr<RuntimeService> runtime_;
  std::unique_ptr<EvaluationJobService> evaluations_;  // its runner stops before the models it reads go
  std::unique_ptr<JobService> jobs_;
  std::unique_ptr<ModelImportJobService> import_jobs_;  // last: its runner stops first
  int lock_fd_ = -1;                  // flock on DATA_DIR/serve.lock
};

}  // namespace lathe::service
