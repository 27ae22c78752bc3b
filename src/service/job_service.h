// Model customization jobs: CreateModelCustomizationJob / Get / List / Stop with Bedrock's
// shapes and rules, and the runner that trains them one at a time in a worker process
// (`lathe train`), resuming InProgress jobs after a restart.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>

#include "core/status.h"
#include "data/validator.h"
#include "service/custom_model_service.h"
#include "service/data_locations.h"
#include "service/job_artifacts.h"
#include "service/model_catalog.h"
#include "service/service_config.h"
#include "service/worker_jobs.h"
#include "service/work_claims.h"
#include "service/worker_process.h"
#include "store/metadata_store.h"
#include "store/work_leases.h"

namespace lathe::service {

inline constexpr const char* kJobKind = "job";
// A fine-tuning job's kind among the store's work items (store/work_leases.h), which `lathe
// worker`s claim when the jobs run on workers (docs/scale-out.md).
inline constexpr const char* kJobWorkKind = "fine-tuning-job";

class JobService {
 public:
  JobService(const ServiceConfig& config, store::MetadataStore* db, ModelCatalog* catalog,
             CustomModelService* custom_models, const DataLocations* locations);
  ~JobService();  // interrupts a running worker at its next step (it resumes on the next start)

  // Starts the runner thread: jobs left InProgress by an earlier server resume from their
  // checkpoint, jobs left Stopping become Stopped. Where the config puts jobs on workers
  // (docs/scale-out.md), the thread instead keeps every job in progress queued for them (an API
  // node), or claims and runs them (a `lathe worker`).
  void Start();
  // A worker's store for the artifact bucket: checkpoints and models go there (set before Start).
  void set_artifact_store(JobObjectStore* objects);

  // `region`: the request's, for the ARNs it mints ("" = the server's).
  Result<nlohmann::json> Create(const nlohmann::json& request, const std::string& region = "");  // {"jobArn"}
  Result<nlohmann::json> Get(const std::string& identifier);
  // Query parameters as strings: statusEquals, nameContains, creationTimeAfter/Before, sortBy,
  // sortOrder, maxResults, nextToken.
  Result<nlohmann::json> List(const std::map<std::string, std::string>& query);
  Status Stop(const std::string& identifier);
  // Whether a role ARN names an existing IAM role; asked when strictRoles is set. The IAM service
  // lives above this layer, so `lathe serve` wires it in.
  void set_role_checker(std::function<bool(const std::string& role_arn)> exists) { role_exists_ = std::move(exists); }
  // Whether a job in progress or queued customizes this model further (it must not be deleted).
  bool UsesBaseModel(const std::string& model_arn);

 private:
  void RunLoop();
  // Scale-out (job_claims.cc, over work_claims.h): an API node's loop that queues every job in
  // progress for the workers; a worker's loop that claims one and runs it while a LeaseKeeper
  // keeps its lease and watches for a Stop, and a thread uploads its checkpoints.
  void RunQueueSweeper();
  void RunClaimLoop();
  void RunClaimed(store::Lease lease);
  void UploadCheckpoints(const std::string& job_id, const std::atomic<bool>& done, int64_t* uploaded);
  Status Enqueue(const store::ResourceRow& job);
  // A worker's save: never over a Stop or an end another node wrote, never once its lease is lost.
  Status SaveClaimedLocked(const store::ResourceRow& copy);
  // The API node's Stop of a job that runs (or waits) on a worker.
  Status StopOnWorkerLocked(store::ResourceRow* row);
  bool placed(ServiceConfig::JobPlacement p) const { return config_.job_placement == p; }
  bool LeaseLost();
  bool LeaseLostLocked() const { return keeper_ && keeper_->lost(); }
  void RunJob(store::ResourceRow& job);
  // Waits for a worker to end. A Stop of the job, or the server shutting down, interrupts it
  // (SIGINT, then SIGKILL after 4 s); `every_second` runs meanwhile. Returns whether the server is
  // shutting down.
  bool SuperviseWorker(WorkerProcess* worker, const std::function<bool()>& stop_requested,
                       const std::function<void()>& every_second);
  // A job's inputs as local files: `local` is read, `source` (the URI as stored) is what messages
  // name. The training data comes first.
  struct LocalInput {
    std::string local, source;
    data::Purpose purpose;
  };
  struct LocalData {
    std::vector<LocalInput> files;
  };
  Result<LocalData> FetchData(const store::ResourceRow& job, const std::string& work);
  Status ValidateData(const store::ResourceRow& job, const LocalData& data);
  void Finish(store::ResourceRow* job, const std::string& status, const std::string& failure);
  void FinishLocked(store::ResourceRow* job, const std::string& status, const std::string& failure);
  void RefreshMetrics(store::ResourceRow* job);
  // Every status write holds mu_ (Save takes it; *Locked expect it held).
  Status Save(const store::ResourceRow& job);
  Status SaveLocked(const store::ResourceRow& job);
  nlohmann::json Public(const store::ResourceRow& job) const;
  // The "Model Customization Job State Change" event for the job as it now is.
  store::OutboxEvent StateChangeEvent(const store::ResourceRow& job) const;
  // statusDetails entries: {"status", "creationTime", "lastModifiedTime"}.
  static nlohmann::json NewPhase(const std::string& status);
  static void SetPhase(nlohmann::json* doc, const char* phase, const std::string& status);

  const ServiceConfig& config_;
  store::MetadataStore* db_;
  ModelCatalog* catalog_;
  CustomModelService* custom_models_;
  const DataLocations* locations_;

  std::mutex mu_;
  std::condition_variable wake_;
  std::set<std::string> stop_requested_;  // job ids
  std::string running_id_;                // the job the runner has taken, "" when idle
  // Jobs whose end (Completed, Failed, Stopped) could not be saved (the disk is full): kept here
  // and saved again by the runner until it works, and never run again meanwhile.
  UnsavedEnds unsaved_ends_;
  bool shutting_down_ = false;
  // Scale-out: the shared queue, and the lease a worker holds (the pointer under mu_).
  store::WorkLeases leases_;
  std::unique_ptr<JobArtifacts> artifacts_;
  std::unique_ptr<LeaseKeeper> keeper_;
  std::thread runner_;
  std::function<bool(const std::string&)> role_exists_;
};

}  // namespace lathe::service
