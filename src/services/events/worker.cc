#include "services/events/worker.h"

#include <spdlog/spdlog.h>

namespace lathe::events {

void EventsWorker::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void EventsWorker::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void EventsWorker::Wake() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

void EventsWorker::Loop() {
  std::string last_error;  // logged once until it changes, not every pass
  for (;;) {
    Status s = scheduler_->Tick().status();
    if (s.ok()) s = dispatcher_->RunOnce();
    if (!s.ok() && s.message() != last_error) spdlog::error("EventBridge dispatcher: {}", s.message());
    last_error = s.ok() ? "" : s.message();
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(poll_ms_), [this] { return stop_ || woken_; });
    woken_ = false;
    if (stop_) return;
  }
}

}  // namespace lathe::events
