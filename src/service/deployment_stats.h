// What each variant of each deployment did: requests, errors, latency, tokens, feedback, in
// one-minute buckets (the last 24 hours kept) and all-time totals. Requests are counted in
// memory and flushed to lathe.db every few seconds (rows of kind "deployment-stats", one per
// deployment), so `lathe deployments stats` reads them without the server and they survive a
// restart (at most the last flush interval is lost to a crash). Each answered request gets a
// response id that feedback names; ids are remembered in memory, the newest kMaxRememberedResponses.
// Thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "service/deployment_traffic.h"
#include "store/metadata_store.h"

namespace lathe::service {

inline constexpr const char* kDeploymentStatsKind = "deployment-stats";
inline constexpr size_t kMaxRememberedResponses = 100000;
inline constexpr int64_t kStatsBucketMs = 60 * 1000;
inline constexpr size_t kMaxStatsBuckets = 24 * 60;  // per served model
inline constexpr size_t kMaxFeedbackCommentBytes = 1024;
inline constexpr size_t kMaxServedPerDeployment = 32;  // each alias move adds one; the longest idle goes
inline constexpr size_t kMaxKeptComments = 20;         // per served model, the newest
inline constexpr size_t kLatencyBins = 84;  // quarter-octaves of milliseconds: 1 ms .. ~28 min

// One answered (or failed) request.
struct Outcome {
  std::string deployment_id;
  Variant variant = Variant::kChampion;
  std::string served;  // the served model: "<group>/<version>" or the model ARN
  int64_t time_ms = 0, latency_ms = 0;
  bool ok = true;
  bool throttled = false;  // refused for load (ThrottlingException): not an error of the model
  // The caller's mistake (ValidationException, an unknown id): counted as a request, neither an
  // error of the model (a caller could trigger a rollback) nor a latency.
  bool caller_error = false;
  int64_t input_tokens = 0, output_tokens = 0;
  int64_t compute_ms = 0;  // generation time on a slot (costs)
  // The response id Record files it under: "" = a new one. A stream names its id in its headers,
  // before the outcome is known (NewResponseId), and records it at its end.
  std::string response_id;
};

// A fresh response id ("resp-" + 20 characters), as Record issues them.
std::string NewResponseId();

struct Feedback {
  std::string rating;   // "up" | "down" | "" (score only)
  double score = -1;    // 0..1, -1 = none; at least one of rating and score
  std::string comment;  // kept with the response's feedback, bounded
};

// One served model's numbers in a deployment, over a window or all time.
struct VariantStats {
  std::string served;
  std::string variant;  // what it is now: "champion", "challenger" or "retired"
  WindowStats window;   // over the asked window
  WindowStats total;    // all time
  int64_t last_request_ms = 0;
  std::vector<std::string> comments;  // the newest feedback comments (kMaxKeptComments), oldest first
};

// The wire shape (the stats extension operation, `lathe deployments stats`):
// {"requests", "errors", "throttled", "feedback", "positive", "feedbackScoreSum", "latencyP50Ms",
//  "latencyP95Ms", "inputTokens", "outputTokens", "computeMs"}
nlohmann::json WindowStatsToJson(const WindowStats& w);
// {"variant", "served", "window", "total", "lastRequestTime" (when any), "comments"}; `variant`
// replaces v.variant when given (the caller knows what the served model is now).
nlohmann::json VariantStatsToJson(const VariantStats& v, const std::string& variant = "");

// The numbers behind VariantStats (the implementation's; in the header for DeploymentStats' members).
namespace stats_detail {
struct Counters {
  WindowStats sums;                     // its latency fields unused: the bins below answer percentiles
  std::vector<uint32_t> latency_bins;   // sized to the highest bin used, at most kLatencyBins
  int64_t latency_min = 0, latency_max = 0;  // of the answered requests counted in the bins
};
struct Bucket {
  int64_t minute = 0;  // time_ms / kStatsBucketMs
  Counters counters;
};
struct Served {
  std::deque<Bucket> buckets;  // by minute, at most kMaxStatsBuckets
  Counters total;
  int64_t last_request_ms = 0;
  std::deque<std::string> comments;
  // Each bucket's counts when a rollback judged it (ExcludeFromJudging): the judge counts only
  // what came after, so a challenger given traffic again is not rolled back on its old failures.
  std::vector<Bucket> judged;
};
using Deployment = std::map<std::string, Served>;  // served model -> numbers
struct Response {
  std::string deployment_id, served;
  int64_t minute = 0;
  bool rated = false, positive = false;  // the feedback counted for it, to replace
  double score = 0;
};
}  // namespace stats_detail

class DeploymentStats {
 public:
  explicit DeploymentStats(store::MetadataStore* db) : db_(db) {}
  // Reads the flushed rows back (start-up).
  Status Load();

  // Counts the request; returns its response id ("resp-" + 20 lowercase letters and digits).
  std::string Record(const Outcome& outcome);
  // NotFound for an id it does not remember (never issued, forged, or forgotten: older than the
  // newest kMaxRememberedResponses or issued before a restart); InvalidArgument for a bad
  // rating/score/comment. A second feedback on the same response replaces the first (counted once).
  Status AddFeedback(const std::string& response_id, const Feedback& feedback);

  // The window [now - window_ms, now] of one served model of a deployment.
  WindowStats Window(const std::string& deployment_id, const std::string& served, int64_t now_ms, int64_t window_ms);
  // The same window less what a rollback already judged (ExcludeFromJudging): what rollback
  // policies are checked against.
  WindowStats JudgeWindow(const std::string& deployment_id, const std::string& served, int64_t now_ms,
                          int64_t window_ms);
  // The served model's requests so far are out of JudgeWindow (kept in Window, Summary and totals).
  void ExcludeFromJudging(const std::string& deployment_id, const std::string& served);
  // Every served model of a deployment (variant left "" here: the deployment service knows it).
  std::vector<VariantStats> Summary(const std::string& deployment_id, int64_t now_ms, int64_t window_ms);
  // The newest request of a deployment (0: never); what idle cleanup reads.
  int64_t LastRequest(const std::string& deployment_id);
  // Drops a deleted deployment's numbers (and its row).
  Status Forget(const std::string& deployment_id);

  // Writes what changed since the last flush (one transaction).
  Status Flush();

  // The same summary from a flushed row, for readers without the server (`lathe deployments stats`).
  static std::vector<VariantStats> SummaryFromRow(const store::ResourceRow& row, int64_t now_ms, int64_t window_ms);

 private:
  store::MetadataStore* db_;
  std::mutex flush_mu_;  // Flush and Forget's writes, in order (taken before mu_)
  // Under mu_: one served model's numbers, or null.
  stats_detail::Served* FindLocked(const std::string& deployment_id, const std::string& served);
  std::mutex mu_;        // everything below
  std::unordered_map<std::string, stats_detail::Deployment> deployments_;
  std::deque<std::string> response_order_;  // oldest first
  std::unordered_map<std::string, stats_detail::Response> responses_;
  std::set<std::string> dirty_;      // deployments changed since the last flush
  std::set<std::string> persisted_;  // deployments with a row (under flush_mu_)
};

}  // namespace lathe::service
