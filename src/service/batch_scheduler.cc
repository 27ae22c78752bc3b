#include "service/batch_scheduler.h"

#include <atomic>
#include <algorithm>
#include <exception>
#include <optional>
#include <string>

namespace lathe::service {

// One request between its caller's thread and the scheduler's: the pieces of text not yet
// handed to on_text, and the result once it ended.
struct BatchScheduler::Request {
  std::vector<int> prompt;
  engine::GenerationOptions options;
  std::mutex mu;
  std::condition_variable changed;
  std::deque<std::string> pieces;
  std::optional<Result<engine::GenerationResult>> result;
  std::atomic<bool> cancelled{false};

  void Push(std::string_view piece) {
    std::lock_guard<std::mutex> lock(mu);
    pieces.emplace_back(piece);
    changed.notify_all();
  }
  void End(Result<engine::GenerationResult> r) {
    std::lock_guard<std::mutex> lock(mu);
    result.emplace(std::move(r));
    changed.notify_all();
  }
};

BatchScheduler::BatchScheduler(std::unique_ptr<engine::GenerationBatch> batch, size_t queue_limit)
    : batch_(std::move(batch)), capacity_(batch_->capacity()), queue_limit_(queue_limit) {
  thread_ = std::thread([this] { Loop(); });
}

BatchScheduler::~BatchScheduler() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

Result<engine::GenerationResult> BatchScheduler::Generate(const std::vector<int>& prompt,
                                                          const engine::GenerationOptions& options,
                                                          const engine::TextCallback& on_text) {
  auto request = std::make_shared<Request>();
  request->prompt = prompt;
  request->options = options;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return Status::Internal("the model is being unloaded");
    if (running_count_ + waiting_.size() >= capacity_ + queue_limit_)
      return Status::Throttled("Too many requests: all " + std::to_string(capacity_) + " batch places are busy and " +
                               std::to_string(waiting_.size()) + " requests wait; retry later");
    waiting_.push_back(request);
  }
  wake_.notify_all();
  bool refused = false;
  std::unique_lock<std::mutex> lock(request->mu);
  for (;;) {
    request->changed.wait(lock, [&] { return !request->pieces.empty() || request->result.has_value(); });
    if (request->pieces.empty()) break;  // ended, every piece handed out
    std::string piece = std::move(request->pieces.front());
    request->pieces.pop_front();
    if (refused || !on_text) continue;
    lock.unlock();
    refused = !on_text(0, piece);
    lock.lock();
    if (refused) {
      request->cancelled = true;
      wake_.notify_all();  // an idle scheduler has nothing to wake for; a busy one checks each step
    }
  }
  Result<engine::GenerationResult> result = std::move(*request->result);
  // As GenerateTokens reports a refused piece, whatever the batch made of the steps after it.
  if (refused && result.ok()) result->reason = engine::StopReason::kCancelled;
  return result;
}

BatchScheduler::Counters BatchScheduler::counters() {
  std::lock_guard<std::mutex> lock(mu_);
  return counters_;
}

void BatchScheduler::AdmitAndCancel(std::map<uint64_t, std::shared_ptr<Request>>* running) {
  std::deque<std::shared_ptr<Request>> admitted;
  {
    std::lock_guard<std::mutex> lock(mu_);
    while (!waiting_.empty() && running->size() + admitted.size() < capacity_) {
      admitted.push_back(std::move(waiting_.front()));
      waiting_.pop_front();
    }
    running_count_ += admitted.size();
  }
  for (std::shared_ptr<Request>& r : admitted) {
    // The engine calls this on the scheduler's thread: it only queues the piece for the caller.
    Request* raw = r.get();
    auto id = batch_->Add(r->prompt, r->options, [raw](size_t, std::string_view piece) {
      raw->Push(piece);
      return !raw->cancelled.load();
    });
    if (!id.ok()) {
      EndRequests({{std::move(r), id.status()}});
      continue;
    }
    (*running)[*id] = std::move(r);
  }
  for (const auto& [id, r] : *running)
    if (r->cancelled) batch_->Cancel(id);
}

void BatchScheduler::Loop() {
  std::map<uint64_t, std::shared_ptr<Request>> running;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [&] { return stopping_ || !waiting_.empty() || !running.empty(); });
      if (stopping_) {
        for (auto& r : waiting_) r->End(Status::Internal("the model was unloaded before the request ran"));
        waiting_.clear();
        break;
      }
    }
    AdmitAndCancel(&running);
    if (running.empty()) continue;
    Result<std::vector<engine::FinishedSequence>> finished = Status::Internal("no step ran");
    try {
      finished = batch_->Step();
    } catch (const std::exception& e) {
      finished = Status::Internal(std::string("generation failed: ") + e.what());
    }
    const size_t stepped = running.size();
    std::vector<std::pair<std::shared_ptr<Request>, Result<engine::GenerationResult>>> ended;
    if (!finished.ok()) {
      // The batch is empty after a failed step: every request in it ends with the error.
      for (auto& [id, r] : running) ended.emplace_back(std::move(r), finished.status());
      running.clear();
    } else {
      for (engine::FinishedSequence& f : *finished) {
        auto it = running.find(f.id);
        if (it == running.end()) continue;
        ended.emplace_back(std::move(it->second), std::move(f.result));
        running.erase(it);
      }
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++counters_.steps;
      counters_.sequence_steps += static_cast<int64_t>(stepped);
      counters_.widest = std::max<int64_t>(counters_.widest, static_cast<int64_t>(stepped));
    }
    EndRequests(std::move(ended));
  }
  std::vector<std::pair<std::shared_ptr<Request>, Result<engine::GenerationResult>>> left;
  for (auto& [id, r] : running) left.emplace_back(std::move(r), Status::Internal("the model was unloaded while the request ran"));
  EndRequests(std::move(left));
}

void BatchScheduler::EndRequests(std::vector<std::pair<std::shared_ptr<Request>, Result<engine::GenerationResult>>> ended) {
  if (ended.empty()) return;
  {
    // Their places are free before their callers hear of it: a caller that gives its slot back
    // and whose successor arrives at once must find room.
    std::lock_guard<std::mutex> lock(mu_);
    running_count_ -= ended.size();
  }
  for (auto& [r, result] : ended) r->End(std::move(result));
}

}  // namespace lathe::service
