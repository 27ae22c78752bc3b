#include "service/deployment_stats.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include <spdlog/spdlog.h>

#include "core/arn.h"
#include "core/utf8.h"
#include "service/deployment_stats_numbers.h"

namespace lathe::service {

using stats_detail::Counters;
using stats_detail::Served;

namespace {

constexpr size_t kResponseIdBytes = 25;  // "resp-" + 20

// The served model that has been idle longest, to make room for a new one.
void EvictIdlest(stats_detail::Deployment* d) {
  auto idlest = d->begin();
  for (auto it = d->begin(); it != d->end(); ++it) {
    if (it->second.last_request_ms < idlest->second.last_request_ms) idlest = it;
  }
  if (idlest != d->end()) d->erase(idlest);
}

Status CheckFeedback(const Feedback& f) {
  if (!f.rating.empty() && f.rating != "up" && f.rating != "down") {
    return Status::InvalidArgument("rating: must be \"up\" or \"down\"");
  }
  const bool has_score = f.score != -1;
  if (has_score && !(std::isfinite(f.score) && f.score >= 0 && f.score <= 1)) {
    return Status::InvalidArgument("score: must be a number from 0 to 1");
  }
  if (f.rating.empty() && !has_score) return Status::InvalidArgument("feedback needs a rating (up or down) or a score");
  if (f.comment.size() > kMaxFeedbackCommentBytes) {
    return Status::InvalidArgument("comment: at most " + std::to_string(kMaxFeedbackCommentBytes) + " bytes (found " +
                                   std::to_string(f.comment.size()) + ")");
  }
  if (FindInvalidUtf8(f.comment) != std::string::npos) return Status::InvalidArgument("comment: not valid UTF-8");
  return Status::Ok();
}

}  // namespace

nlohmann::json WindowStatsToJson(const WindowStats& w) {
  return {{"requests", w.requests},
          {"errors", w.errors},
          {"throttled", w.throttled},
          {"feedback", w.feedback},
          {"positive", w.positive},
          {"feedbackScoreSum", w.feedback_score_sum},
          {"latencyP50Ms", w.latency_p50_ms},
          {"latencyP95Ms", w.latency_p95_ms},
          {"inputTokens", w.input_tokens},
          {"outputTokens", w.output_tokens},
          {"computeMs", w.compute_ms}};
}

nlohmann::json VariantStatsToJson(const VariantStats& v, const std::string& variant) {
  nlohmann::json out = {{"variant", variant.empty() ? v.variant : variant},
                        {"served", v.served},
                        {"window", WindowStatsToJson(v.window)},
                        {"total", WindowStatsToJson(v.total)},
                        {"comments", v.comments}};
  if (v.last_request_ms > 0) out["lastRequestTime"] = Iso8601(v.last_request_ms);
  return out;
}

std::string NewResponseId() { return "resp-" + NewResourceId(20); }

std::string DeploymentStats::Record(const Outcome& outcome) {
  std::string id = outcome.response_id.size() == kResponseIdBytes ? outcome.response_id : NewResponseId();
  std::lock_guard<std::mutex> lock(mu_);
  stats_detail::Deployment& d = deployments_[outcome.deployment_id];
  if (!d.count(outcome.served) && d.size() >= kMaxServedPerDeployment) EvictIdlest(&d);
  Served& served = d[outcome.served];
  const int64_t minute = stats_detail::MinuteOf(outcome.time_ms);
  stats_detail::CountOutcome(&served.total, outcome);
  if (Counters* bucket = stats_detail::BucketFor(&served, minute, /*create=*/true)) {
    stats_detail::CountOutcome(bucket, outcome);
  }
  served.last_request_ms = std::max(served.last_request_ms, outcome.time_ms);
  dirty_.insert(outcome.deployment_id);

  stats_detail::Response r;
  r.deployment_id = outcome.deployment_id;
  r.served = outcome.served;
  r.minute = minute;
  responses_[id] = std::move(r);
  response_order_.push_back(id);
  while (response_order_.size() > kMaxRememberedResponses) {
    responses_.erase(response_order_.front());
    response_order_.pop_front();
  }
  return id;
}

Status DeploymentStats::AddFeedback(const std::string& response_id, const Feedback& feedback) {
  LATHE_RETURN_IF_ERROR(CheckFeedback(feedback));
  // The id is never echoed whole: it is the caller's, of any length.
  const std::string shown = response_id.size() > kResponseIdBytes ? response_id.substr(0, kResponseIdBytes) + "..." : response_id;
  std::lock_guard<std::mutex> lock(mu_);
  auto r = response_id.size() == kResponseIdBytes ? responses_.find(response_id) : responses_.end();
  if (r == responses_.end()) {
    return Status::NotFound("response " + SanitizeUtf8(shown) +
                            " is unknown (feedback names a recent response's x-lathe-response-id)");
  }
  auto d = deployments_.find(r->second.deployment_id);
  auto s = d == deployments_.end() ? stats_detail::Deployment::iterator() : d->second.find(r->second.served);
  if (d == deployments_.end() || s == d->second.end()) {
    return Status::NotFound("response " + response_id + ": its deployment's numbers are gone");
  }
  Served& served = s->second;
  stats_detail::Response& resp = r->second;
  Counters* bucket = stats_detail::BucketFor(&served, resp.minute, /*create=*/false);
  if (resp.rated) {  // a second feedback replaces the first
    stats_detail::CountFeedback(&served.total, -1, resp.positive, resp.score);
    if (bucket) stats_detail::CountFeedback(bucket, -1, resp.positive, resp.score);
  }
  // The rating decides thumbs up or down; a score alone is positive from 0.5.
  const bool has_score = feedback.score != -1;
  resp.positive = feedback.rating.empty() ? feedback.score >= 0.5 : feedback.rating == "up";
  resp.score = has_score ? feedback.score : (resp.positive ? 1.0 : 0.0);
  resp.rated = true;
  stats_detail::CountFeedback(&served.total, +1, resp.positive, resp.score);
  if (bucket) stats_detail::CountFeedback(bucket, +1, resp.positive, resp.score);
  if (!feedback.comment.empty()) {
    served.comments.push_back(feedback.comment);
    while (served.comments.size() > kMaxKeptComments) served.comments.pop_front();
  }
  dirty_.insert(resp.deployment_id);
  return Status::Ok();
}

stats_detail::Served* DeploymentStats::FindLocked(const std::string& deployment_id, const std::string& served) {
  auto d = deployments_.find(deployment_id);
  if (d == deployments_.end()) return nullptr;
  auto s = d->second.find(served);
  return s == d->second.end() ? nullptr : &s->second;
}

WindowStats DeploymentStats::Window(const std::string& deployment_id, const std::string& served, int64_t now_ms,
                                    int64_t window_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  const stats_detail::Served* s = FindLocked(deployment_id, served);
  return s ? stats_detail::WindowOf(*s, now_ms, window_ms) : WindowStats{};
}

WindowStats DeploymentStats::JudgeWindow(const std::string& deployment_id, const std::string& served, int64_t now_ms,
                                         int64_t window_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  const stats_detail::Served* s = FindLocked(deployment_id, served);
  if (!s) return {};
  WindowStats w = stats_detail::WindowOf(*s, now_ms, window_ms);
  const int64_t first = stats_detail::MinuteOf(now_ms - std::max<int64_t>(window_ms, 0));
  for (const stats_detail::Bucket& b : s->judged) {
    if (b.minute < first || b.minute > stats_detail::MinuteOf(now_ms)) continue;
    const WindowStats& j = b.counters.sums;
    w.requests -= j.requests;
    w.errors -= j.errors;
    w.throttled -= j.throttled;
    w.feedback -= j.feedback;
    w.positive -= j.positive;
    w.feedback_score_sum -= j.feedback_score_sum;
  }
  return w;
}

void DeploymentStats::ExcludeFromJudging(const std::string& deployment_id, const std::string& served) {
  std::lock_guard<std::mutex> lock(mu_);
  stats_detail::Served* s = FindLocked(deployment_id, served);
  if (!s) return;
  s->judged.clear();
  for (const stats_detail::Bucket& b : s->buckets) {
    stats_detail::Bucket kept;
    kept.minute = b.minute;
    kept.counters.sums = b.counters.sums;  // the latency bins are not judged
    s->judged.push_back(std::move(kept));
  }
}

std::vector<VariantStats> DeploymentStats::Summary(const std::string& deployment_id, int64_t now_ms, int64_t window_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  auto d = deployments_.find(deployment_id);
  if (d == deployments_.end()) return {};
  return stats_detail::SummaryOf(d->second, now_ms, window_ms);
}

int64_t DeploymentStats::LastRequest(const std::string& deployment_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto d = deployments_.find(deployment_id);
  int64_t last = 0;
  if (d == deployments_.end()) return last;
  for (const auto& s : d->second) last = std::max(last, s.second.last_request_ms);
  return last;
}

Status DeploymentStats::Forget(const std::string& deployment_id) {
  std::lock_guard<std::mutex> flush_lock(flush_mu_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    deployments_.erase(deployment_id);
    dirty_.erase(deployment_id);
  }
  persisted_.erase(deployment_id);
  return db_ ? db_->Delete(kDeploymentStatsKind, deployment_id) : Status::Ok();
}

Status DeploymentStats::Flush() {
  if (!db_) return Status::Ok();
  std::lock_guard<std::mutex> flush_lock(flush_mu_);
  // The documents are made under the lock, written after it: requests are not held up by SQLite.
  std::vector<std::pair<std::string, nlohmann::json>> docs;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const std::string& id : dirty_) {
      auto d = deployments_.find(id);
      if (d != deployments_.end()) docs.emplace_back(id, stats_detail::DeploymentToJson(d->second));
    }
    dirty_.clear();
  }
  if (docs.empty()) return Status::Ok();
  store::WriteBatch batch;
  for (auto& [id, doc] : docs) {
    store::ResourceRow row;
    row.kind = kDeploymentStatsKind;
    row.id = row.name = id;
    row.created_ms = NowMillis();
    row.doc = std::move(doc);
    row.doc["deploymentId"] = id;
    // A row left by another process (Load not called) is updated rather than inserted twice.
    if (persisted_.count(id) || db_->Find(kDeploymentStatsKind, id).ok()) {
      batch.updates.push_back(std::move(row));
    } else {
      batch.inserts.push_back(std::move(row));
    }
  }
  Status st = db_->Write(batch);
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& doc : docs) (st.ok() ? persisted_ : dirty_).insert(doc.first);
  return st;
}

Status DeploymentStats::Load() {
  if (!db_) return Status::Ok();
  std::lock_guard<std::mutex> flush_lock(flush_mu_);
  auto rows = db_->List(kDeploymentStatsKind);
  if (!rows.ok()) return rows.status();
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& row : *rows) {
    auto d = stats_detail::DeploymentFromJson(row.doc);
    persisted_.insert(row.id);
    if (!d.ok()) {
      // One bad row must not keep the server from starting; its numbers start again from zero.
      spdlog::warn("deployment stats of {}: {}; counting again from zero", row.id, d.status().message());
      dirty_.insert(row.id);
      deployments_.emplace(row.id, stats_detail::Deployment{});
      continue;
    }
    deployments_.emplace(row.id, std::move(*d));
  }
  return Status::Ok();
}

std::vector<VariantStats> DeploymentStats::SummaryFromRow(const store::ResourceRow& row, int64_t now_ms, int64_t window_ms) {
  auto d = stats_detail::DeploymentFromJson(row.doc);
  if (!d.ok()) return {};
  return stats_detail::SummaryOf(*d, now_ms, window_ms);
}

}  // namespace lathe::service
