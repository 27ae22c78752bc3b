// What IAM must allow for each EventBridge operation: events:<Operation> on the rule it names
// (arn:aws:events:<region>:<account>:rule/<name>, or the ResourceARN given), "*" otherwise;
// PutTargets with a target role also needs iam:PassRole on it, passed to events.amazonaws.com,
// and what delivering to each target does (lambda:InvokeFunction, states:StartExecution,
// sns:Publish on the target's ARN).
#include <nlohmann/json.hpp>

#include "aws/rest_json.h"
#include "core/arn.h"
#include "services/events/deliverers.h"
#include "services/events/service.h"

namespace lathe::events {
namespace {

// What delivering to `arn` does in the target's service. lathe delivers as the account, with no
// resource policy (AWS's function, topic and state machine policies) and no target role
// evaluated: the one who adds the target must be allowed to do it themselves.
std::string DeliveryAction(const std::string& arn) {
  const std::string service = ArnService(arn);
  if (service == "lambda") return "lambda:InvokeFunction";
  if (service == "states") return "states:StartExecution";
  if (service == "sns") return "sns:Publish";
  return "";
}

}  // namespace

aws::AccessRequest EventsAccess(const aws::OperationView& op) {
  std::string resource = op.BodyMember("ResourceARN");
  std::string rule = op.BodyMember(op.operation == "PutRule" || op.operation == "DescribeRule" ||
                                           op.operation == "DeleteRule" || op.operation == "EnableRule" ||
                                           op.operation == "DisableRule"
                                       ? "Name"
                                       : "Rule");
  if (resource.empty() && !rule.empty())
    resource = MakeArn("events", op.context->region, op.context->caller.account, "rule/" + rule);
  aws::AccessRequest r = aws::Require("events:" + std::string(op.operation), {resource.empty() ? "*" : resource});
  // A rule's own role (PutRule RoleArn) acts for it later, when no request passes it.
  if (op.operation == "PutRule")
    if (std::string role = op.BodyMember("RoleArn"); !role.empty())
      r.checks.push_back(aws::PassRole(role, "events.amazonaws.com"));
  if (op.operation == "PutTargets") {
    Result<nlohmann::json> body = aws::ParseJsonObjectBody(op.body);
    // More than 100 targets the operation refuses before it stores any.
    if (body.ok() && body->contains("Targets") && (*body)["Targets"].is_array() && (*body)["Targets"].size() <= 100)
      for (const nlohmann::json& t : (*body)["Targets"]) {
        if (!t.is_object()) continue;
        if (t.contains("Arn") && t["Arn"].is_string()) {
          const std::string arn = t["Arn"].get<std::string>();
          if (std::string action = DeliveryAction(arn); !action.empty()) r.checks.push_back({action, {arn}, {}});
        }
        if (t.contains("RoleArn") && t["RoleArn"].is_string())
          r.checks.push_back(aws::PassRole(t["RoleArn"].get<std::string>(), "events.amazonaws.com"));
      }
  }
  return r;
}

}  // namespace lathe::events
