// Bedrock's model evaluation jobs: CreateEvaluationJob / GetEvaluationJob / ListEvaluationJobs /
// StopEvaluationJob / BatchDeleteEvaluationJob with Bedrock's shapes and rules
// (evaluation_request.h says what lathe runs of a request), and the runner that runs them one at
// a time as `lathe eval run` in a worker process, like fine-tuning jobs: the dataset fetched into
// the job's folder (JobDataLocations: s3:// or file://), checked case by case, answered by each
// model, scored and compared; the results published in Bedrock's layout (evaluation_output.h).
// Jobs left InProgress by an earlier server run again from the start on the next one (a run is
// deterministic: same cases, settings and seed); Stopping ones become Stopped.
//
// Statuses: InProgress -> Completed | Failed | Stopping -> Stopped; Deleting (BatchDelete) while
// the job's row and folder are removed.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "service/custom_model_service.h"
#include "service/data_locations.h"
#include "service/model_catalog.h"
#include "service/service_config.h"
#include "service/worker_jobs.h"
#include "service/work_claims.h"
#include "service/worker_process.h"
#include "store/metadata_store.h"

namespace lathe::service {

inline constexpr const char* kEvaluationJobKind = "evaluation-job";
// Its kind among the store's work items, which `lathe worker`s claim when jobs run on workers.
inline constexpr const char* kEvaluationWorkKind = "evaluation-job";
inline constexpr size_t kMaxFailureMessages = 20;        // ErrorMessages max
inline constexpr size_t kMaxFailureMessageBytes = 2048;  // ErrorMessage max
inline constexpr int kEvaluationSeed = 0;                // generation and bootstrap seed of every job

class EvaluationJobService {
 public:
  EvaluationJobService(const ServiceConfig& config, store::MetadataStore* db, ModelCatalog* catalog,
                       CustomModelService* custom_models, const DataLocations* locations);
  ~EvaluationJobService();  // interrupts a running worker (the job runs again on the next start)

  void Start();

  // {"jobArn"}; `region`: the request's, for the ARN ("" = the server's).
  Result<nlohmann::json> Create(const nlohmann::json& request, const std::string& region = "");
  Result<nlohmann::json> Get(const std::string& identifier);
  // Query parameters as strings: statusEquals, applicationTypeEquals, nameContains,
  // creationTimeAfter/Before, sortBy, sortOrder, maxResults, nextToken.
  Result<nlohmann::json> List(const std::map<std::string, std::string>& query);
  Status Stop(const std::string& identifier);
  // {"jobIdentifiers": [...]} -> {"errors": [...], "evaluationJobs": [{jobIdentifier, jobStatus}]}.
  Result<nlohmann::json> BatchDelete(const nlohmann::json& request);
  void set_role_checker(std::function<bool(const std::string& role_arn)> exists) { role_exists_ = std::move(exists); }

  // Whether a job in progress or queued evaluates this model ARN (a custom model must not be
  // deleted under it).
  bool UsesModel(const std::string& model_arn);
  // For the pipeline's evaluate-finetuned-model: the job's status, failureMessages, and once
  // Completed its "summary" (evaluation_output.h's EvaluationSummary) and "reportUri" (where
  // report.json went).
  Result<nlohmann::json> Results(const std::string& identifier);

 private:
  // {"jobArn"} when the job `job_id` (an id or name) was created with `token`, {} when not; a
  // ValidationException when the token came with another request.
  Result<nlohmann::json> TokenJob(const std::string& job_id, const std::string& token, const std::string& request_hash);
  void RemoveAllTags(const std::string& arn);
  Result<nlohmann::json> ResolveModel(const std::string& identifier, const std::string& region);
  void RunLoop();
  void RunJob(store::ResourceRow& job);
  // Scale-out (evaluation_claims.cc, over work_claims.h): an API node keeps every job in progress
  // queued for the workers; a worker claims one at a time and runs it while a LeaseKeeper keeps
  // its lease (a job taken over is run again from the start: runs are deterministic).
  void RunQueueSweeper();
  void RunClaimed(store::Lease lease);
  bool placed(ServiceConfig::JobPlacement p) const { return config_.job_placement == p; }
  // The API node's Stop of a job on (or waiting for) a worker.
  Status StopOnWorkerLocked(store::ResourceRow* row);
  Status SaveClaimedLocked(const store::ResourceRow& copy);
  // Runs `argv` in a worker until it ends; a Stop or the shutdown interrupts it (SIGINT, SIGKILL
  // after 4 s). `every_second` runs meanwhile. Returns whether the server is shutting down.
  bool Supervise(WorkerProcess* worker, const std::string& id, const std::function<void()>& every_second);
  bool StopRequested(const std::string& id);
  bool ShuttingDown();
  // The directory of a model the job resolved at Create (building the default model if needed).
  Result<std::string> ModelDir(const nlohmann::json& model, const std::string& work, const std::string& id);
  void Finish(store::ResourceRow* job, const std::string& status, const std::vector<std::string>& failures);
  Status Save(const store::ResourceRow& job);
  Status SaveLocked(const store::ResourceRow& job);
  Result<store::ResourceRow> FindJob(const std::string& identifier);

  const ServiceConfig& config_;
  store::MetadataStore* db_;
  ModelCatalog* catalog_;
  CustomModelService* custom_models_;
  const DataLocations* locations_;

  std::mutex mu_;
  std::condition_variable wake_;
  std::set<std::string> stop_requested_;
  std::string running_id_;
  UnsavedEnds unsaved_ends_;  // ended jobs whose rows still say InProgress: never picked again
  bool shutting_down_ = false;
  store::WorkLeases leases_;
  std::unique_ptr<LeaseKeeper> keeper_;  // a worker's lease on the job it runs (under mu_)
  std::thread runner_;
  std::function<bool(const std::string&)> role_exists_;
};

}  // namespace lathe::service
