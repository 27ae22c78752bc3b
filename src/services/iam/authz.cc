// What IAM must allow for each IAM operation (AWS's Service Authorization Reference for IAM): the
// action is iam:<Operation>; the resource is the user, group, role or policy the request names —
// with its path, looked up, since IAM's ARNs carry it (user/<path>/<name>) — or "*" for the
// lists and for an entity that does not exist (the operation then fails NoSuchEntity; a name
// spelled otherwise than stored must never yield an ARN a Deny does not match); an access key operation without UserName acts on the caller's own user; tags given to a
// new user, role or policy are aws:RequestTag/<key> and aws:TagKeys.
#include "aws/query_protocol.h"
#include "core/arn.h"
#include "services/iam/operations_internal.h"
#include "services/iam/service.h"
#include "services/iam/shapes.h"

namespace lathe::iam {
namespace {

using aws::AccessRequest;
using aws::OperationView;

enum class Entity { kNone, kUser, kGroup, kRole, kPolicy, kPolicySource };

Entity EntityOf(std::string_view operation) {
  auto has = [&](std::string_view part) { return operation.find(part) != std::string_view::npos; };
  if (operation == "ListUsers" || operation == "ListGroups" || operation == "ListRoles" ||
      operation == "ListPolicies")
    return Entity::kNone;
  if (operation == "SimulatePrincipalPolicy") return Entity::kPolicySource;
  if (has("AccessKey") || has("UserPolic") || operation == "ListGroupsForUser" || operation == "CreateUser" ||
      operation == "GetUser" || operation == "DeleteUser")
    return Entity::kUser;
  if (has("Group")) return Entity::kGroup;  // AddUserToGroup and RemoveUserFromGroup act on the group
  if (has("Role")) return Entity::kRole;
  if (has("Polic")) return Entity::kPolicy;
  return Entity::kNone;
}

std::string WithPath(const std::string& account, const char* type, const std::string& path, const std::string& name) {
  return MakeArn("iam", "", account, std::string(type) + path + name);
}

std::string PathParam(const OperationView& op) { return op.Param("Path").empty() ? "/" : op.Param("Path"); }

// Attaching or detaching a managed policy names it in iam:PolicyARN, so that a policy can limit
// which policies a user may attach (AWS's condition key for these operations).
bool NamesAttachedPolicy(std::string_view operation) {
  return (operation.starts_with("Attach") || operation.starts_with("Detach")) && operation.ends_with("Policy");
}

}  // namespace

aws::AccessRules IamAccessRules(IamBackend* iam) {
  return [iam](const OperationView& op) -> AccessRequest {
    const std::string& account = op.context->caller.account;
    std::string resource = "*";
    switch (EntityOf(op.operation)) {
      case Entity::kUser: {
        std::string name = op.Param("UserName");
        if (name.empty()) name = UserNameFromArn(op.context->caller.arn);
        if (name.empty()) break;
        if (op.operation == "CreateUser") {
          resource = WithPath(account, "user", PathParam(op), name);
        } else if (Result<User> u = iam->GetUser(account, name); u.ok()) {
          resource = u->arn;  // as stored: names match case-insensitively, policies' ARNs do not
        }
        break;
      }
      case Entity::kGroup: {
        const std::string name = op.Param("GroupName");
        if (name.empty()) break;
        if (op.operation == "CreateGroup") {
          resource = WithPath(account, "group", PathParam(op), name);
        } else if (auto g = iam->GetGroup(account, name, {}); g.ok()) {
          resource = g->first.arn;
        }
        break;
      }
      case Entity::kRole: {
        const std::string name = op.Param("RoleName");
        if (name.empty()) break;
        if (op.operation == "CreateRole") {
          resource = WithPath(account, "role", PathParam(op), name);
        } else if (Result<Role> r = iam->GetRole(account, name); r.ok()) {
          resource = r->arn;
        }
        break;
      }
      case Entity::kPolicy: {
        if (op.operation == "CreatePolicy") {
          resource = WithPath(account, "policy", PathParam(op), op.Param("PolicyName"));
        } else if (!op.Param("PolicyArn").empty()) {
          resource = op.Param("PolicyArn");
        }
        break;
      }
      case Entity::kPolicySource:
        if (!op.Param("PolicySourceArn").empty()) resource = op.Param("PolicySourceArn");
        break;
      case Entity::kNone: break;
    }
    aws::AccessContext context;
    if (NamesAttachedPolicy(op.operation) && !op.Param("PolicyArn").empty())
      context["iam:policyarn"] = {op.Param("PolicyArn")};
    if (op.operation == "CreateUser" || op.operation == "CreateRole" || op.operation == "CreatePolicy")
      if (Result<std::vector<Tag>> tags = TagsFromParams(*op.params); tags.ok()) {
        std::vector<std::pair<std::string, std::string>> pairs;
        for (const Tag& t : *tags) pairs.emplace_back(t.key, t.value);
        aws::AddRequestTags(pairs, &context);
      }
    return aws::Require("iam:" + std::string(op.operation), {resource}, std::move(context));
  };
}

}  // namespace lathe::iam
