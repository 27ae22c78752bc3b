#include "service/runtime_service.h"

#include <chrono>
#include <optional>

#include "core/arn.h"
#include "service/field_rules.h"
#include "service/inference_metrics.h"
#include "service/runtime_formats.h"

namespace lathe::service {
namespace {

int64_t MillisSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
}

// Generates for one parsed request on a leased instance; *compute_ms: the generation's own time.
Result<engine::GenerationResult> Run(ModelPool& pool, const RuntimeRequest& request, int64_t* compute_ms) {
  auto lease = pool.Acquire();
  if (!lease.ok()) return lease.status();
  const engine::LanguageModel& model = lease->model();
  auto prompt = RenderPrompt(request, model.chat_template());
  if (!prompt.ok()) return prompt.status();
  auto ids = model.EncodePrompt(prompt->text, prompt->options);
  if (!ids.ok()) return ids.status();
  const auto start = std::chrono::steady_clock::now();
  // In the pool's shared batch when it batches (the same answer as alone).
  auto result = lease->Generate(*ids, prompt->options);
  *compute_ms = MillisSince(start);
  return result;
}

}  // namespace

struct RuntimeService::Generated {
  engine::GenerationResult result;
  std::vector<std::pair<std::string, std::string>> headers;  // a deployment's x-lathe-* headers
};

struct RuntimeService::Target {
  std::shared_ptr<ModelPool> pool;
  std::optional<DeploymentService::Routed> routed;  // set for a deployment
  std::string response_id;                          // a deployment's, named in the headers up front
  std::vector<std::pair<std::string, std::string>> headers;
  bool metered = false;  // an on-demand pool: its tokens are counted in usage_
};

Result<RuntimeService::Target> RuntimeService::Resolve(const std::string& model_id, const std::string& user_id,
                                                       bool quota_is_throttling) {
  Target target;
  if (deployments_) {
    auto routed = deployments_->Route(model_id, user_id);
    if (routed.ok()) {
      target.pool = routed->pool;
      target.response_id = NewResponseId();
      target.headers = {{"x-lathe-response-id", target.response_id},
                        {"x-lathe-variant", VariantName(routed->variant)},
                        {"x-lathe-served-model", routed->served}};
      target.routed = std::move(*routed);
      return target;
    }
    if (routed.status().code() != Status::Code::kNotFound) return routed.status();
  }
  bool provisioned = false;
  auto pool = PoolFor(model_id, &provisioned);
  if (!pool.ok()) {
    // Converse declares no ServiceQuotaExceededException (InvokeModel does): a model that does
    // not fit in memory now may once other models are deleted.
    if (quota_is_throttling && pool.status().code() == Status::Code::kQuotaExceeded)
      return Status::Throttled(pool.status().message());
    return pool.status();
  }
  target.pool = std::move(*pool);
  // Provisioned throughput is priced by the hours it is held, not per token: only the pools
  // PoolFor loaded on demand are counted (as PoolFor resolved them: not asked again).
  target.metered = !provisioned;
  return target;
}

void RuntimeService::Record(const Target& target, const std::string& model_id,
                            const Result<engine::GenerationResult>& result, int64_t compute_ms, int64_t latency_ms) {
  RecordInference(target.routed ? "deployment" : target.metered ? "on-demand" : "provisioned", result.ok(),
                  result.ok() ? result->prompt_tokens : 0,
                  result.ok() ? static_cast<int64_t>(result->tokens.size()) : 0, compute_ms, latency_ms);
  if (target.routed) {
    Outcome outcome;
    outcome.latency_ms = latency_ms;
    outcome.compute_ms = compute_ms;
    outcome.ok = result.ok();
    // The caller's mistakes are not the model's errors: counting them would let a caller
    // trigger a rollback (Outcome::caller_error).
    const Status::Code code = result.ok() ? Status::Code::kOk : result.status().code();
    outcome.caller_error = code == Status::Code::kInvalidArgument || code == Status::Code::kNotFound;
    outcome.throttled = code == Status::Code::kThrottled;
    if (result.ok()) {
      outcome.input_tokens = result->prompt_tokens;
      outcome.output_tokens = static_cast<int64_t>(result->tokens.size());
    }
    outcome.response_id = target.response_id;
    deployments_->Record(*target.routed, outcome);
  } else if (usage_ && target.metered && result.ok()) {
    usage_->RecordOnDemand(model_id, result->prompt_tokens, static_cast<int64_t>(result->tokens.size()), latency_ms);
  }
}

Result<RuntimeService::Generated> RuntimeService::Generate(const std::string& model_id, const RuntimeRequest& request,
                                                          const std::string& user_id, bool quota_is_throttling) {
  const auto start = std::chrono::steady_clock::now();
  auto target = Resolve(model_id, user_id, quota_is_throttling);
  if (!target.ok()) return target.status();
  int64_t compute_ms = 0;
  auto result = Run(*target->pool, request, &compute_ms);
  Record(*target, model_id, result, compute_ms, MillisSince(start));
  if (!result.ok()) return result.status();
  return Generated{std::move(*result), std::move(target->headers)};
}

void RuntimeService::DropOnDemand(const std::string& dir) {
  std::vector<std::shared_ptr<ModelPool>> dropped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // The folder's pools in every precision: keys are "dir|precision".
    const std::string prefix = dir + "|";
    for (auto it = on_demand_.lower_bound(prefix); it != on_demand_.end() && it->first.rfind(prefix, 0) == 0;) {
      dropped.push_back(std::move(it->second));
      it = on_demand_.erase(it);
    }
  }
  // `dropped` goes here, outside the lock: the last holder of a pool stops its workers.
}

Result<std::shared_ptr<ModelPool>> RuntimeService::PoolFor(const std::string& model_id, bool* provisioned) {
  *provisioned = true;
  if (ArnResource(model_id).rfind("provisioned-model/", 0) == 0) return throughput_->PoolFor(model_id);
  if (auto pool = throughput_->PoolFor(model_id); pool.ok() || pool.status().code() != Status::Code::kNotFound)
    return pool;  // a provisioned throughput's name or id
  *provisioned = false;
  std::string dir;
  engine::WeightPrecision precision = engine::WeightPrecision::kF32;
  auto cm = custom_models_->FindServable(model_id);
  if (cm.ok()) {
    dir = cm->doc.value("_dir", "");
    precision = WeightPrecisionFor(config_.weight_precision, {cm->arn});
  } else if (cm.status().code() != Status::Code::kNotFound) {
    // The model exists, but this node cannot get it now (its first use on this node fetches a
    // model made on a worker from the artifact bucket, and that failed; or the store failed): a
    // server-side failure the SDKs retry, not the caller's invalid identifier.
    return Status::Aws("ServiceUnavailableException", 503,
                       "Model " + model_id + " cannot be served now: " + cm.status().message(), Status::Code::kIOError);
  } else if (auto fm = catalog_->Find(model_id); fm.ok()) {
    auto d = catalog_->ReadyModelDir(fm->local_id);
    if (!d.ok()) return d.status();
    dir = *d;
    // The id the caller named (an alias) before the local model behind it, as ReserveServedModel.
    precision = WeightPrecisionFor(config_.weight_precision, {fm->id, fm->local_id});
  } else {
    return Status::InvalidArgument("The provided model identifier is invalid: " + model_id +
                                   " is not a foundation model id, custom model or provisioned throughput");
  }
  std::lock_guard<std::mutex> lock(mu_);  // loads happen once; other models wait briefly meanwhile
  auto& pool = on_demand_[dir + "|" + engine::WeightPrecisionName(precision)];
  if (!pool) {
    auto config = ReadModelConfig(dir);
    if (!config.ok()) return config.status();
    auto reservation = memory_->Reserve(dir, *config, config_.on_demand_slots, precision);
    if (!reservation.ok()) return reservation.status();  // ServiceQuotaExceededException
    auto loaded = memory_->LoadPool(*reservation, config_.on_demand_slots * config_.queue_per_slot);
    if (!loaded.ok()) return loaded.status();
    pool = *loaded;
  }
  return pool;
}

Result<RuntimeAnswer> RuntimeService::Invoke(const std::string& model_id, std::string_view body,
                                             const std::string& user_id) {
  LATHE_RETURN_IF_ERROR(CheckLength(model_id, "modelId", rules::kInvokeModelIdentifier));
  auto request = ParseInvokeBody(body);
  if (!request.ok()) return request.status();
  auto generated = Generate(model_id, *request, user_id, /*quota_is_throttling=*/false);
  if (!generated.ok()) return generated.status();
  return RuntimeAnswer{InvokeResponse(*request, generated->result, model_id, "msg_bdrk_" + NewResourceId(24)),
                       std::move(generated->headers)};
}

Result<RuntimeAnswer> RuntimeService::Converse(const std::string& model_id, std::string_view body,
                                               const std::string& user_id) {
  auto start = std::chrono::steady_clock::now();
  LATHE_RETURN_IF_ERROR(CheckLength(model_id, "modelId", rules::kConversationalModelId));
  auto request = ParseConverseBody(body);
  if (!request.ok()) return request.status();
  const std::string& user = request->user_id.empty() ? user_id : request->user_id;
  auto generated = Generate(model_id, *request, user, /*quota_is_throttling=*/true);
  if (!generated.ok()) return generated.status();
  return RuntimeAnswer{ConverseResponse(*request, generated->result, MillisSince(start)),
                       std::move(generated->headers)};
}

Result<std::unique_ptr<RuntimeStream>> RuntimeService::InvokeStream(const std::string& model_id, std::string_view body,
                                                                    const std::string& user_id) {
  LATHE_RETURN_IF_ERROR(CheckLength(model_id, "modelId", rules::kInvokeModelIdentifier));
  auto request = ParseInvokeBody(body);
  if (!request.ok()) return request.status();
  return StartStream(model_id, std::move(*request), user_id, /*quota_is_throttling=*/false);
}

Result<std::unique_ptr<RuntimeStream>> RuntimeService::ConverseStream(const std::string& model_id,
                                                                      std::string_view body,
                                                                      const std::string& user_id) {
  LATHE_RETURN_IF_ERROR(CheckLength(model_id, "modelId", rules::kConversationalModelId));
  auto request = ParseConverseBody(body);
  if (!request.ok()) return request.status();
  const std::string user = request->user_id.empty() ? user_id : request->user_id;
  return StartStream(model_id, std::move(*request), user, /*quota_is_throttling=*/true);
}

Result<std::unique_ptr<RuntimeStream>> RuntimeService::StartStream(const std::string& model_id, RuntimeRequest request,
                                                                   const std::string& user_id,
                                                                   bool quota_is_throttling) {
  const auto start = std::chrono::steady_clock::now();
  auto target = Resolve(model_id, user_id, quota_is_throttling);
  if (!target.ok()) return target.status();
  auto fail = [&](const Status& error) {
    Record(*target, model_id, error, 0, MillisSince(start));
    return error;
  };
  auto lease = target->pool->Acquire();
  if (!lease.ok()) return fail(lease.status());
  const engine::LanguageModel& model = lease->model();
  auto prompt = RenderPrompt(request, model.chat_template());
  if (!prompt.ok()) return fail(prompt.status());
  auto ids = model.EncodePrompt(prompt->text, prompt->options);
  if (!ids.ok()) return fail(ids.status());
  // What the engine would refuse, refused before the stream starts (the engine's words).
  if (ids->empty()) return fail(Status::InvalidArgument("a prompt has no tokens"));
  const int64_t context = model.config().max_position_embeddings;
  if (static_cast<int64_t>(ids->size()) >= context && prompt->options.max_tokens > 0)
    return fail(Status::InvalidArgument("the prompt has " + std::to_string(ids->size()) +
                                        " tokens; the model's context is " + std::to_string(context)));
  auto headers = target->headers;
  auto pool = target->pool;
  RuntimeStream::Recorder record = [this, target = std::move(*target), model_id](
                                       const Result<engine::GenerationResult>& result, int64_t compute_ms,
                                       int64_t latency_ms) { Record(target, model_id, result, compute_ms, latency_ms); };
  return std::make_unique<RuntimeStream>(std::move(request), std::move(pool), std::move(*lease), std::move(*ids),
                                         std::move(prompt->options), std::move(headers), std::move(record), start);
}

Result<RuntimeGeneration> RuntimeService::GenerateParsed(const std::string& model_id, const RuntimeRequest& request) {
  LATHE_RETURN_IF_ERROR(CheckLength(model_id, "modelId", rules::kConversationalModelId));
  auto generated = Generate(model_id, request, request.user_id, /*quota_is_throttling=*/true);
  if (!generated.ok()) return generated.status();
  return RuntimeGeneration{std::move(generated->result), std::move(generated->headers)};
}

Result<std::vector<float>> RuntimeService::Embed(const std::string& model_id, const std::string& text, int* tokens) {
  LATHE_RETURN_IF_ERROR(CheckLength(model_id, "modelId", rules::kConversationalModelId));
  auto target = Resolve(model_id, "", /*quota_is_throttling=*/true);
  if (!target.ok()) return target.status();
  auto lease = target->pool->Acquire();
  if (!lease.ok()) return lease.status();
  engine::LanguageModel& model = lease->model();
  engine::GenerationOptions options;
  options.add_bos = false;
  auto ids = model.EncodePrompt(text, options);
  if (!ids.ok()) return ids.status();
  if (ids->empty()) return Status::InvalidArgument("the input has no tokens");
  const int64_t context = model.config().max_position_embeddings;
  if (static_cast<int64_t>(ids->size()) > context)
    return Status::InvalidArgument("the input has " + std::to_string(ids->size()) + " tokens; the model's context is " +
                                   std::to_string(context));
  *tokens = static_cast<int>(ids->size());
  return model.Embed(*ids);
}

}  // namespace lathe::service
