// Provisioned throughput: a custom (or foundation) model loaded and kept ready with `modelUnits`
// concurrent generation slots. Create answers at once with status Creating; the model loads in
// the background and the status turns InService (or Failed, with the reason). Update swaps the
// model behind the same ARN without dropping requests: the old instances finish what they serve.
#pragma once

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
#include "service/model_pool.h"
#include "service/service_config.h"
#include "store/metadata_store.h"

namespace lathe::service {

inline constexpr const char* kThroughputKind = "provisioned-model";

class ThroughputService {
 public:
  ThroughputService(const ServiceConfig& config, store::MetadataStore* db, ModelCatalog* catalog,
                    CustomModelService* custom_models);
  ~ThroughputService();
  // Loads the models of every provisioned throughput left by an earlier server.
  void Start();

  Result<nlohmann::json> Create(const nlohmann::json& request);  // {"provisionedModelArn"}
  Result<nlohmann::json> Get(const std::string& identifier);
  Result<nlohmann::json> List(const std::map<std::string, std::string>& query);
  Status Update(const std::string& identifier, const nlohmann::json& request);
  Status Delete(const std::string& identifier);

  // Whether a provisioned throughput serves (or is about to serve) this model ARN.
  bool Serves(const std::string& model_arn);
  // The pool behind a provisioned model ARN, id or name; NotFound when there is none, Throttled
  // (ModelNotReady) while it is still loading.
  Result<std::shared_ptr<ModelPool>> PoolFor(const std::string& identifier);

 private:
  struct ModelRef {
    std::string arn, dir, local_id;  // dir empty: a foundation model resolved through the catalog
    std::string foundation_arn;
  };
  Result<ModelRef> ResolveModel(const std::string& model_id);
  void LoadInBackground(const std::string& id, ModelRef model, int units);

  const ServiceConfig& config_;
  store::MetadataStore* db_;
  ModelCatalog* catalog_;
  CustomModelService* custom_models_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<ModelPool>> pools_;  // by provisioned model id
  std::vector<std::thread> loaders_;
};

}  // namespace lathe::service
