// What IAM must allow for each Step Functions operation: states:<Operation> on the state machine
// or execution it names ("*" when none); creating or updating a state machine with a role also
// needs iam:PassRole on it, passed to states.amazonaws.com.
#include "services/states/service.h"

namespace lathe::states {

aws::AccessRequest StatesAccess(const aws::OperationView& op) {
  std::string resource;
  for (const char* member : {"stateMachineArn", "executionArn", "resourceArn"})
    if (resource.empty()) resource = op.BodyMember(member);
  aws::AccessRequest r = aws::Require("states:" + std::string(op.operation), {resource.empty() ? "*" : resource});
  if (op.operation == "CreateStateMachine" || op.operation == "UpdateStateMachine")
    if (std::string role = op.BodyMember("roleArn"); !role.empty())
      r.checks.push_back(aws::PassRole(role, "states.amazonaws.com"));
  return r;
}

}  // namespace lathe::states
