// Provisioned throughput: a custom (or foundation) model loaded and kept ready with `modelUnits`
// concurrent generation slots. Create answers at once with status Creating; the model loads in
// the background and the status turns InService (or Failed, with the reason). Update swaps the
// model behind the same ARN without dropping requests: the old instances finish what they serve.
// Memory comes from ModelMemory: Create and Update are refused at once when the model units would
// not fit in the budget, and pools of the same model share its weights.
// lathe extension (docs/compatibility.md): modelId may be a model registry reference
// (model_reference.h); one on an alias is followed (FollowAliases, driven by DeploymentService's
// follower thread): when the alias moves, the new version loads and replaces the old one through
// the same path as Update, without dropping a request.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/status.h"
#include "service/custom_model_service.h"
#include "service/model_catalog.h"
#include "service/model_memory.h"
#include "service/model_pool.h"
#include "service/model_reference.h"
#include "service/served_model.h"
#include "service/service_config.h"
#include "store/metadata_store.h"

namespace lathe::service {

inline constexpr const char* kThroughputKind = "provisioned-model";

class ThroughputService {
 public:
  ThroughputService(const ServiceConfig& config, store::MetadataStore* db, ModelCatalog* catalog,
                    CustomModelService* custom_models, ModelMemory* memory);
  ~ThroughputService();
  // Registry references (model_reference.h) resolve through it; without one they are refused.
  void set_resolver(ModelResolver resolver) { resolver_ = std::move(resolver); }
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
  // (ModelNotReady) while it is still loading.
  Result<std::shared_ptr<ModelPool>> PoolFor(const std::string& identifier);

  // Loader threads not yet joined (finished ones are joined by the next Create or Update).
  size_t loader_threads() { return loaders_.running(); }

  // Resolves every throughput created on a registry alias; one whose alias points elsewhere
  // starts loading the new version (as Update does). A version that does not fit in the memory
  // budget is retried at the next call; the old one serves meanwhile.
  void FollowAliases();

 private:
  using ModelRef = ServedModel;
  // A registry reference resolved (through resolver_), or a custom or foundation model.
  struct Target {
    ModelRef model;
    std::string reference, version;  // reference "" unless modelId was a registry reference
    bool follows = false;
  };
  Result<Target> ResolveModel(const std::string& model_id, const std::string& region = "");
  // The model's share of the memory budget for `units` slots, taken before anything loads.
  Result<std::shared_ptr<ModelMemory::Reservation>> ReserveMemory(const ModelRef& model, int units);
  // Points the row at `target` (status Updating) and loads it in the background.
  Status Retarget(store::ResourceRow row, const Target& target,
                  std::shared_ptr<ModelMemory::Reservation> reservation);
  void LoadInBackground(const std::string& id, ModelRef model, int units,
                        std::shared_ptr<ModelMemory::Reservation> reservation);
  // Loads, then installs the pool if this load is still the one wanted.
  void Load(const std::string& id, const ModelRef& model, int units,
            const std::shared_ptr<ModelMemory::Reservation>& reservation);

  const ServiceConfig& config_;
  store::MetadataStore* db_;
  ModelCatalog* catalog_;
  CustomModelService* custom_models_;
  ModelMemory* memory_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<ModelPool>> pools_;  // by provisioned model id
  ModelResolver resolver_;
  LoaderThreads loaders_;  // last: joined before the members its threads use go
};

}  // namespace lathe::service
