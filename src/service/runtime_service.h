// Bedrock Runtime: InvokeModel (Titan text and Anthropic messages bodies) and Converse on a
// foundation model id or alias (on demand), a custom model, or a provisioned throughput.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/status.h"
#include "service/custom_model_service.h"
#include "service/model_catalog.h"
#include "service/model_memory.h"
#include "service/model_pool.h"
#include "service/runtime_formats.h"
#include "service/throughput_service.h"
#include "service/usage_meter.h"

namespace lathe::service {

class RuntimeService {
 public:
  RuntimeService(const ServiceConfig& config, ModelCatalog* catalog, CustomModelService* custom_models,
                 ThroughputService* throughput, ModelMemory* memory)
      : config_(config), catalog_(catalog), custom_models_(custom_models), throughput_(throughput), memory_(memory) {}

  Result<nlohmann::json> Invoke(const std::string& model_id, std::string_view body);
  Result<nlohmann::json> Converse(const std::string& model_id, std::string_view body);
  // Where on-demand requests' tokens are counted (`lathe costs`); null: nowhere.
  void set_usage_meter(UsageMeter* meter) { usage_ = meter; }

 private:
  // The pool that serves model_id, loading an on-demand one on first use; *provisioned says
  // whether it resolved through a provisioned throughput.
  Result<std::shared_ptr<ModelPool>> PoolFor(const std::string& model_id, bool* provisioned);
  // Generates for one request on `pool`; counts it in usage_ unless the pool is a provisioned one.
  Result<engine::GenerationResult> RunMetered(const std::string& model_id, ModelPool& pool,
                                              const RuntimeRequest& request, bool provisioned);

  const ServiceConfig& config_;
  ModelCatalog* catalog_;
  CustomModelService* custom_models_;
  ThroughputService* throughput_;
  ModelMemory* memory_;  // on-demand pools share the budget (and weights) with provisioned ones
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<ModelPool>> on_demand_;  // by model directory
  UsageMeter* usage_ = nullptr;
};

}  // namespace lathe::service
