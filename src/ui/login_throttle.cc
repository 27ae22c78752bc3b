#include "ui/login_throttle.h"

#include <algorithm>

namespace lathe::ui {

int64_t LoginThrottle::WaitMs(const std::string& address, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t wait = 0;
  if (global_failures_ >= limits_.global_failures_per_window)
    wait = std::max<int64_t>(0, global_window_start_ms_ + limits_.window_ms - now_ms);
  auto it = entries_.find(address);
  if (it != entries_.end()) wait = std::max(wait, it->second.blocked_until_ms - now_ms);
  return std::max<int64_t>(0, wait);
}

void LoginThrottle::Failed(const std::string& address, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  if (now_ms - global_window_start_ms_ >= limits_.window_ms) {
    global_window_start_ms_ = now_ms;
    global_failures_ = 0;
  }
  ++global_failures_;
  auto it = entries_.find(address);
  if (it == entries_.end()) {
    if (entries_.size() >= limits_.max_addresses) {
      entries_.erase(recency_.back());
      recency_.pop_back();
    }
    recency_.push_front(address);
    it = entries_.emplace(address, Entry{}).first;
    it->second.recency = recency_.begin();
    it->second.window_start_ms = now_ms;
  } else {
    recency_.splice(recency_.begin(), recency_, it->second.recency);
  }
  Entry& e = it->second;
  // A quiet spell as long as the longest wait forgives earlier lockouts.
  if (now_ms - std::max(e.window_start_ms, e.blocked_until_ms) >= limits_.max_backoff_ms) e.lockouts = 0;
  if (now_ms - e.window_start_ms >= limits_.window_ms) {
    e.window_start_ms = now_ms;
    e.failures = 0;
  }
  if (++e.failures < limits_.failures_per_address) return;
  const int64_t backoff = std::min(limits_.max_backoff_ms, limits_.window_ms << std::min(e.lockouts, 20));
  e.blocked_until_ms = now_ms + backoff;
  ++e.lockouts;
  e.failures = 0;
  e.window_start_ms = e.blocked_until_ms;
}

void LoginThrottle::Succeeded(const std::string& address) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(address);
  if (it == entries_.end()) return;
  recency_.erase(it->second.recency);
  entries_.erase(it);
}

size_t LoginThrottle::addresses() {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

}  // namespace lathe::ui
