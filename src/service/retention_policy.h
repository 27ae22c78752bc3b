// What `lathe cleanup` (services/cleanup) and `lathe serve`'s periodic cleanup delete: the
// "retention" object of the serve config, overridable by `lathe cleanup`'s flags. A plain value
// here, beside ServiceConfig, so the config file is checked when it is read; the planner lives
// above the registry (services/cleanup/plan.h).
//
//   {"keepVersions": 3, "modelMaxAge": "30d", "idleThroughput": "24h", "idleDeployment": "24h"}
//
// Each part is off unless given: nothing is deleted by an empty policy.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace lathe::service {

inline constexpr int kMaxKeepVersions = 10000;
inline constexpr int64_t kMaxRetentionMs = int64_t{3650} * 24 * 3600 * 1000;  // ten years
inline constexpr size_t kMaxDurationChars = 24;

struct RetentionPolicy {
  // The newest N versions of each registry group keep their custom models (every aliased version
  // does anyway). Only read when model_max_age_ms is set; unset (-1) there means 1.
  int keep_versions = -1;
  int64_t model_max_age_ms = -1;    // custom models older than this go (-1: none do)
  int64_t idle_throughput_ms = -1;  // provisioned throughput without a request for this long goes
  int64_t idle_deployment_ms = -1;  // deployments likewise
  int KeepVersions() const { return keep_versions < 0 ? 1 : keep_versions; }
  bool enabled() const { return model_max_age_ms >= 0 || idle_throughput_ms >= 0 || idle_deployment_ms >= 0; }
};

// "30d", "24h", "90m", "45s", "1500ms" (a whole number and a unit; 0 allowed) -> milliseconds.
// InvalidArgument names `what`.
Result<int64_t> ParseRetentionDuration(const std::string& text, const std::string& what);
// The shortest of the forms above that says it exactly ("30d", "36h", ...).
std::string FormatRetentionDuration(int64_t ms);

// The JSON object above; unknown keys and wrong types are InvalidArgument naming `where`.key.
// Members override `base` (the CLI lays its flags over the config's policy the same way).
Result<RetentionPolicy> RetentionPolicyFromJson(const nlohmann::json& j, const std::string& where,
                                                RetentionPolicy base = {});
nlohmann::json RetentionPolicyToJson(const RetentionPolicy& p);

}  // namespace lathe::service
