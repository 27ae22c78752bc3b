#include "services/iam/role_access.h"

#include <spdlog/spdlog.h>

#include "aws/access.h"
#include "services/iam/enforcement.h"
#include "services/iam/simulation.h"

namespace lathe::iam {

std::string RoleRefusal(IamBackend* iam, const std::string& account, const std::string& role_arn,
                        const std::string& action, const std::string& resource) {
  // Only a role of the job's own account. Named in any case or with another path it is the role
  // IAM holds under that name (role names are unique in an account, whatever the case), as
  // iam:PassRole resolved it: a job must not escape its role's policies by respelling it.
  const std::string prefix = "arn:aws:iam::" + account + ":role/";
  if (role_arn.size() > 2048 || role_arn.compare(0, prefix.size(), prefix) != 0) return "";
  const std::string name = role_arn.substr(role_arn.rfind('/') + 1);
  Result<Role> role = iam->GetRole(account, name);
  // Not held (or a name no role could have): unbounded, as before roles were evaluated.
  if (!role.ok() && (role.status().code() == Status::Code::kNotFound ||
                     role.status().code() == Status::Code::kInvalidArgument))
    return "";
  Result<std::vector<Policy>> policies =
      role.ok() ? PoliciesOf(iam, account, role->arn) : Result<std::vector<Policy>>(role.status());
  if (!policies.ok()) {
    // Why stays in the server's log; the job says only that the role was refused.
    spdlog::warn("refused {} on {} to role {}: its policies cannot be read: {}", action, resource, role_arn,
                 policies.status().message());
    return "User: " + role_arn + " is not authorized to perform: " + action + " because its policies cannot be read";
  }
  Principal principal;
  principal.account = account;
  principal.arn = role_arn;
  principal.policies = std::move(*policies);
  const ConditionContext context = {{"aws:principalarn", {role_arn}},
                                    {"aws:principalaccount", {account}},
                                    {"aws:principaltype", {"AssumedRole"}}};
  AccessDecision decision = Decide(principal, context, aws::Require(action, {resource}));
  return decision.allowed ? "" : decision.message;
}

}  // namespace lathe::iam
