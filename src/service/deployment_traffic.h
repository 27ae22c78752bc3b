// How a custom model deployment shares its traffic between its champion (what its modelArn
// names) and a challenger, and when it takes the challenger away again (automatic rollback).
// Pure functions and plain structs: no store, no clock, no randomness of their own, so every
// decision is unit-tested exactly. A lathe extension to Bedrock's deployments (docs/compatibility.md).
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace lathe::service {

// Bounds (docs/serve.md, Limits).
inline constexpr size_t kMaxUserIdBytes = 256;  // the sticky-routing key a caller supplies

// The second variant a deployment routes to, and how much of its traffic.
struct TrafficSplit {
  std::string challenger;  // a model reference (model_reference.h); "" = no challenger
  double weight = 0;       // share of requests, 0..1, sent to the challenger
  // With a caller-supplied user id, the same user always meets the same variant (the guide's
  // route_to_model); without one, each request draws.
  bool sticky = true;
};
// JSON: {"challengerModelArn", "challengerWeight", "sticky"}; InvalidArgument names the field
// (wrong type, weight outside 0..1, reference too long: 1011 bytes as modelArn).
nlohmann::json TrafficToJson(const TrafficSplit& t);
Result<TrafficSplit> TrafficFromJson(const nlohmann::json& j);

enum class Variant { kChampion, kChallenger };
const char* VariantName(Variant v);  // "champion", "challenger"

// The variant for one request. `uniform01` is the caller's draw in [0,1) (used when not sticky or
// without a user id); with a user id and sticky, a stable 64-bit hash of `salt` (the deployment
// id) and the user id decides instead, so a user's variant survives restarts and a user stays
// where they were when the weight grows (users below the old weight stay challengers).
Variant ChooseVariant(const TrafficSplit& split, const std::string& salt, const std::string& user_id, double uniform01);

// When a challenger is taken away. A deployment that follows a registry alias with a policy
// treats each move of the alias as a canary: the new holder is the challenger with
// `canary_weight` of the traffic, the previous holder the champion, for `watch_ms`; a healthy
// canary then becomes the champion (all traffic); an unhealthy one is rolled back (the alias
// moves back, an event is published). A fixed challenger (TrafficSplit) is judged the same way
// and, when unhealthy, loses its traffic (weight 0).
struct RollbackPolicy {
  bool enabled = false;
  double canary_weight = 0.1;      // 0 < w <= 1 (1: the new holder takes all traffic, still watched)
  int64_t watch_ms = 10 * 60 * 1000;
  int64_t window_ms = 5 * 60 * 1000;  // the sliding window the stats below are read over
  int64_t min_requests = 20;          // no verdict on error rate before this many in the window
  double max_error_rate = 0.05;       // server-side failures / requests
  int64_t min_feedback = 5;           // no verdict on feedback before this many in the window
  double min_positive_feedback = 0.5; // thumbs-up share of the window's feedback
  bool on_evaluation_regression = true;  // roll back when the holder's newest evaluation is "worse"
};
// JSON: {"enabled", "canaryWeight", "watchSeconds", "windowSeconds", "minRequests",
// "maxErrorRate", "minFeedback", "minPositiveFeedback", "onEvaluationRegression"}.
nlohmann::json RollbackPolicyToJson(const RollbackPolicy& p);
Result<RollbackPolicy> RollbackPolicyFromJson(const nlohmann::json& j);

// What the stats say about one variant over a window (deployment_stats.h fills it).
struct WindowStats {
  int64_t requests = 0, errors = 0;      // errors: the server's failures, not throttling
  int64_t throttled = 0;
  int64_t feedback = 0, positive = 0;    // thumbs up counts as positive, down as not; a score >= 0.5 is positive
  double feedback_score_sum = 0;         // scores in 0..1 (thumbs up 1, down 0)
  int64_t latency_p50_ms = 0, latency_p95_ms = 0;
  int64_t input_tokens = 0, output_tokens = 0;
  int64_t compute_ms = 0;                // generation time on slots (lathe costs)
};

struct RollbackVerdict {
  bool roll_back = false;
  std::string reason;  // in words, for the event and the CLI: "error rate 0.31 > 0.05 over 42 requests in 300 s"
};
// Pure. `regression`: "" or why the holder's newest evaluation regressed (ResolvedModel).
RollbackVerdict JudgeChallenger(const RollbackPolicy& policy, const WindowStats& challenger,
                                const std::string& regression = "");

}  // namespace lathe::service
