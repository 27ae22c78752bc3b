// A served model: `slots` instances over one set of weights (Bedrock's modelUnits), and a bounded
// queue in front of them. A request that finds the queue full is refused at once
// (ThrottlingException) instead of waiting without bound. A request holds a slot (a Lease) while
// it generates. With continuous batching (the default for more than one slot) the slots' requests
// share forward passes: one scheduler thread advances them all a token per step
// (batch_scheduler.h); without it each slot's instance generates for its request alone.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/status.h"
#include "engine/language_model.h"
#include "service/batch_scheduler.h"

namespace lathe::service {

class ModelPool {
 public:
  // `slots` instances over the weights of `model` (engine::LanguageModel::NewInstance: nothing is
  // copied). `hold` is kept as long as the pool lives: its share of the memory budget.
  // `batching`: share forward passes among the slots' requests when there are several slots and
  // the model has a batched step ("continuousBatching" in lathe serve's config).
  static std::shared_ptr<ModelPool> Over(std::shared_ptr<const engine::LanguageModel> model, int slots,
                                         int queue_limit, std::shared_ptr<const void> hold = nullptr,
                                         bool batching = true);
  // Loads the model in `dir` for this pool alone, outside any budget (tools, tests).
  static Result<std::shared_ptr<ModelPool>> Load(const std::string& dir, int slots, int queue_limit,
                                                 bool batching = true);

  // A model instance held for one request; returns it to the pool when destroyed.
  class Lease {
   public:
    Lease(Lease&& o) noexcept : pool_(o.pool_), index_(o.index_) { o.pool_ = nullptr; }
    ~Lease();
    // This slot's instance: its tokenizer and chat template, embeddings, and generation when the
    // pool does not batch.
    engine::LanguageModel& model() const { return *pool_->instances_[index_]; }
    // Generates for one tokenized prompt, in the pool's shared batch when it batches (the same
    // result as alone; see BatchScheduler::Generate), else on this slot's instance. on_text runs
    // on the calling thread.
    Result<engine::GenerationResult> Generate(const std::vector<int>& prompt, const engine::GenerationOptions& options,
                                              const engine::TextCallback& on_text = {}) const;

   private:
    friend class ModelPool;
    Lease(ModelPool* pool, size_t index) : pool_(pool), index_(index) {}
    ModelPool* pool_;
    size_t index_;
  };
  // Waits for a free instance; Throttled when queue_limit requests already wait.
  Result<Lease> Acquire();

  // The weights every slot uses (shared with other pools of the same model).
  const engine::LanguageModel& shared_model() const { return *shared_model_; }
  int slots() const { return static_cast<int>(instances_.size()); }
  int waiting();  // requests queued for a slot now
  // The scheduler sharing forward passes among the slots; null when the pool does not batch.
  BatchScheduler* scheduler() const { return scheduler_.get(); }

 private:
  // Declared first, destroyed last: the budget share outlives the instances it pays for.
  std::shared_ptr<const void> hold_;
  std::shared_ptr<const engine::LanguageModel> shared_model_;
  std::vector<std::unique_ptr<engine::LanguageModel>> instances_;
  std::vector<size_t> free_;
  int queue_limit_ = 0, waiting_ = 0;
  std::mutex mu_;
  std::condition_variable freed_;
  // Declared last, destroyed first: its thread stops before the instances and weights go.
  std::unique_ptr<BatchScheduler> scheduler_;
};

}  // namespace lathe::service
