// lathe's extension operations on custom model deployments (docs/compatibility.md), beside
// Bedrock's own in the operation table: the traffic split and rollback policy, feedback on a
// response, per-variant stats. Signed and answered like any Bedrock call: bad input is
// ValidationException (400), an unknown deployment or response id ResourceNotFoundException (404).
#include "services/bedrock/operations.h"

namespace lathe::bedrock {
using aws::RestInput;
using aws::RestOutput;
using nlohmann::json;

namespace {

constexpr int64_t kDefaultWindowSeconds = 3600;
constexpr int64_t kMaxWindowSeconds = 24 * 3600;  // the stats keep a day of minute buckets

// windowSeconds: digits only, checked by length before its value.
Result<int64_t> WindowSeconds(const RestInput& in) {
  auto it = in.query.find("windowSeconds");
  if (it == in.query.end()) return kDefaultWindowSeconds;
  const std::string& s = it->second;
  bool digits = !s.empty() && s.size() <= 6;
  for (char c : s) digits = digits && c >= '0' && c <= '9';
  const int64_t v = digits ? std::stoll(s) : 0;
  if (v < 1 || v > kMaxWindowSeconds) {
    return Status::InvalidArgument("windowSeconds: must be an integer from 1 to " + std::to_string(kMaxWindowSeconds));
  }
  return v;
}

Result<RestOutput> Answer(Result<json> r) {
  if (!r.ok()) return r.status();
  RestOutput out;
  out.body = std::move(*r);
  return out;
}

}  // namespace

void BedrockOperations::AddDeploymentExtensions(service::BedrockService* svc) {
  Add("PUT", "/lathe/custom-model-deployments/{customModelDeploymentIdentifier}/traffic", "LatheSetDeploymentTraffic",
      [svc](const RestInput& in) -> Result<RestOutput> {
        auto body = in.Json();
        if (!body.ok()) return body.status();
        return Answer(svc->deployments().SetTraffic(in.labels.at("customModelDeploymentIdentifier"), *body));
      });
  Add("POST", "/lathe/feedback", "LathePutFeedback", [svc](const RestInput& in) -> Result<RestOutput> {
    auto body = in.Json();
    if (!body.ok()) return body.status();
    LATHE_RETURN_IF_ERROR(svc->deployments().AddFeedback(*body));
    return RestOutput{};
  });
  Add("GET", "/lathe/custom-model-deployments/{customModelDeploymentIdentifier}/stats", "LatheGetDeploymentStats",
      [svc](const RestInput& in) -> Result<RestOutput> {
        auto window = WindowSeconds(in);
        if (!window.ok()) return window.status();
        return Answer(svc->deployments().Stats(in.labels.at("customModelDeploymentIdentifier"), *window * 1000));
      });
}

}  // namespace lathe::bedrock
