// PLACEHOLDER until deploy-traffic's deployment_stats.cc and deployment_traffic.cc reach main:
// the least that links DeploymentService (no counting, no feedback). Deleted when they land.
#include "core/arn.h"
#include "service/deployment_stats.h"
#include "service/deployment_traffic.h"

namespace lathe::service {
using nlohmann::json;

json TrafficToJson(const TrafficSplit& t) {
  return {{"challengerModelArn", t.challenger}, {"challengerWeight", t.weight}, {"sticky", t.sticky}};
}
Result<TrafficSplit> TrafficFromJson(const json& j) {
  TrafficSplit t;
  if (!j.is_object()) return Status::InvalidArgument("traffic: must be an object");
  if (j.contains("challengerModelArn") && j["challengerModelArn"].is_string()) t.challenger = j["challengerModelArn"];
  if (j.contains("challengerWeight") && j["challengerWeight"].is_number()) t.weight = j["challengerWeight"];
  if (j.contains("sticky") && j["sticky"].is_boolean()) t.sticky = j["sticky"];
  if (t.weight < 0 || t.weight > 1) return Status::InvalidArgument("challengerWeight: must be between 0 and 1");
  return t;
}
const char* VariantName(Variant v) { return v == Variant::kChampion ? "champion" : "challenger"; }
Variant ChooseVariant(const TrafficSplit& split, const std::string& salt, const std::string& user_id, double uniform01) {
  if (split.sticky && !user_id.empty())
    uniform01 = static_cast<double>(std::hash<std::string>()(salt + "\n" + user_id) % 1000000) / 1e6;
  return uniform01 < split.weight ? Variant::kChallenger : Variant::kChampion;
}
json RollbackPolicyToJson(const RollbackPolicy& p) { return {{"enabled", p.enabled}, {"canaryWeight", p.canary_weight}}; }
Result<RollbackPolicy> RollbackPolicyFromJson(const json& j) {
  RollbackPolicy p;
  if (j.is_object() && j.contains("enabled") && j["enabled"].is_boolean()) p.enabled = j["enabled"];
  if (j.is_object() && j.contains("canaryWeight") && j["canaryWeight"].is_number()) p.canary_weight = j["canaryWeight"];
  return p;
}
RollbackVerdict JudgeChallenger(const RollbackPolicy& policy, const WindowStats& w, const std::string& regression) {
  if (!regression.empty()) return {true, regression};
  if (w.requests >= policy.min_requests && w.requests > 0 &&
      static_cast<double>(w.errors) / static_cast<double>(w.requests) > policy.max_error_rate)
    return {true, "error rate over the policy's maximum"};
  return {};
}

Status DeploymentStats::Load() { return Status::Ok(); }
std::string DeploymentStats::Record(const Outcome&) { return "resp-" + NewResourceId(20); }
Status DeploymentStats::AddFeedback(const std::string& id, const Feedback&) {
  return Status::NotFound("response " + id + " not found");
}
WindowStats DeploymentStats::Window(const std::string&, const std::string&, int64_t, int64_t) { return {}; }
std::vector<VariantStats> DeploymentStats::Summary(const std::string&, int64_t, int64_t) { return {}; }
int64_t DeploymentStats::LastRequest(const std::string&) { return 0; }
Status DeploymentStats::Forget(const std::string&) { return Status::Ok(); }
Status DeploymentStats::Flush() { return Status::Ok(); }
std::vector<VariantStats> DeploymentStats::SummaryFromRow(const store::ResourceRow&, int64_t, int64_t) { return {}; }

}  // namespace lathe::service
