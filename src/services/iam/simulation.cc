#include "services/iam/simulation.h"

#include "services/iam/errors.h"
#include "services/iam/operations_internal.h"

namespace lathe::iam {
namespace {

// The last path segment of an IAM ARN's resource ("role/path/name" -> "name").
std::string NameOf(std::string_view arn) {
  const size_t slash = arn.rfind('/');
  return slash == std::string_view::npos ? "" : std::string(arn.substr(slash + 1));
}

Status AddDocument(std::vector<Policy>* out, const std::string& document, std::string id, std::string type) {
  Result<Policy> p = ParsePolicy(document, std::move(id), std::move(type));
  if (!p.ok()) return p.status();
  out->push_back(std::move(*p));
  return Status::Ok();
}

Status AddAttached(IamBackend* iam, const std::string& account, const std::vector<std::string>& arns,
                   std::vector<Policy>* out) {
  for (const std::string& arn : arns) {
    Result<ManagedPolicy> p = iam->GetPolicy(account, arn);
    if (!p.ok()) continue;  // deleted since: grants and denies nothing
    if (const PolicyVersionInfo* v = p->DefaultVersion())
      LATHE_RETURN_IF_ERROR(AddDocument(out, v->document, arn, p->account == "aws" ? "aws-managed" : "user-managed"));
  }
  return Status::Ok();
}

bool ValidAction(const std::string& action) {
  if (action.size() > 128) return false;
  const size_t colon = action.find(':');
  return colon != std::string::npos && colon > 0 && colon + 1 < action.size() &&
         action.find(':', colon + 1) == std::string::npos;
}

}  // namespace

Result<std::vector<Policy>> PoliciesOf(IamBackend* iam, const std::string& account, const std::string& source_arn) {
  const std::string prefix = "arn:aws:iam::" + account + ":";
  if (source_arn.size() > 2048 || source_arn.compare(0, prefix.size(), prefix) != 0)
    return InvalidInput("PolicySourceArn must be the ARN of a user, group or role of account " + account);
  const std::string_view resource = std::string_view(source_arn).substr(prefix.size());
  const std::string name = NameOf(resource);
  std::vector<Policy> policies;
  if (resource.substr(0, 5) == "user/") {
    Result<Principal> p = iam->PrincipalFor(account, source_arn);
    if (!p.ok()) return p.status();
    return p->policies;
  }
  if (resource.substr(0, 5) == "role/") {
    Result<Role> role = iam->GetRole(account, name);
    if (!role.ok()) return role.status();
    if (role->arn != source_arn) return NoSuchEntity("The role with ARN " + source_arn + " cannot be found.");
    for (const auto& [policy_name, doc] : role->inline_policies)
      LATHE_RETURN_IF_ERROR(AddDocument(&policies, doc, policy_name, "role"));
    LATHE_RETURN_IF_ERROR(AddAttached(iam, account, role->attached_policy_arns, &policies));
    return policies;
  }
  if (resource.substr(0, 6) == "group/") {
    auto group = iam->GetGroup(account, name, {});
    if (!group.ok()) return group.status();
    if (group->first.arn != source_arn) return NoSuchEntity("The group with ARN " + source_arn + " cannot be found.");
    for (const auto& [policy_name, doc] : group->first.inline_policies)
      LATHE_RETURN_IF_ERROR(AddDocument(&policies, doc, policy_name, "group"));
    LATHE_RETURN_IF_ERROR(AddAttached(iam, account, group->first.attached_policy_arns, &policies));
    return policies;
  }
  return InvalidInput("PolicySourceArn must be the ARN of a user, group or role of account " + account);
}

Result<std::vector<SimulationResult>> Simulate(IamBackend* iam, const SimulationInput& input) {
  if (input.actions.empty()) return InvalidInput("ActionNames must name at least one action");
  if (input.actions.size() > kMaxSimulatedActions)
    return InvalidInput("ActionNames may name at most " + std::to_string(kMaxSimulatedActions) + " actions");
  if (input.resources.size() > kMaxSimulatedResources)
    return InvalidInput("ResourceArns may name at most " + std::to_string(kMaxSimulatedResources) + " resources");
  if (input.extra_policies.size() > kMaxSimulationInputPolicies)
    return InvalidInput("PolicyInputList may hold at most " + std::to_string(kMaxSimulationInputPolicies) + " policies");
  if (input.context.size() > kMaxSimulationContextEntries)
    return InvalidInput("ContextEntries may hold at most " + std::to_string(kMaxSimulationContextEntries) + " keys");
  for (const std::string& action : input.actions)
    if (!ValidAction(action))
      return InvalidInput("Actions must be service:action, at most 128 characters: " + action.substr(0, 128));
  for (const std::string& resource : input.resources)
    if (resource.empty() || resource.size() > 2048)
      return InvalidInput("ResourceArns must be 1 to 2048 characters");
  Result<std::vector<Policy>> policies = PoliciesOf(iam, input.account, input.source_arn);
  if (!policies.ok()) return policies.status();
  for (size_t i = 0; i < input.extra_policies.size(); ++i)
    LATHE_RETURN_IF_ERROR(
        AddDocument(&*policies, input.extra_policies[i], "PolicyInputList." + std::to_string(i + 1), "none"));
  // A user's own keys, as a request signed with its key supplies them (unless given).
  ConditionContext context = input.context;
  if (const std::string user = UserNameFromArn(input.source_arn); !user.empty()) {
    context.emplace("aws:username", std::vector<std::string>{user});
    context.emplace("aws:principalarn", std::vector<std::string>{input.source_arn});
    context.emplace("aws:principalaccount", std::vector<std::string>{input.account});
    context.emplace("aws:principaltype", std::vector<std::string>{"User"});
  }
  const std::vector<std::string> everything = {"*"};
  std::vector<SimulationResult> results;
  for (const std::string& action : input.actions)
    for (const std::string& resource : input.resources.empty() ? everything : input.resources) {
      AccessQuery query{action, resource, context};
      results.push_back({action, resource, Evaluate(*policies, query)});
    }
  return results;
}

}  // namespace lathe::iam
