// Continuous batching for one served model (docs/performance.md, "Serving many requests"): a
// thread that drives the model's engine::GenerationBatch. Between two steps it admits the
// requests that arrived (each prefilled alone, then part of the batch) and ends the ones that
// were cancelled; each step advances every running request by one token in one forward pass.
// Callers block in Generate on their own thread, which is where their text callback runs: a slow
// client never holds up the step, and what waits for it is bounded by its max tokens.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "core/status.h"
#include "engine/language_model.h"

namespace lathe::service {

class BatchScheduler {
 public:
  // Runs `batch` (at most batch->capacity() requests at once); at most `queue_limit` more wait for
  // room, beyond that Generate answers Throttled. Starts its thread.
  BatchScheduler(std::unique_ptr<engine::GenerationBatch> batch, size_t queue_limit);
  // Requests still running or waiting end with an Internal error; the thread is joined.
  ~BatchScheduler();
  BatchScheduler(const BatchScheduler&) = delete;
  BatchScheduler& operator=(const BatchScheduler&) = delete;

  // Generates for `prompt` (token ids) as GenerationBatch::Add describes, sharing the steps of the
  // other requests; blocks until it ends. on_text runs on this thread with each final piece;
  // returning false ends the request (reason kCancelled) at the scheduler's next step.
  Result<engine::GenerationResult> Generate(const std::vector<int>& prompt, const engine::GenerationOptions& options,
                                            const engine::TextCallback& on_text = {});

  size_t capacity() const { return capacity_; }
  // Forward passes run so far, and the requests they advanced together: the ratio is how many
  // requests shared a step on average (tests, `lathe serve`'s stats).
  struct Counters {
    int64_t steps = 0, sequence_steps = 0, widest = 0;
  };
  Counters counters();

 private:
  struct Request;
  void Loop();
  // Admits what waits (as room allows) and ends what was cancelled; the batch belongs to Loop's thread.
  void AdmitAndCancel(std::map<uint64_t, std::shared_ptr<Request>>* running);
  // Frees the requests' places, then hands each its result.
  void EndRequests(std::vector<std::pair<std::shared_ptr<Request>, Result<engine::GenerationResult>>> ended);

  std::unique_ptr<engine::GenerationBatch> batch_;
  const size_t capacity_;
  const size_t queue_limit_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<Request>> waiting_;
  size_t running_count_ = 0;
  bool stopping_ = false;
  Counters counters_;
  std::thread thread_;  // last: started once everything it uses exists
};

}  // namespace lathe::service
