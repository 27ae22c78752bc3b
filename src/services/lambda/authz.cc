// What IAM must allow for each Lambda operation: lambda:<Operation> (Invoke is
// lambda:InvokeFunction) on the function's ARN (arn:aws:lambda:<region>:<account>:function:<name>,
// or the ARN given in its place), "*" for ListFunctions; creating a function, or changing its
// role, also needs iam:PassRole on the role, passed to lambda.amazonaws.com.
#include "core/arn.h"
#include "services/lambda/service.h"

namespace lathe::lambda {

aws::AccessRequest LambdaAccess(const aws::OperationView& op) {
  std::string name = op.Label("FunctionName");
  if (op.operation == "CreateFunction") name = op.BodyMember("FunctionName");
  std::string resource = "*";
  if (name.compare(0, 4, "arn:") == 0) resource = name;
  else if (!name.empty()) resource = MakeArn("lambda", op.context->region, op.context->caller.account, "function:" + name);
  const std::string action = op.operation == "Invoke" ? "lambda:InvokeFunction" : "lambda:" + std::string(op.operation);
  aws::AccessRequest r = aws::Require(action, {resource});
  if (op.operation == "CreateFunction" || op.operation == "UpdateFunctionConfiguration")
    if (std::string role = op.BodyMember("Role"); !role.empty())
      r.checks.push_back(aws::PassRole(role, "lambda.amazonaws.com"));
  return r;
}

}  // namespace lathe::lambda
