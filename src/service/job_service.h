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
#include "service/model_catalog.h"
#include "service/service_config.h"
#include "service/worker_jobs.h"
#include "service/worker_process.h"
#include "store/metadata_store.h"

namespace lathe::service {

inline constexpr const char* kJobKind = "job";

class JobService {
 public:
  JobService(const ServiceConfig& config, store::MetadataStore* db, ModelCatalog* catalog,
             CustomModelService* custom_models, const DataLocations* locations);
  ~JobService();  // interrupts a running worker at its next step (it resumes on the next start)

  // Starts the runner thread: jobs left InProgress by an earlier server resume from their
  // checkpoint, jobs left Stopping become Stopped.
  void Start();

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
  std::thread runner_;
  std::function<bool(const std::string&)> role_exists_;
};

}  // namespace lathe::service
