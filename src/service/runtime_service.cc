#include "service/runtime_service.h"

#include <chrono>

#include "core/arn.h"
#include "service/field_rules.h"
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
  engine::LanguageModel& model = lease->model();
  auto prompt = RenderPrompt(request, model.chat_template());
  if (!prompt.ok()) return prompt.status();
  const auto start = std::chrono::steady_clock::now();
  auto results = model.Generate({prompt->text}, prompt->options);
  *compute_ms = MillisSince(start);
  if (!results.ok()) return results.status();
  return std::move((*results)[0]);
}

}  // namespace

struct RuntimeService::Generated {
  engine::GenerationResult result;
  std::vector<std::pair<std::string, std::string>> headers;  // a deployment's x-lathe-* headers
};

Result<RuntimeService::Generated> RuntimeService::Generate(const std::string& model_id, const RuntimeRequest& request,
                                                          const std::string& user_id, bool quota_is_throttling) {
  const auto start = std::chrono::steady_clock::now();
  if (deployments_) {
    auto routed = deployments_->Route(model_id, user_id);
    if (routed.ok()) {
      int64_t compute_ms = 0;
      auto result = Run(*routed->pool, request, &compute_ms);
      Outcome outcome;
      outcome.latency_ms = MillisSince(start);
      outcome.compute_ms = compute_ms;
      outcome.ok = result.ok();
      // The caller's mistakes are not the model's errors: counting them would let a caller
      // trigger a rollback (Outcome::caller_error).
      const Status::Code code = result.ok() ? Status::Code::kOk : result.status().code();
      outcome.caller_error = code == Status::Code::kInvalidArgument || code == Status::Code::kNotFound;
      outcome.throttled = !result.ok() && result.status().code() == Status::Code::kThrottled;
      if (result.ok()) {
        outcome.input_tokens = result->prompt_tokens;
        outcome.output_tokens = static_cast<int64_t>(result->tokens.size());
      }
      const std::string response_id = deployments_->Record(*routed, outcome);
      if (!result.ok()) return result.status();
      return Generated{std::move(*result),
                       {{"x-lathe-response-id", response_id},
                        {"x-lathe-variant", VariantName(routed->variant)},
                        {"x-lathe-served-model", routed->served}}};
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
  int64_t compute_ms = 0;
  auto result = Run(**pool, request, &compute_ms);
  if (!result.ok()) return result.status();
  // Provisioned throughput is priced by the hours it is held, not per token: only the pools
  // PoolFor loaded on demand are counted (as PoolFor resolved them: not asked again).
  if (usage_ && !provisioned)
    usage_->RecordOnDemand(model_id, result->prompt_tokens, static_cast<int64_t>(result->tokens.size()),
                           MillisSince(start));
  return Generated{std::move(*result), {}};
}

void RuntimeService::DropOnDemand(const std::string& dir) {
  std::shared_ptr<ModelPool> dropped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = on_demand_.find(dir);
    if (it == on_demand_.end()) return;
    dropped = std::move(it->second);
    on_demand_.erase(it);
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
  if (auto cm = custom_models_->FindServable(model_id); cm.ok()) {
    dir = cm->doc.value("_dir", "");
  } else if (auto fm = catalog_->Find(model_id); fm.ok()) {
    auto d = catalog_->ReadyModelDir(fm->local_id);
    if (!d.ok()) return d.status();
    dir = *d;
  } else {
    return Status::InvalidArgument("The provided model identifier is invalid: " + model_id +
                                   " is not a foundation model id, custom model or provisioned throughput");
  }
  std::lock_guard<std::mutex> lock(mu_);  // loads happen once; other models wait briefly meanwhile
  auto& pool = on_demand_[dir];
  if (!pool) {
    auto config = ReadModelConfig(dir);
    if (!config.ok()) return config.status();
    auto reservation = memory_->Reserve(dir, *config, config_.on_demand_slots);
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

Result<RuntimeGeneration> RuntimeService::GenerateParsed(const std::string& model_id, const RuntimeRequest& request) {
  LATHE_RETURN_IF_ERROR(CheckLength(model_id, "modelId", rules::kConversationalModelId));
  auto generated = Generate(model_id, request, request.user_id, /*quota_is_throttling=*/true);
  if (!generated.ok()) return generated.status();
  return RuntimeGeneration{std::move(generated->result), std::move(generated->headers)};
}

}  // namespace lathe::service
