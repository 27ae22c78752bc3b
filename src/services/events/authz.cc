// What IAM must allow for each EventBridge operation: events:<Operation> on the rule it names
// (arn:aws:events:<region>:<account>:rule/<name>, or the ResourceARN given), "*" otherwise;
// PutTargets with a target role also needs iam:PassRole on it, passed to events.amazonaws.com.
#include <nlohmann/json.hpp>

#include "aws/rest_json.h"
#include "core/arn.h"
#include "services/events/service.h"

namespace lathe::events {

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
  if (op.operation == "PutTargets") {
    Result<nlohmann::json> body = aws::ParseJsonObjectBody(op.body);
    if (body.ok() && body->contains("Targets") && (*body)["Targets"].is_array())
      for (const nlohmann::json& t : (*body)["Targets"])
        if (t.is_object() && t.contains("RoleArn") && t["RoleArn"].is_string())
          r.checks.push_back(aws::PassRole(t["RoleArn"].get<std::string>(), "events.amazonaws.com"));
  }
  return r;
}

}  // namespace lathe::events
