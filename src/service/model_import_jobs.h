// Bedrock's model import jobs: CreateModelImportJob / GetModelImportJob / ListModelImportJobs.
// What can be checked from the request alone is answered at once (ValidationException,
// ConflictException, ServiceQuotaExceededException); the folder is fetched and checked by a
// runner thread, one job at a time, and the job ends Completed (with its importedModelArn) or
// Failed with a failureMessage naming what is missing or unsupported. A job in progress when the
// server stopped runs again from the start at the next start-up.
//
// modelDataSource.s3DataSource.s3Uri: an s3:// folder of lathe's S3 store (read as the caller's
// account, as jobs read training data), or lathe's extension, a file:// folder under fileRoots
// (each file is checked as jobs' file:// data is: service/data_locations.h).
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "core/status.h"
#include "service/imported_models.h"
#include "service/job_data_locations.h"
#include "service/service_config.h"
#include "store/metadata_store.h"

namespace lathe::service {

class ModelImportJobService {
 public:
  // All outlive this; `locations` gives the S3 store (may be null: s3:// fails the job) and the
  // file:// rules.
  ModelImportJobService(const ServiceConfig& config, store::MetadataStore* db, ImportedModelService* models,
                        const JobDataLocations* locations);
  // Stops the import in progress (between files, and within a local file's copy) and drops the
  // queue; the interrupted job stays InProgress, so the next start runs it again.
  ~ModelImportJobService();

  // Queues the jobs a stopped server left InProgress and starts the runner.
  void Start();

  // Under strictRoles, Create refuses a roleArn for which `exists` is false (ValidationException),
  // as customization and evaluation jobs do.
  void set_role_checker(std::function<bool(const std::string& role_arn)> exists) { role_exists_ = std::move(exists); }

  Result<nlohmann::json> Create(const nlohmann::json& request, const std::string& region);
  Result<nlohmann::json> Get(const std::string& identifier);
  Result<nlohmann::json> List(const std::map<std::string, std::string>& query);

 private:
  void RunLoop();
  void Run(const std::string& job_id);
  FetchFile FetcherFor(const std::string& uri, const std::string& account, Status* setup) const;

  const ServiceConfig& config_;
  store::MetadataStore* db_;
  ImportedModelService* models_;
  const JobDataLocations* locations_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::string> queue_;  // job ids
  bool stopping_ = false;
  std::atomic<bool> stop_{false};  // read by the import in progress
  std::thread runner_;
  std::function<bool(const std::string&)> role_exists_;
};

}  // namespace lathe::service
