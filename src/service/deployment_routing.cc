// DeploymentService: loading models on loader threads, installing them in the routing snapshot,
// and routing requests (Route, Record).
#include <random>

#include <spdlog/spdlog.h>

#include "core/arn.h"
#include "service/deployment_service.h"

namespace lathe::service {
using nlohmann::json;

Result<DeploymentService::Prepared> DeploymentService::Prepare(const Want& want, const std::string& region) {
  auto model = FindServedModel(catalog_, custom_models_, want.model_arn, region);
  if (!model.ok()) return model.status();
  auto reservation = ReserveServedModel(catalog_, memory_, *model, config_.on_demand_slots, config_.weight_precision);
  if (!reservation.ok()) return reservation.status();
  return Prepared{std::move(*model), std::move(*reservation)};
}

void DeploymentService::Launch(const std::string& id, Role role, const Want& want, Prepared prepared) {
  loaders_.Run([this, id, role, want, prepared = std::move(prepared)] {
    auto loaded = LoadServedModel(catalog_, memory_, prepared.model, prepared.reservation,
                                  config_.on_demand_slots * config_.queue_per_slot);
    Install(id, role, want, std::move(loaded));
  });
}

void DeploymentService::Publish(Entry& e, std::shared_ptr<Snapshot> next) {
  next->split = e.split;
  e.live = std::move(next);
}

void DeploymentService::ClearChallengerLocked(Entry& e) {
  if (e.canary) e.split = {};
  else e.split.weight = 0;
  e.challenger = {};
  e.canary = false;
  e.canary_until_ms = 0;
  if (!e.live) return;
  auto next = std::make_shared<Snapshot>(*e.live);
  next->challenger = {};
  Publish(e, std::move(next));
}

void DeploymentService::Install(const std::string& id, Role role, const Want& want,
                                Result<std::shared_ptr<ModelPool>> loaded) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return;  // deleted meanwhile
  Entry& e = it->second;
  // A load that a later Update, alias move or traffic change superseded is dropped.
  if (!((role == Role::kChampion ? e.champion : e.challenger) == want)) return;
  auto row = db_->Find(kDeploymentKind, id);
  if (!row.ok()) return;
  json& doc = row->doc;
  const bool updating = doc.contains("updateDetails") && doc["updateDetails"].value("updateStatus", "") == "Updating";
  if (loaded.ok()) {
    auto next = e.live ? std::make_shared<Snapshot>(*e.live) : std::make_shared<Snapshot>();
    Served served{*loaded, want.served, want.model_arn};
    if (role == Role::kChampion) {
      next->champion = std::move(served);
    } else {
      next->challenger = std::move(served);
      // Watched from its first request on; a canary restored after a restart keeps its watch.
      if (e.canary && e.canary_until_ms == 0) e.canary_until_ms = Now() + e.policy.watch_ms;
    }
    // One pointer swap: requests that started on the old snapshot finish on it.
    Publish(e, std::move(next));
    e.follow_error.clear();
    e.failed_served.clear();
    row->status = "Active";
    doc.erase("failureMessage");
    if (role == Role::kChampion && updating) doc["updateDetails"]["updateStatus"] = "UpdateCompleted";
  } else {
    const std::string message = loaded.status().message();
    if (role == Role::kChallenger) {
      spdlog::warn("deployment {}: challenger {} failed to load: {}", e.name, want.served, message);
      e.failed_served = want.served;  // a canary is not loaded again every follower step
      ClearChallengerLocked(e);
    } else if (!e.live) {
      row->status = "Failed";
      doc["failureMessage"] = message;
    } else if (updating) {
      doc["updateDetails"]["updateStatus"] = "UpdateFailed";
      doc["failureMessage"] = message;
    } else {
      // An alias move whose version does not load: the old version serves on.
      if (e.follow_error != message) spdlog::warn("deployment {}: {} failed to load: {}", e.name, want.served, message);
      e.follow_error = message;
      e.failed_served = want.served;
    }
    if (role == Role::kChampion && e.live) e.champion = Want{e.champion.reference, e.live->champion.model_arn,
                                                             e.live->champion.served, e.champion.follows, ""};
  }
  doc["status"] = row->status;
  doc["lastUpdatedAt"] = Iso8601(NowMillis());
  SaveServingLocked(e, &*row);
  (void)db_->Update(*row);
}

Result<DeploymentService::Routed> DeploymentService::Route(const std::string& identifier, const std::string& user_id) {
  std::shared_ptr<const Snapshot> live;
  Routed routed;
  std::string name;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Entry* e = FindEntryLocked(identifier);
    if (!e) return DeploymentNotFound(identifier);
    live = e->live;
    routed.deployment_id = e->id;
    routed.deployment_arn = e->arn;
    name = e->name;
  }
  if (user_id.size() > kMaxUserIdBytes)
    return Status::InvalidArgument("The user id is " + std::to_string(user_id.size()) + " bytes, at most " +
                                   std::to_string(kMaxUserIdBytes));
  // A snapshot without a champion pool: after a restart during a canary the challenger may load
  // first; until the champion has, the deployment is not ready (never a null pool to generate on).
  if (!live || !live->champion.pool) {
    auto row = db_->Find(kDeploymentKind, routed.deployment_id);
    if (row.ok() && row->status == "Failed")
      return Status::InvalidArgument("Custom model deployment " + name + " failed: " + row->doc.value("failureMessage", ""));
    return Status::Aws("ModelNotReadyException", 429,
                       "Custom model deployment " + name + " is Creating; retry when it is Active",
                       Status::Code::kThrottled);
  }
  const Served* served = &live->champion;
  if (live->challenger.pool && live->split.weight > 0) {
    thread_local std::mt19937_64 draw(std::random_device{}());
    const double uniform01 = std::uniform_real_distribution<double>(0.0, 1.0)(draw);
    routed.variant = ChooseVariant(live->split, routed.deployment_id, user_id, uniform01);
    if (routed.variant == Variant::kChallenger) served = &live->challenger;
  }
  routed.pool = served->pool;
  routed.served = served->served;
  routed.model_arn = served->model_arn;
  return routed;
}

std::string DeploymentService::Record(const Routed& routed, Outcome outcome) {
  outcome.deployment_id = routed.deployment_id;
  outcome.variant = routed.variant;
  outcome.served = routed.served;
  if (outcome.time_ms == 0) outcome.time_ms = Now();
  return stats_.Record(outcome);
}

}  // namespace lathe::service
