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

// Where `lathe serve` records the URL it listens on (DATA_DIR/serve.url, written after Listen,
// removed at exit): `lathe cleanup` finding serve.lock held asks that server, not a default port.
inline constexpr const char* kServeUrlFile = "serve.url";
inline constexpr size_t kMaxDataDirChars = 4096;

// The endpoint's body: {"dryRun": bool (default false), "policy": {...retention members},
// "dataDir": the canonical data directory the caller means (optional)}; the policy's members
// override the server's configured one. Answers RunReportToJson. Wrong types, unknown members and
// a dataDir that is not this server's are InvalidArgument (ValidationException) naming the member.
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
