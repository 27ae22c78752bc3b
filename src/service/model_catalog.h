// Foundation models: the built-in default, local models from the config, and the Bedrock model
// ids users bring, each resolving to a local model directory.
#pragma once

#include <atomic>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"
#include "engine/default_model.h"
#include "engine/model_config.h"
#include "service/service_config.h"

namespace lathe::service {

// A local model's directory and architecture, known without building it.
struct PlannedModel {
  std::string dir;
  engine::ModelConfig config;
};

struct FoundationModel {
  std::string id;        // what clients name: "lathe.default-v1", "amazon.titan-text-express-v1"
  std::string name;      // modelName
  std::string provider;  // providerName
  std::string local_id;  // the local model that serves it (== id unless an alias)
};

class ModelCatalog {
 public:
  explicit ModelCatalog(const ServiceConfig& config);
  ~ModelCatalog();

  std::vector<FoundationModel> List() const;
  // By id or foundation-model ARN; NotFound otherwise.
  Result<FoundationModel> Find(const std::string& id_or_arn) const;
  // `region`: the request's ("" = the server's).
  std::string Arn(const std::string& id, const std::string& region = "") const;  // arn:aws:bedrock:<region>::foundation-model/<id>
  // The directory of a local model; the built-in default is built on first use (minutes).
  Result<std::string> ModelDir(const std::string& local_id);
  // The same for a request that must not wait minutes: while the default model is still to be
  // built, starts building it in the background and answers Throttled, saying how far the build
  // is and about how long it has left.
  Result<std::string> ReadyModelDir(const std::string& local_id);
  // `lathe serve` at start-up: builds the built-in default model in the background when it is
  // needed (not mapped to a model of the config) and missing. Progress goes to the log and to the
  // data directory's progress file (`lathe models status`).
  void StartBuildingDefault();
  // Shutting down: a build in progress stops at its next step (it resumes at the next start) and
  // calls waiting for it answer at once.
  void RequestStop() { stopping_ = true; }
  // Where a local model is and what its config.json says, without building anything: for the
  // built-in default model before its first build, where it will be and the architecture it will
  // have. What memory serving it needs is known before committing to serve it.
  Result<PlannedModel> Plan(const std::string& local_id) const;
  // FoundationModelSummary / FoundationModelDetails, plus lathe's "hyperParameters" ranges.
  nlohmann::json Describe(const FoundationModel& m, const std::string& region = "") const;

 private:
  const ServiceConfig& config_;
  std::mutex build_mu_;  // one default-model build at a time
  std::atomic<bool> stopping_{false};  // the destructor stops a build in progress
  // Under background_mu_: starts the background build unless it runs.
  void LaunchBackgroundBuildLocked();
  std::mutex background_mu_;  // guards the five below
  std::thread background_build_;
  engine::DefaultModelProgress progress_;  // the background build's newest
  bool background_done_ = false;
  Status background_status_;
  std::string built_dir_;  // the default model's directory once known to be built
};

}  // namespace lathe::service
