// Provisioned throughput: a custom (or foundation) model loaded and kept ready with `modelUnits`
// concurrent generation slots. Create answers at once with status Creating; the model loads in
// the background and the status turns InService (or Failed, with the reason). Update swaps the
// model behind the same ARN without dropping requests: the old instances finish what they serve.
// Memory comes from ModelMemory: Create and Update are refused at once when the model units would
// not fit in the budget, and pools of the same model share its weights.
#pragma once

#include <atomic>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"
#include "service/custom_model_service.h"
#include "service/model_catalog.h"
#include "service/model_memory.h"
#include "service/model_pool.h"
#include "service/service_config.h"
#include "store/metadata_store.h"

namespace lathe::service {

inline constexpr const char* kThroughputKind = "provisioned-model";
// How often a served request writes "_lastInvokedMs" into the row (idle cleanup reads it).
inline constexpr int64_t kLastInvokedWriteIntervalMs = 60 * 1000;

class ThroughputService {
 public:
  ThroughputService(const ServiceConfig& config, store::MetadataStore* db, ModelCatalog* catalog,
                    CustomModelService* custom_models, ModelMemory* memory);
  ~ThroughputService();
  // Loads the models of every provisioned throughput left by an earlier server.
  void Start();

  // `region`: the request's, for the ARNs it mints ("" = the server's).
  Result<nlohmann::json> Create(const nlohmann::json& request, const std::string& region = "");  // {"provisionedModelArn"}
  Result<nlohmann::json> Get(const std::string& identifier);
  Result<nlohmann::json> List(const std::map<std::string, std::string>& query);
  Status Update(const std::string& identifier, const nlohmann::json& request);
  Status Delete(const std::string& identifier);

  // Whether a provisioned throughput serves (or is about to serve) this model ARN.
  bool Serves(const std::string& model_arn);
  // The pool behind a provisioned model ARN, id or name; NotFound when there is none, Throttled
  // (ModelNotReady) while it is still loading. A request served this way is a use: the row's
  // "_lastInvokedMs" is written, at most once per kLastInvokedWriteIntervalMs.
  Result<std::shared_ptr<ModelPool>> PoolFor(const std::string& identifier);

  // Loader threads not yet joined (finished ones are joined by the next Create or Update).
  size_t loader_threads();

 private:
  struct ModelRef {
    std::string arn, dir, local_id;  // dir empty: a foundation model resolved through the catalog
    std::string foundation_arn;
  };
  struct Loader {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;  // set by the thread once it no longer needs mu_
  };
  Result<ModelRef> ResolveModel(const std::string& model_id, const std::string& region = "");
  // The model's share of the memory budget for `units` slots, taken before anything loads.
  Result<std::shared_ptr<ModelMemory::Reservation>> ReserveMemory(const ModelRef& model, int units);
  void LoadInBackground(const std::string& id, ModelRef model, int units,
                        std::shared_ptr<ModelMemory::Reservation> reservation);
  // Loads, then installs the pool if this load is still the one wanted.
  void Load(const std::string& id, const ModelRef& model, int units,
            const std::shared_ptr<ModelMemory::Reservation>& reservation);
  void JoinFinishedLoaders();  // under mu_

  const ServiceConfig& config_;
  store::MetadataStore* db_;
  ModelCatalog* catalog_;
  CustomModelService* custom_models_;
  ModelMemory* memory_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<ModelPool>> pools_;  // by provisioned model id
  std::map<std::string, int64_t> last_invoked_written_;      // by id: when lastInvokedMs was last written
  std::list<Loader> loaders_;
};

}  // namespace lathe::service
