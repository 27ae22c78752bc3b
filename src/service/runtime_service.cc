#include "service/runtime_service.h"

#include <chrono>

#include "core/arn.h"
#include "service/field_rules.h"
#include "service/runtime_formats.h"

namespace lathe::service {
namespace {

// Generates for one parsed request on a leased instance.
Result<engine::GenerationResult> Run(ModelPool& pool, const RuntimeRequest& request) {
  auto lease = pool.Acquire();
  if (!lease.ok()) return lease.status();
  engine::LanguageModel& model = lease->model();
  auto prompt = RenderPrompt(request, model.chat_template());
  if (!prompt.ok()) return prompt.status();
  auto results = model.Generate({prompt->text}, prompt->options);
  if (!results.ok()) return results.status();
  return std::move((*results)[0]);
}

}  // namespace

Result<std::shared_ptr<ModelPool>> RuntimeService::PoolFor(const std::string& model_id, bool* provisioned) {
  *provisioned = true;
  if (ArnResource(model_id).rfind("provisioned-model/", 0) == 0) return throughput_->PoolFor(model_id);
  if (auto pool = throughput_->PoolFor(model_id); pool.ok() || pool.status().code() != Status::Code::kNotFound)
    return pool;  // a provisioned throughput's name or id
  *provisioned = false;
  std::string dir;
  if (auto cm = custom_models_->Find(model_id); cm.ok()) {
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

Result<nlohmann::json> RuntimeService::Invoke(const std::string& model_id, std::string_view body) {
  LATHE_RETURN_IF_ERROR(CheckLength(model_id, "modelId", rules::kInvokeModelIdentifier));
  auto request = ParseInvokeBody(body);
  if (!request.ok()) return request.status();
  bool provisioned = false;
  auto pool = PoolFor(model_id, &provisioned);
  if (!pool.ok()) return pool.status();
  auto result = RunMetered(model_id, **pool, *request, provisioned);
  if (!result.ok()) return result.status();
  return InvokeResponse(*request, *result, model_id, "msg_bdrk_" + NewResourceId(24));
}

Result<nlohmann::json> RuntimeService::Converse(const std::string& model_id, std::string_view body) {
  auto start = std::chrono::steady_clock::now();
  LATHE_RETURN_IF_ERROR(CheckLength(model_id, "modelId", rules::kConversationalModelId));
  auto request = ParseConverseBody(body);
  if (!request.ok()) return request.status();
  bool provisioned = false;
  auto pool = PoolFor(model_id, &provisioned);
  if (!pool.ok()) {
    // Converse declares no ServiceQuotaExceededException (InvokeModel does): a model that does
    // not fit in memory now may once other models are deleted.
    if (pool.status().code() == Status::Code::kQuotaExceeded) return Status::Throttled(pool.status().message());
    return pool.status();
  }
  auto result = RunMetered(model_id, **pool, *request, provisioned);
  if (!result.ok()) return result.status();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  return ConverseResponse(*request, *result, ms);
}

Result<engine::GenerationResult> RuntimeService::RunMetered(const std::string& model_id, ModelPool& pool,
                                                            const RuntimeRequest& request, bool provisioned) {
  const auto start = std::chrono::steady_clock::now();
  auto result = Run(pool, request);
  // Provisioned throughput is priced by the hours it is held, not per token: only the pools
  // PoolFor loaded on demand are counted (as PoolFor resolved them: not asked again).
  if (!result.ok() || !usage_ || provisioned) return result;
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  usage_->RecordOnDemand(model_id, result->prompt_tokens, static_cast<int64_t>(result->tokens.size()), ms);
  return result;
}

}  // namespace lathe::service
