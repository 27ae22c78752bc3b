// What IAM must allow for each Lambda operation: lambda:<Operation> (Invoke is
// lambda:InvokeFunction) on the function's ARN (arn:aws:lambda:<region>:<account>:function:<name>,
// however the request spelled it), "*" for ListFunctions; creating a function, or changing its
// role, also needs iam:PassRole on the role, passed to lambda.amazonaws.com. Choosing a
// function's code or configuration is the administrator's alone (see below).
#include "core/arn.h"
#include "services/lambda/names.h"
#include "services/lambda/service.h"

namespace lathe::lambda {

aws::AccessRequest LambdaAccess(const aws::OperationView& op) {
  std::string name = op.Label("FunctionName");
  if (op.operation == "CreateFunction") name = op.BodyMember("FunctionName");
  // Every spelling Lambda accepts (name, partial ARN, full ARN, each with a qualifier) is the
  // one full ARN a policy names; one it refuses is "*" (the operation answers the error).
  std::string resource = "*";
  if (Result<FunctionRef> ref = ParseFunctionRef(name); ref.ok()) {
    resource = MakeArn("lambda", ref->region.empty() ? op.context->region : ref->region,
                       ref->account.empty() ? op.context->caller.account : ref->account, "function:" + ref->name);
    if (!ref->qualifier.empty()) resource += ":" + ref->qualifier;
  }
  const std::string action = op.operation == "Invoke" ? "lambda:InvokeFunction" : "lambda:" + std::string(op.operation);
  aws::AccessRequest r = aws::Require(action, {resource});
  if (op.operation == "CreateFunction" || op.operation == "UpdateFunctionConfiguration")
    if (std::string role = op.BodyMember("Role"); !role.empty())
      r.checks.push_back(aws::PassRole(role, "lambda.amazonaws.com"));
  // A built-in function starts a Bedrock job with the event's roleArn (builtins.cc): naming a
  // role in the payload passes it.
  if (op.operation == "Invoke")
    if (std::string role = op.BodyMember("roleArn"); !role.empty())
      r.checks.push_back(aws::PassRole(role, "bedrock.amazonaws.com"));
  // lathe runs every function with the administrator's key (AWS would give it its role's): who
  // chooses a function's code, handler or environment acts as the administrator.
  if (op.operation == "CreateFunction" || op.operation == "UpdateFunctionCode" ||
      op.operation == "UpdateFunctionConfiguration")
    r.administrator_only = "functions run with the administrator's credentials in lathe";
  return r;
}

}  // namespace lathe::lambda
