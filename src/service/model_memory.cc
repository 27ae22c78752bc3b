#include "service/model_memory.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <utility>

#include "engine/language_model.h"

namespace lathe::service {
namespace {

namespace fs = std::filesystem;

// The files LanguageModel::Load reads (shards are named by the index, rewritten with them).
constexpr const char* kModelFiles[] = {"config.json",          "model.safetensors", "model.safetensors.index.json",
                                       "tokenizer.model",      "tokenizer.json",    "tokenizer_config.json",
                                       "generation_config.json"};

// Which weights a directory holds now: its canonical path, and the size and modification time
// of each model file, so a model rewritten in place loads afresh instead of sharing stale weights;
// and the precision the weights are held in.
std::string WeightsKey(const std::string& dir, engine::WeightPrecision precision) {
  std::error_code ec;
  fs::path canonical = fs::weakly_canonical(dir, ec);
  if (ec) canonical = dir;
  std::string key = canonical.string();
  for (const char* name : kModelFiles) {
    const fs::path file = canonical / name;
    const auto size = fs::file_size(file, ec);
    if (ec) continue;
    const auto mtime = fs::last_write_time(file, ec);
    if (ec) continue;
    key += "|" + std::string(name) + ":" + std::to_string(size) + ":" +
           std::to_string(mtime.time_since_epoch().count());
  }
  return key + "|weights:" + engine::WeightPrecisionName(precision);
}

std::string MiB(int64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  return text;
}

}  // namespace

struct ModelMemory::Ledger {
  // One model's weights: charged once while any reservation claims them.
  struct Weights {
    int64_t bytes = 0;  // estimated until loaded, then measured
    int claims = 0;
    std::mutex load_mu;  // one load at a time; guards model
    std::shared_ptr<const engine::LanguageModel> model;
  };

  explicit Ledger(int64_t budget) : budget(budget) {}

  // Charges `kv_bytes`, plus the weights of `key` unless they are claimed already, if that fits.
  Status Claim(const std::string& key, const std::string& dir, int64_t weight_bytes, int64_t kv_bytes,
               const std::string& what) {
    std::lock_guard<std::mutex> lock(mu);
    auto it = weights.find(key);
    const int64_t weights_needed = it == weights.end() ? weight_bytes : 0;
    const int64_t need = weights_needed + kv_bytes;
    if (need > budget - used)
      return Status::QuotaExceeded(
          "Not enough model memory: " + what + " on " + dir + " needs " + MiB(need) + " (weights " +
          (weights_needed ? MiB(weights_needed) : std::string("already loaded")) + ", KV caches " + MiB(kv_bytes) +
          ") but " + MiB(std::max<int64_t>(budget - used, 0)) + " of the server's " + MiB(budget) +
          " budget are free; models in use hold the rest. Delete provisioned throughputs or use fewer model units, "
          "or raise \"modelMemoryBytes\" in the server config");
    if (it == weights.end()) {
      it = weights.emplace(key, std::make_shared<Weights>()).first;
      it->second->bytes = weight_bytes;
    }
    ++it->second->claims;
    used += need;
    return Status::Ok();
  }

  void Release(const std::string& key, int64_t kv_bytes) {
    std::shared_ptr<Weights> freed;  // destroyed after the lock: freeing a model takes a while
    std::lock_guard<std::mutex> lock(mu);
    used -= kv_bytes;
    auto it = weights.find(key);
    if (it == weights.end() || --it->second->claims > 0) return;
    used -= it->second->bytes;
    freed = std::move(it->second);
    weights.erase(it);
  }

  const int64_t budget;
  std::mutex mu;
  int64_t used = 0;
  std::map<std::string, std::shared_ptr<Weights>> weights;  // by WeightsKey
};

class ModelMemory::Reservation {
 public:
  Reservation(std::shared_ptr<Ledger> ledger, std::string dir, engine::WeightPrecision precision, std::string key,
              int slots, int64_t kv_bytes, int64_t weight_estimate)
      : ledger_(std::move(ledger)), dir_(std::move(dir)), precision_(precision), key_(std::move(key)), slots_(slots),
        kv_bytes_(kv_bytes), weight_estimate_(weight_estimate) {}
  ~Reservation() { ledger_->Release(key_, kv_bytes_); }

 private:
  friend class ModelMemory;
  std::shared_ptr<Ledger> ledger_;
  const std::string dir_;
  const engine::WeightPrecision precision_;
  std::string key_;  // changes only in LoadPool, which no two threads run on one reservation
  const int slots_;
  const int64_t kv_bytes_, weight_estimate_;
};

ModelMemory::ModelMemory(int64_t budget_bytes)
    : budget_(budget_bytes), ledger_(std::make_shared<Ledger>(budget_bytes)) {}

Result<std::shared_ptr<ModelMemory::Reservation>> ModelMemory::Reserve(const std::string& dir,
                                                                       const engine::ModelConfig& config, int slots,
                                                                       engine::WeightPrecision precision) {
  slots = std::max(slots, 1);
  const engine::MemoryNeed need = engine::EstimateMemory(config, precision);
  const int64_t kv_bytes = need.kv_bytes_per_sequence * slots;
  std::string key = WeightsKey(dir, precision);
  const std::string what = std::to_string(slots) + (slots == 1 ? " generation slot" : " generation slots") +
                           " (KV cache " + MiB(need.kv_bytes_per_sequence) + " each at the model's " +
                           std::to_string(config.max_position_embeddings) + "-token context)";
  LATHE_RETURN_IF_ERROR(ledger_->Claim(key, dir, need.weight_bytes, kv_bytes, what));
  return std::make_shared<Reservation>(ledger_, dir, precision, std::move(key), slots, kv_bytes, need.weight_bytes);
}

Result<std::shared_ptr<ModelPool>> ModelMemory::LoadPool(const std::shared_ptr<Reservation>& r, int queue_limit) {
  Ledger& ledger = *ledger_;
  const std::string key = WeightsKey(r->dir_, r->precision_);
  if (key != r->key_) {
    // The files changed since Reserve (the default model was built, a model was rewritten in
    // place): move the claim to the weights on disk now, under the same budget.
    LATHE_RETURN_IF_ERROR(ledger.Claim(key, r->dir_, r->weight_estimate_, 0, "loading the model anew"));
    ledger.Release(std::exchange(r->key_, key), 0);
  }
  std::shared_ptr<Ledger::Weights> weights;
  {
    std::lock_guard<std::mutex> lock(ledger.mu);
    weights = ledger.weights.at(r->key_);  // claimed by r, so present
  }
  std::lock_guard<std::mutex> load(weights->load_mu);
  if (!weights->model) {
    auto model = engine::LanguageModel::Load(r->dir_);
    if (model.ok() && r->precision_ != engine::WeightPrecision::kF32) model = (*model)->WithWeightPrecision(r->precision_);
    if (!model.ok()) return model.status();
    weights->model = std::move(*model);
    // From now on the budget counts what the weights measure, not the estimate.
    std::lock_guard<std::mutex> lock(ledger.mu);
    ledger.used += weights->model->WeightBytes() - weights->bytes;
    weights->bytes = weights->model->WeightBytes();
  }
  return ModelPool::Over(weights->model, r->slots_, queue_limit, r, batching_);
}

int64_t ModelMemory::used_bytes() {
  std::lock_guard<std::mutex> lock(ledger_->mu);
  return ledger_->used;
}

int ModelMemory::loaded_weight_sets() {
  std::lock_guard<std::mutex> lock(ledger_->mu);
  return static_cast<int>(ledger_->weights.size());
}

Result<engine::ModelConfig> ReadModelConfig(const std::string& dir) {
  return engine::LoadModelConfig(dir + "/config.json");
}

}  // namespace lathe::service
