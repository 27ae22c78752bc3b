// Bedrock Runtime: InvokeModel (Titan text and Anthropic messages bodies) and Converse on a
// foundation model id or alias (on demand), a custom model, a provisioned throughput, or a custom
// model deployment (its ARN, id or name). A deployment's answers carry lathe's headers
// (docs/compatibility.md): x-lathe-response-id (what feedback names), x-lathe-variant
// (champion | challenger) and x-lathe-served-model ("<group>/<version>" or the model ARN).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "service/custom_model_service.h"
#include "service/deployment_service.h"
#include "service/model_catalog.h"
#include "service/model_memory.h"
#include "service/model_pool.h"
#include "service/runtime_formats.h"
#include "service/runtime_stream.h"
#include "service/throughput_service.h"
#include "service/usage_meter.h"

namespace lathe::service {

// A runtime answer: the body, and the headers it goes with.
struct RuntimeAnswer {
  nlohmann::json body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// A generation for a request parsed already, and the headers it goes with.
struct RuntimeGeneration {
  engine::GenerationResult result;
  std::vector<std::pair<std::string, std::string>> headers;
};

class RuntimeService {
 public:
  RuntimeService(const ServiceConfig& config, ModelCatalog* catalog, CustomModelService* custom_models,
                 ThroughputService* throughput, ModelMemory* memory)
      : config_(config), catalog_(catalog), custom_models_(custom_models), throughput_(throughput), memory_(memory) {}

  // Deployments are tried first; null: none (tools, tests).
  void set_deployments(DeploymentService* deployments) { deployments_ = deployments; }

  // user_id: the sticky-routing key for a deployment's traffic split (InvokeModel's
  // x-lathe-user-id header; Converse's requestMetadata.userId wins over it).
  Result<RuntimeAnswer> Invoke(const std::string& model_id, std::string_view body, const std::string& user_id = "");
  Result<RuntimeAnswer> Converse(const std::string& model_id, std::string_view body, const std::string& user_id = "");

  // Streaming (runtime_stream.h): everything Invoke / Converse check, route and wait for happens
  // in these calls, with the same errors; the stream they return generates when run. For another
  // wire's body, parse it into a RuntimeRequest and call StartStream (quota_is_throttling: a
  // model that does not fit in memory is a ThrottlingException, as Converse answers, instead of
  // ServiceQuotaExceededException). The service must outlive the streams it returns.
  Result<std::unique_ptr<RuntimeStream>> InvokeStream(const std::string& model_id, std::string_view body,
                                                      const std::string& user_id = "");
  Result<std::unique_ptr<RuntimeStream>> ConverseStream(const std::string& model_id, std::string_view body,
                                                        const std::string& user_id = "");
  Result<std::unique_ptr<RuntimeStream>> StartStream(const std::string& model_id, RuntimeRequest request,
                                                     const std::string& user_id, bool quota_is_throttling);
  // Where on-demand requests' tokens are counted (`lathe costs`); null: nowhere.
  void set_usage_meter(UsageMeter* meter) { usage_ = meter; }
  // Forgets the on-demand pool of the model in `dir` (a deleted model): its share of
  // modelMemoryBytes is given back once the requests still running on it end.
  void DropOnDemand(const std::string& dir);
  // A request parsed already (the OpenAI-compatible wire converts its bodies to Converse's and
  // Titan's neutral form): generated on whatever model_id names, resolved and counted as Converse's.
  Result<RuntimeGeneration> GenerateParsed(const std::string& model_id, const RuntimeRequest& request);
  // Mean-pooled last hidden states of `text` (no BOS, no chat template) on a slot of the model
  // model_id names, as Converse resolves it; *tokens: how many it had. OpenAI's /v1/embeddings.
  Result<std::vector<float>> Embed(const std::string& model_id, const std::string& text, int* tokens);

 private:
  struct Generated;
  struct Target;
  // Parsed request -> generation on the deployment or pool model_id names, recorded in the
  // deployment's stats when it is one, in usage_ when it is an on-demand pool.
  Result<Generated> Generate(const std::string& model_id, const RuntimeRequest& request,
                             const std::string& user_id, bool quota_is_throttling);
  // Where model_id's request runs: a deployment (routed by user_id) or a pool.
  Result<Target> Resolve(const std::string& model_id, const std::string& user_id, bool quota_is_throttling);
  // Counts one request's outcome where it ran (Generate and streams alike).
  void Record(const Target& target, const std::string& model_id, const Result<engine::GenerationResult>& result,
              int64_t compute_ms, int64_t latency_ms);
  // The pool that serves model_id, loading an on-demand one on first use; *provisioned says
  // whether it resolved through a provisioned throughput.
  Result<std::shared_ptr<ModelPool>> PoolFor(const std::string& model_id, bool* provisioned);

  const ServiceConfig& config_;
  ModelCatalog* catalog_;
  CustomModelService* custom_models_;
  ThroughputService* throughput_;
  DeploymentService* deployments_ = nullptr;
  UsageMeter* usage_ = nullptr;
  ModelMemory* memory_;  // on-demand pools share the budget (and weights) with provisioned ones
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<ModelPool>> on_demand_;  // by "model directory|weight precision"
};

}  // namespace lathe::service
