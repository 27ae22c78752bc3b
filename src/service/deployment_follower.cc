// DeploymentService's follower: every kFollowIntervalMs it re-resolves the deployments (and
// provisioned throughputs) on registry aliases and loads what an alias moved to, judges
// challengers against their rollback policy, and flushes the stats.
#include <spdlog/spdlog.h>

#include "core/arn.h"
#include "service/deployment_service.h"
#include "service/throughput_service.h"

namespace lathe::service {
using nlohmann::json;

namespace {
constexpr int64_t kFlushIntervalMs = 5000;
constexpr size_t kMaxRollbacksKept = 20;  // per deployment row
constexpr const char* kActor = "lathe-deployments";
}  // namespace

void DeploymentService::Run() {
  std::unique_lock<std::mutex> lock(follow_mu_);
  while (!stopping_) {
    lock.unlock();
    FollowOnce();
    lock.lock();
    follow_cv_.wait_for(lock, std::chrono::milliseconds(kFollowIntervalMs), [this] { return stopping_; });
  }
}

void DeploymentService::FollowOnce() {
  std::lock_guard<std::mutex> step(step_mu_);
  if (throughput_) throughput_->FollowAliases();
  std::vector<std::string> ids;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [id, e] : entries_) ids.push_back(id);
  }
  const int64_t now = Now();
  for (const std::string& id : ids) {
    FollowAlias(id);
    JudgeChallenger(id, now);
  }
  if (now - last_flush_ms_ < kFlushIntervalMs) return;
  last_flush_ms_ = now;
  (void)stats_.Flush();
  // lastInvokedMs: what idle cleanup reads from the row, written at most once per flush.
  for (const std::string& id : ids) {
    const int64_t last = stats_.LastRequest(id);
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(id);
    if (it == entries_.end() || last <= it->second.saved_last_invoked_ms) continue;
    auto row = db_->Find(kDeploymentKind, id);
    if (!row.ok()) continue;
    row->doc["lastInvokedMs"] = last;
    if (db_->Update(*row).ok()) it->second.saved_last_invoked_ms = last;
  }
}

void DeploymentService::FollowAlias(const std::string& id) {
  std::string reference, arn;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(id);
    if (it == entries_.end() || !it->second.champion.follows || !it->second.live) return;
    reference = it->second.champion.reference;
    arn = it->second.arn;
  }
  if (!resolver_) return;
  auto resolved = Resolve(reference);  // outside mu_: it reads the registry's rows
  if (!resolved.ok()) return;          // an alias deleted meanwhile: the last holder serves on
  Prepared prepared;
  Role role = Role::kChampion;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(id);
    if (it == entries_.end()) return;
    Entry& e = it->second;
    if (*resolved == e.champion) {
      if (e.canary) ClearChallengerLocked(e);  // moved back by hand while under watch: the canary goes
      return;
    }
    if (e.canary && *resolved == e.challenger) {
      e.challenger.regression = resolved->regression;  // a post-promotion evaluation may have come in
      return;
    }
    if (resolved->served == e.failed_served) return;
    // With a rollback policy (and no fixed challenger), the new holder is a canary; else it
    // replaces the champion once loaded.
    role = e.policy.enabled && (e.canary || e.challenger.model_arn.empty()) ? Role::kChallenger : Role::kChampion;
  }
  auto ready = Prepare(*resolved, ArnRegion(arn));
  if (!ready.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(id);
    if (it != entries_.end() && it->second.follow_error != ready.status().message()) {
      spdlog::warn("deployment {}: {} cannot load: {}", it->second.name, resolved->served, ready.status().message());
      it->second.follow_error = ready.status().message();
    }
    return;  // tried again next time: memory may be freed meanwhile
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(id);
    if (it == entries_.end()) return;
    Entry& e = it->second;
    if (role == Role::kChampion) {
      e.champion = *resolved;
    } else {
      e.challenger = *resolved;
      e.canary = true;
      e.canary_until_ms = 0;  // the watch starts when it has loaded (Install)
      e.split = TrafficSplit{resolved->served, e.policy.canary_weight, true};
    }
  }
  Launch(id, role, *resolved, std::move(*ready));
}

void DeploymentService::JudgeChallenger(const std::string& id, int64_t now) {
  std::string served, regression;
  RollbackPolicy policy;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(id);
    if (it == entries_.end()) return;
    Entry& e = it->second;
    if (!e.policy.enabled || !e.live || !e.live->challenger.pool || e.split.weight <= 0) return;
    served = e.live->challenger.served;
    policy = e.policy;
    // The canary is the alias's holder: its evaluations since the move count against it.
    if (e.canary && e.challenger.served == served) regression = e.challenger.regression;
  }
  const WindowStats window = stats_.JudgeWindow(id, served, now, policy.window_ms);
  const RollbackVerdict verdict = service::JudgeChallenger(policy, window, regression);
  if (verdict.roll_back) return RollBack(id, verdict.reason, now);
  // A healthy canary becomes the champion once its watch ends.
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  Entry& e = it->second;
  if (!e.canary || now < e.canary_until_ms || !e.live || e.live->challenger.served != served) return;
  auto next = std::make_shared<Snapshot>(*e.live);
  next->champion = next->challenger;
  next->challenger = {};
  e.champion = e.challenger;
  e.challenger = {};
  e.canary = false;
  e.split = {};
  Publish(e, std::move(next));
  if (auto row = db_->Find(kDeploymentKind, id); row.ok()) {
    SaveServingLocked(e, &*row);
    (void)db_->Update(*row);
  }
}

void DeploymentService::RollBack(const std::string& id, const std::string& reason, int64_t now) {
  std::string reference, from, to;
  bool canary = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(id);
    if (it == entries_.end() || !it->second.live) return;
    Entry& e = it->second;
    canary = e.canary;
    reference = canary ? e.champion.reference : e.split.challenger;
    from = e.live->challenger.served;
    to = e.live->champion.served;
  }
  // The alias goes back first (outside mu_: the registry writes its rows), from the canary to the
  // champion only (compare and set): another deployment on the alias may have moved it back
  // already, or a person elsewhere; then nothing moves and nothing is published.
  bool moved = !canary;  // a fixed challenger only loses its traffic
  std::string error;
  if (canary) {
    Result<bool> r = alias_rollback_ ? alias_rollback_(reference, from, to, kActor, reason)
                                     : Result<bool>(Status::Internal("no model registry is wired to move the alias"));
    if (r.ok()) {
      moved = *r;
    } else {
      error = r.status().message();
      spdlog::warn("deployment {}: rolling back {} failed: {}", id, reference, error);
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end() || !it->second.live) return;
  Entry& e = it->second;
  // The bad version stops serving either way, and is not loaded again until the alias moves on.
  e.failed_served = from;
  ClearChallengerLocked(e);
  stats_.ExcludeFromJudging(id, from);  // given traffic again, it is judged on its new requests
  auto row = db_->Find(kDeploymentKind, id);
  if (!row.ok()) return;
  SaveServingLocked(e, &*row);
  if (!moved && error.empty()) {  // the alias no longer held the canary: someone else's move
    (void)db_->Update(*row);
    return;
  }
  const json window = {{"windowSeconds", e.policy.window_ms / 1000}};
  json detail = {{"deploymentArn", e.arn}, {"deploymentName", e.name}, {"reference", reference}, {"from", from},
                 {"to", to},           {"reason", reason},         {"window", window}};
  if (moved) {
    json rollbacks = row->doc.value("rollbacks", json::array());
    rollbacks.push_back({{"timeMs", now}, {"from", from}, {"to", to}, {"reason", reason}, {"reference", reference}});
    while (rollbacks.size() > kMaxRollbacksKept) rollbacks.erase(rollbacks.begin());
    row->doc["rollbacks"] = rollbacks;
  } else {
    detail["error"] = error;
  }
  store::OutboxEvent event;
  event.source = "lathe.deployments";
  event.detail_type = moved ? "Deployment Rolled Back" : "Deployment Rollback Failed";
  event.account = config_.scope.account;
  event.region = ArnRegion(e.arn);
  event.resources = {e.arn};
  event.detail = std::move(detail);
  event.time_ms = NowMillis();
  if (Status s = db_->UpdateAndPublish(*row, event); !s.ok())
    spdlog::warn("deployment {}: the rollback could not be recorded: {}", e.name, s.message());
}

}  // namespace lathe::service
