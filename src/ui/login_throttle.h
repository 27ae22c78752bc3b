// Failed dashboard logins, counted per client address so that one noisy address (or a script on
// the network guessing secrets) cannot lock the administrator out from another. Each address may
// fail `failures_per_address` times in a window; past that it waits, twice as long at each repeat
// (up to `max_backoff_ms`). The addresses remembered are bounded: past `max_addresses` the one
// that failed least recently is forgotten. A global ceiling, far above one address's allowance,
// bounds guessing spread over many addresses. A `lathe ui` link (which needs the server's secret
// on the server's machine) is never throttled. Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>

namespace lathe::ui {

struct LoginThrottleLimits {
  size_t failures_per_address = 10;    // in one window, before the address waits
  int64_t window_ms = 60'000;          // and the first wait; each repeat doubles it
  int64_t max_backoff_ms = 15 * 60'000;
  size_t max_addresses = 4096;         // remembered; the least recently failed is forgotten
  size_t global_failures_per_window = 1000;  // all addresses together
};

class LoginThrottle {
 public:
  explicit LoginThrottle(LoginThrottleLimits limits = {}) : limits_(limits) {}

  // Milliseconds `address` must still wait before it may try again (0: it may).
  int64_t WaitMs(const std::string& address, int64_t now_ms);
  void Failed(const std::string& address, int64_t now_ms);
  void Succeeded(const std::string& address);  // forgets the address's failures and backoff
  size_t addresses();
  const LoginThrottleLimits& limits() const { return limits_; }

 private:
  struct Entry {
    int64_t window_start_ms = 0;
    size_t failures = 0;
    int64_t blocked_until_ms = 0;
    int lockouts = 0;  // how many times in a row the address was made to wait
    std::list<std::string>::iterator recency;
  };

  LoginThrottleLimits limits_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
  std::list<std::string> recency_;  // most recently failed first
  int64_t global_window_start_ms_ = 0;
  size_t global_failures_ = 0;
};

}  // namespace lathe::ui
