// The models `lathe serve` keeps loaded, and the memory budget they share (modelMemoryBytes).
// The weights of one model directory are loaded once and shared by every pool that serves it
// (provisioned throughputs, on-demand), and freed when the last of those pools goes; each pool
// adds a KV cache per slot. A pool is admitted only if what it needs fits in what the budget has
// left. The check runs before loading, on what config.json implies (engine::EstimateMemory), so
// CreateProvisionedModelThroughput can refuse at once instead of exhausting the machine.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "core/status.h"
#include "engine/language_model.h"
#include "engine/model_config.h"
#include "service/model_pool.h"

namespace lathe::service {

class ModelMemory {
 public:
  explicit ModelMemory(int64_t budget_bytes);

  // A pool's admitted share of the budget: the KV caches of its slots and a claim on the weights
  // of its model directory (charged once, whatever the number of claims). Given back when the
  // last holder (the pool, or its loader) lets go.
  class Reservation;

  // Admits `slots` slots on the model in `dir` with architecture `config`. QuotaExceeded, naming
  // the need, the budget and the config key, when it does not fit. `dir` need not exist yet (the
  // built-in default model before its first build): LoadPool settles the claim once it does.
  // `precision`: how the weights are held (LanguageModel::WithWeightPrecision); the same files in
  // two precisions are two weight sets.
  Result<std::shared_ptr<Reservation>> Reserve(const std::string& dir, const engine::ModelConfig& config, int slots,
                                               engine::WeightPrecision precision = engine::WeightPrecision::kF32);
  // The pool for an admitted reservation, over the weights already loaded from the same files
  // if any (else they are loaded now, once however many callers ask together). One call at a
  // time per reservation.
  Result<std::shared_ptr<ModelPool>> LoadPool(const std::shared_ptr<Reservation>& reservation, int queue_limit);

  // Whether the pools LoadPool makes share forward passes among their slots (ModelPool::Over).
  void set_continuous_batching(bool on) { batching_ = on; }

  int64_t budget_bytes() const { return budget_; }
  int64_t used_bytes();           // admitted now: weights once per model, plus every pool's KV caches
  int loaded_weight_sets();       // distinct weights held (or being loaded) now

 private:
  struct Ledger;
  const int64_t budget_;
  bool batching_ = true;
  std::shared_ptr<Ledger> ledger_;  // shared with the reservations, which may outlive this object
};

// Reads `dir`/config.json (the architecture whose memory EstimateMemory predicts).
Result<engine::ModelConfig> ReadModelConfig(const std::string& dir);

}  // namespace lathe::service
