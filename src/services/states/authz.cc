// What IAM must allow for each Step Functions operation: states:<Operation> on the state machine
// or execution it names ("*" when none); creating or updating a state machine with a role also
// needs iam:PassRole on it, passed to states.amazonaws.com, and on each role its definition's
// Tasks name for the jobs they start (passed to bedrock.amazonaws.com).
#include <nlohmann/json.hpp>

#include "services/states/service.h"

namespace lathe::states {
namespace {

// Every literal role a definition's Task parameters name ("RoleArn"/"roleArn", e.g. for
// bedrock:createModelCustomizationJob): the job later runs with it and no request passes it
// then, so the one who writes the definition must be allowed to pass it. Roles computed at run
// time ("RoleArn.$") cannot be known here (docs/iam.md). Depth- and count-bounded: past
// either bound, "*" stands for the roles not looked at (PassRole on every role).
void RolesIn(const nlohmann::json& v, int depth, std::vector<std::string>* roles) {
  if (depth > 64 || roles->size() >= 64) {
    if (roles->empty() || roles->back() != "*") roles->push_back("*");
    return;
  }
  if (v.is_array())
    for (const nlohmann::json& e : v) RolesIn(e, depth + 1, roles);
  if (!v.is_object()) return;
  for (auto it = v.begin(); it != v.end(); ++it) {
    if ((it.key() == "RoleArn" || it.key() == "roleArn") && it.value().is_string())
      roles->push_back(it.value().get<std::string>());
    else
      RolesIn(it.value(), depth + 1, roles);
  }
}

}  // namespace

aws::AccessRequest StatesAccess(const aws::OperationView& op) {
  std::string resource;
  for (const char* member : {"stateMachineArn", "executionArn", "resourceArn"})
    if (resource.empty()) resource = op.BodyMember(member);
  aws::AccessRequest r = aws::Require("states:" + std::string(op.operation), {resource.empty() ? "*" : resource});
  if (op.operation == "CreateStateMachine" || op.operation == "UpdateStateMachine")
    if (std::string role = op.BodyMember("roleArn"); !role.empty())
      r.checks.push_back(aws::PassRole(role, "states.amazonaws.com"));
  if (op.operation == "CreateStateMachine" || op.operation == "UpdateStateMachine") {
    const std::string definition = op.BodyMember("definition");
    nlohmann::json parsed = nlohmann::json::parse(definition, nullptr, /*allow_exceptions=*/false);
    std::vector<std::string> roles;
    if (!parsed.is_discarded()) RolesIn(parsed, 0, &roles);
    for (const std::string& role : roles) r.checks.push_back(aws::PassRole(role, "bedrock.amazonaws.com"));
  }
  return r;
}

}  // namespace lathe::states
