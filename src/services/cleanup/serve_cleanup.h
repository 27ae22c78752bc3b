// What `lathe serve` does with cleanup: answers lathe's extension endpoint POST /lathe/cleanup on
// the Bedrock control plane (what `lathe cleanup` calls while a server holds the data directory,
// since deleting provisioned throughput and deployments must unload them in that server), and
// runs the configured retention policy periodically.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "service/retention_policy.h"
#include "services/cleanup/cleaner.h"

namespace lathe::cleanup {

inline constexpr int64_t kPeriodicCleanupIntervalMs = 3600 * 1000;  // hourly

// The endpoint's body: {"dryRun": bool (default false), "policy": {...retention members}}; the
// policy's members override the server's configured one. Answers RunReportToJson. Wrong types and
// unknown members are InvalidArgument (ValidationException) naming the member.
Result<nlohmann::json> HandleCleanupRequest(Cleaner* cleaner, const service::RetentionPolicy& configured,
                                            const nlohmann::json& body);

// Runs `policy` every interval until stopped (the first run one interval after Start, so a server
// restart loop does not delete on every start); each run's summary goes to the log.
class PeriodicCleanup {
 public:
  PeriodicCleanup(Cleaner* cleaner, service::RetentionPolicy policy, int64_t interval_ms = kPeriodicCleanupIntervalMs)
      : cleaner_(cleaner), policy_(policy), interval_ms_(interval_ms) {}
  ~PeriodicCleanup() { Stop(); }
  void Start();
  void Stop();
  int runs() {
    std::lock_guard<std::mutex> lock(mu_);
    return runs_;
  }

 private:
  void Loop();
  Cleaner* cleaner_;
  service::RetentionPolicy policy_;
  int64_t interval_ms_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  int runs_ = 0;
  std::thread thread_;
};

}  // namespace lathe::cleanup
