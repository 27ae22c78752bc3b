#include "service/model_pool.h"

namespace lathe::service {

std::shared_ptr<ModelPool> ModelPool::Over(std::shared_ptr<const engine::LanguageModel> model, int slots,
                                           int queue_limit, std::shared_ptr<const void> hold, bool batching) {
  auto pool = std::make_shared<ModelPool>();
  pool->hold_ = std::move(hold);
  pool->queue_limit_ = queue_limit;
  // One instance per slot, all over the same weights: instances share only read-only state, so
  // they generate concurrently without locks.
  for (int i = 0; i < std::max(slots, 1); ++i) {
    pool->instances_.push_back(model->NewInstance());
    pool->free_.push_back(static_cast<size_t>(i));
  }
  // One slot has nobody to share a step with: it generates on its instance, with no thread hop.
  if (batching && slots > 1) {
    auto batch = model->NewGenerationBatch(slots);
    // Leases bound the requests to the slots, so the scheduler's own queue never fills.
    if (batch.ok()) pool->scheduler_ = std::make_unique<BatchScheduler>(std::move(*batch), /*queue_limit=*/0);
  }
  pool->shared_model_ = std::move(model);
  return pool;
}

Result<std::shared_ptr<ModelPool>> ModelPool::Load(const std::string& dir, int slots, int queue_limit,
                                                   bool batching) {
  auto m = engine::LanguageModel::Load(dir);
  if (!m.ok()) return m.status();
  return Over(std::move(*m), slots, queue_limit, nullptr, batching);
}

Result<engine::GenerationResult> ModelPool::Lease::Generate(const std::vector<int>& prompt,
                                                            const engine::GenerationOptions& options,
                                                            const engine::TextCallback& on_text) const {
  if (pool_->scheduler_) return pool_->scheduler_->Generate(prompt, options, on_text);
  auto results = model().GenerateTokens({prompt}, options, on_text);
  if (!results.ok()) return results.status();
  return std::move((*results)[0]);
}

Result<ModelPool::Lease> ModelPool::Acquire() {
  std::unique_lock<std::mutex> lock(mu_);
  if (free_.empty()) {
    if (waiting_ >= queue_limit_)
      return Status::Throttled("Too many requests: all " + std::to_string(instances_.size()) +
                               " generation slots are busy and " + std::to_string(waiting_) +
                               " requests wait; retry later or provision more model units");
    ++waiting_;
    freed_.wait(lock, [&] { return !free_.empty(); });
    --waiting_;
  }
  size_t index = free_.back();
  free_.pop_back();
  return Lease(this, index);
}

int ModelPool::waiting() {
  std::lock_guard<std::mutex> lock(mu_);
  return waiting_;
}

ModelPool::Lease::~Lease() {
  if (!pool_) return;
  {
    std::lock_guard<std::mutex> lock(pool_->mu_);
    pool_->free_.push_back(index_);
  }
  pool_->freed_.notify_one();
}

}  // namespace lathe::service
