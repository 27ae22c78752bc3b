// DeploymentService's lathe extensions (docs/compatibility.md): the traffic split and rollback
// policy of a deployment, feedback on a response, per-variant stats.
#include "core/arn.h"
#include "service/deployment_service.h"
#include "service/request_fields.h"

namespace lathe::service {
using nlohmann::json;

namespace {

// `base` with the members `overlay` sets (null members are absent, as in AWS's JSON protocols).
Result<json> Overlay(json base, const json& overlay, const std::string& member) {
  if (overlay.is_null()) return base;
  if (!overlay.is_object()) return ValidationError(member, "must be an object");
  for (const auto& [k, v] : overlay.items())
    if (!v.is_null()) base[k] = v;
  return base;
}

}  // namespace

Result<json> DeploymentService::SetTraffic(const std::string& identifier, const json& request) {
  if (!request.is_object()) return ValidationError("request", "must be an object");
  std::string id, arn;
  TrafficSplit current_split;
  RollbackPolicy current_policy;
  bool challenger_absent = true;  // none loaded or loading (e.g. rolled back): the same one loads again
  {
    std::lock_guard<std::mutex> lock(mu_);
    Entry* e = FindEntryLocked(identifier);
    if (!e) return DeploymentNotFound(identifier);
    id = e->id;
    arn = e->arn;
    current_split = e->split;
    current_policy = e->policy;
    challenger_absent = e->challenger.model_arn.empty();
  }
  json traffic = request;
  traffic.erase("rollbackPolicy");
  LATHE_ASSIGN_OR_RETURN(json merged_split, Overlay(TrafficToJson(current_split), traffic, "traffic"));
  LATHE_ASSIGN_OR_RETURN(const TrafficSplit split, TrafficFromJson(merged_split));
  LATHE_ASSIGN_OR_RETURN(json merged_policy, Overlay(RollbackPolicyToJson(current_policy),
                                                     request.value("rollbackPolicy", json()), "rollbackPolicy"));
  LATHE_ASSIGN_OR_RETURN(const RollbackPolicy policy, RollbackPolicyFromJson(merged_policy));
  // A new challenger is resolved and admitted to the memory budget before anything changes.
  std::optional<Want> challenger;
  std::optional<Prepared> prepared;
  if (!split.challenger.empty() && (split.challenger != current_split.challenger || (challenger_absent && split.weight > 0))) {
    LATHE_ASSIGN_OR_RETURN(Want want, Resolve(split.challenger));
    LATHE_ASSIGN_OR_RETURN(Prepared ready, Prepare(want, ArnRegion(arn)));
    challenger = std::move(want);
    prepared = std::move(ready);
  }
  json out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(id);
    if (it == entries_.end()) return DeploymentNotFound(identifier);
    Entry& e = it->second;
    e.split = split;
    e.policy = policy;
    // Only a request naming a challenger replaces an alias move's canary: a new weight or policy
    // leaves it under watch.
    const bool names_challenger = request.contains("challengerModelArn") && !request["challengerModelArn"].is_null();
    if (names_challenger) {
      e.canary = false;
      e.canary_until_ms = 0;
    }
    if (split.challenger.empty()) e.challenger = {};
    else if (challenger) e.challenger = *challenger;
    if (e.live) {
      auto next = std::make_shared<Snapshot>(*e.live);
      // The old challenger serves until the new one has loaded only if it is the same model.
      if (split.challenger.empty() || challenger) next->challenger = {};
      Publish(e, std::move(next));
    }
    auto row = db_->Find(kDeploymentKind, id);
    if (!row.ok()) return row.status();
    SaveServingLocked(e, &*row);
    row->doc["lastUpdatedAt"] = Iso8601(NowMillis());
    LATHE_RETURN_IF_ERROR(db_->Update(*row));
    out = {{"customModelDeploymentArn", e.arn}, {"traffic", TrafficToJson(e.split)},
           {"rollbackPolicy", RollbackPolicyToJson(e.policy)}};
  }
  if (challenger) Launch(id, Role::kChallenger, *challenger, std::move(*prepared));
  return out;
}

Status DeploymentService::AddFeedback(const json& request) {
  if (!request.is_object()) return ValidationError("request", "must be an object");
  static const FieldRule kResponseId{"ResponseId", 1, 64, nullptr};
  static const FieldRule kRating{"Rating", 0, 8, nullptr};
  static const FieldRule kComment{"Comment", 0, kMaxFeedbackCommentBytes, nullptr};
  LATHE_ASSIGN_OR_RETURN(const std::string response_id, RequireString(request, "responseId", kResponseId));
  LATHE_ASSIGN_OR_RETURN(const auto rating, OptionalString(request, "rating", kRating));
  LATHE_ASSIGN_OR_RETURN(const auto comment, OptionalString(request, "comment", kComment));
  Feedback feedback;
  feedback.rating = rating.value_or("");
  feedback.comment = comment.value_or("");
  if (request.contains("score") && !request["score"].is_null()) {
    if (!request["score"].is_number()) return ValidationError("score", "must be a number between 0 and 1");
    feedback.score = request["score"].get<double>();
  }
  return stats_.AddFeedback(response_id, feedback);
}

Result<json> DeploymentService::Stats(const std::string& identifier, int64_t window_ms) {
  std::string id, arn, name, reference, champion, challenger;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Entry* e = FindEntryLocked(identifier);
    if (!e) return DeploymentNotFound(identifier);
    id = e->id;
    arn = e->arn;
    name = e->name;
    reference = e->champion.reference;
    if (e->live) {
      champion = e->live->champion.served;
      if (e->live->challenger.pool && e->split.weight > 0) challenger = e->live->challenger.served;
    }
  }
  json variants = json::array();
  for (const VariantStats& v : stats_.Summary(id, Now(), window_ms)) {
    const char* what = v.served == champion ? "champion" : v.served == challenger ? "challenger" : "retired";
    variants.push_back(VariantStatsToJson(v, what));  // the shape `lathe deployments stats` reads offline too
  }
  json rollbacks = json::array();
  if (auto row = db_->Find(kDeploymentKind, id); row.ok()) rollbacks = row->doc.value("rollbacks", json::array());
  return json{{"deploymentArn", arn},        {"deploymentName", name},
              {"modelArn", reference},       {"variants", variants},
              {"windowSeconds", window_ms / 1000}, {"rollbacks", rollbacks}};
}

}  // namespace lathe::service
