// IAM groups: one row each with its policies; membership lives in each member's document (a user
// is in at most kMaxGroupsPerUser groups), so resolving a user's permissions reads the user and
// its few groups, and a group's member list is a scan of the account's users.
#include "core/arn.h"
#include "services/iam/backend.h"
#include "services/iam/backend_internal.h"
#include "services/iam/errors.h"

namespace lathe::iam {
namespace {

using nlohmann::json;
using namespace internal;

json ToDoc(const Group& g) {
  return {{"account", g.account},
          {"path", g.path},
          {"groupName", g.name},
          {"inlinePolicies", g.inline_policies},
          {"attachedPolicies", g.attached_policy_arns}};
}

Result<Group> GroupFromRow(const store::ResourceRow& row) {
  try {
    const json& d = row.doc;
    Group g;
    g.account = d.at("account").get<std::string>();
    g.path = d.at("path").get<std::string>();
    g.name = d.at("groupName").get<std::string>();
    g.id = row.id;
    g.arn = row.arn;
    g.created_ms = row.created_ms;
    g.inline_policies = d.value("inlinePolicies", std::map<std::string, std::string>());
    g.attached_policy_arns = d.value("attachedPolicies", std::vector<std::string>());
    return g;
  } catch (const json::exception& e) {
    return ServiceFailure("The stored group " + row.id + " is unreadable: " + e.what());
  }
}

Status GroupNotFound(const std::string& name) { return NoSuchEntity("The group with name " + name + " cannot be found."); }

bool InGroup(const User& user, const std::string& group) {
  for (const std::string& g : user.groups)
    if (Lower(g) == Lower(group)) return true;
  return false;
}

}  // namespace

Result<Group> IamBackend::ReadGroupLocked(const std::string& account, const std::string& name, store::ResourceRow* row) {
  LATHE_RETURN_IF_ERROR(ValidateGroupName(name));
  Result<store::ResourceRow> found = store_->Find(kGroupKind, RowName(account, name));
  if (!found.ok())
    return found.status().code() == Status::Code::kNotFound ? GroupNotFound(name) : ServiceFailure(found.status().message());
  if (row) *row = *found;
  return GroupFromRow(*found);
}

Status IamBackend::ModifyGroup(const std::string& account, const std::string& name,
                               const std::function<Status(Group*)>& change) {
  std::lock_guard<std::mutex> lock(mu_);
  store::ResourceRow row;
  Result<Group> group = ReadGroupLocked(account, name, &row);
  if (!group.ok()) return group.status();
  LATHE_RETURN_IF_ERROR(change(&*group));
  row.doc = ToDoc(*group);
  Status s = store_->Update(row);
  if (!s.ok()) return s.code() == Status::Code::kNotFound ? GroupNotFound(name) : ServiceFailure(s.message());
  Changed();
  return Status::Ok();
}

Result<Group> IamBackend::CreateGroup(const std::string& account, const std::string& name, const std::string& path) {
  LATHE_RETURN_IF_ERROR(ValidateGroupName(name));
  LATHE_RETURN_IF_ERROR(ValidatePath(path));
  std::lock_guard<std::mutex> lock(mu_);
  Result<std::vector<store::ResourceRow>> existing = AccountRows(store_, kGroupKind, account);
  if (!existing.ok()) return existing.status();
  if (existing->size() >= kMaxGroupsPerAccount)
    return LimitExceeded("Cannot exceed quota for GroupsPerAccount: " + std::to_string(kMaxGroupsPerAccount));
  Group g;
  g.account = account;
  g.path = path;
  g.name = name;
  g.id = NewIamId("AGPA");
  g.arn = MakeArn("iam", "", account, "group" + path + name);
  g.created_ms = NowMillis();
  Status s = store_->Insert({kGroupKind, g.id, RowName(account, name), g.arn, "active", g.created_ms, ToDoc(g)});
  if (s.code() == Status::Code::kAlreadyExists) return EntityAlreadyExists("Group with name " + name + " already exists.");
  if (!s.ok()) return ServiceFailure(s.message());
  Changed();
  return g;
}

Result<std::pair<Group, Page<User>>> IamBackend::GetGroup(const std::string& account, const std::string& name,
                                                          const ListOptions& options) {
  LATHE_RETURN_IF_ERROR(CheckListOptions(options));
  std::lock_guard<std::mutex> lock(mu_);
  Result<Group> group = ReadGroupLocked(account, name, nullptr);
  if (!group.ok()) return group.status();
  Result<std::vector<store::ResourceRow>> rows = AccountRows(store_, kUserKind, account);
  if (!rows.ok()) return rows.status();
  std::vector<User> members;
  for (const store::ResourceRow& row : *rows) {
    Result<User> user = UserFromRow(row);
    if (user.ok() && InGroup(*user, name)) members.push_back(*user);
  }
  std::sort(members.begin(), members.end(), [](const User& a, const User& b) { return Lower(a.name) < Lower(b.name); });
  return std::make_pair(*group, Paginate(std::move(members), options, [](const User& u) { return Lower(u.name); }));
}

Result<Page<Group>> IamBackend::ListGroups(const std::string& account, const ListOptions& options) {
  LATHE_RETURN_IF_ERROR(CheckListOptions(options));
  std::vector<Group> groups;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Result<std::vector<store::ResourceRow>> rows = AccountRows(store_, kGroupKind, account);
    if (!rows.ok()) return rows.status();
    for (const store::ResourceRow& row : *rows) {
      Result<Group> g = GroupFromRow(row);
      if (!g.ok()) return g.status();
      if (g->path.compare(0, options.path_prefix.size(), options.path_prefix) == 0) groups.push_back(*g);
    }
  }
  std::sort(groups.begin(), groups.end(), [](const Group& a, const Group& b) { return Lower(a.name) < Lower(b.name); });
  return Paginate(std::move(groups), options, [](const Group& g) { return Lower(g.name); });
}

Result<Page<Group>> IamBackend::ListGroupsForUser(const std::string& account, const std::string& user,
                                                  const ListOptions& options) {
  LATHE_RETURN_IF_ERROR(CheckListOptions(options));
  std::vector<Group> groups;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Result<User> u = ReadUserLocked(account, user, nullptr);
    if (!u.ok()) return u.status();
    for (const std::string& name : u->groups) {
      Result<Group> g = ReadGroupLocked(account, name, nullptr);
      if (g.ok()) groups.push_back(*g);
    }
  }
  std::sort(groups.begin(), groups.end(), [](const Group& a, const Group& b) { return Lower(a.name) < Lower(b.name); });
  return Paginate(std::move(groups), options, [](const Group& g) { return Lower(g.name); });
}

Status IamBackend::DeleteGroup(const std::string& account, const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  store::ResourceRow row;
  Result<Group> group = ReadGroupLocked(account, name, &row);
  if (!group.ok()) return group.status();
  if (!group->inline_policies.empty()) return DeleteConflict("Cannot delete entity, must delete policies first.");
  if (!group->attached_policy_arns.empty())
    return DeleteConflict("Cannot delete entity, must detach all policies first.");
  Result<std::vector<store::ResourceRow>> users = AccountRows(store_, kUserKind, account);
  if (!users.ok()) return users.status();
  for (const store::ResourceRow& u : *users) {
    Result<User> user = UserFromRow(u);
    if (user.ok() && InGroup(*user, name)) return DeleteConflict("Cannot delete entity, must remove users from group first.");
  }
  Status s = store_->Delete(kGroupKind, row.id);
  if (!s.ok()) return s.code() == Status::Code::kNotFound ? GroupNotFound(name) : ServiceFailure(s.message());
  Changed();
  return Status::Ok();
}

Status IamBackend::AddUserToGroup(const std::string& account, const std::string& group, const std::string& user) {
  LATHE_RETURN_IF_ERROR(ValidateGroupName(group));
  return ModifyUser(account, user, [&](User* u) {
    Result<Group> g = ReadGroupLocked(account, group, nullptr);
    if (!g.ok()) return g.status();
    if (InGroup(*u, group)) return Status::Ok();
    if (u->groups.size() >= kMaxGroupsPerUser)
      return LimitExceeded("Cannot exceed quota for GroupsPerUser: " + std::to_string(kMaxGroupsPerUser));
    u->groups.push_back(g->name);
    return Status::Ok();
  });
}

Status IamBackend::RemoveUserFromGroup(const std::string& account, const std::string& group, const std::string& user) {
  LATHE_RETURN_IF_ERROR(ValidateGroupName(group));
  return ModifyUser(account, user, [&](User* u) {
    Result<Group> g = ReadGroupLocked(account, group, nullptr);
    if (!g.ok()) return g.status();
    for (auto it = u->groups.begin(); it != u->groups.end(); ++it)
      if (Lower(*it) == Lower(group)) {
        u->groups.erase(it);
        return Status::Ok();
      }
    return NoSuchEntity("User " + u->name + " is not in group " + g->name + ".");
  });
}

Status IamBackend::PutGroupPolicy(const std::string& account, const std::string& group, const std::string& policy_name,
                                  const std::string& document) {
  LATHE_RETURN_IF_ERROR(ValidateGroupName(group));
  LATHE_RETURN_IF_ERROR(ValidatePolicyName(policy_name));
  LATHE_RETURN_IF_ERROR(ParsePolicy(document, policy_name, "group").status());
  return ModifyGroup(account, group, [&](Group* g) {
    g->inline_policies[policy_name] = document;
    return CheckInlineQuota(g->inline_policies, kMaxInlinePolicyCharsPerGroup, "group " + group);
  });
}

Result<std::string> IamBackend::GetGroupPolicy(const std::string& account, const std::string& group,
                                               const std::string& policy_name) {
  LATHE_RETURN_IF_ERROR(ValidatePolicyName(policy_name));
  std::lock_guard<std::mutex> lock(mu_);
  Result<Group> g = ReadGroupLocked(account, group, nullptr);
  if (!g.ok()) return g.status();
  auto it = g->inline_policies.find(policy_name);
  if (it == g->inline_policies.end())
    return NoSuchEntity("The group policy with name " + policy_name + " cannot be found.");
  return it->second;
}

Result<Page<std::string>> IamBackend::ListGroupPolicies(const std::string& account, const std::string& group,
                                                        const ListOptions& options) {
  LATHE_RETURN_IF_ERROR(CheckListOptions(options));
  std::lock_guard<std::mutex> lock(mu_);
  Result<Group> g = ReadGroupLocked(account, group, nullptr);
  if (!g.ok()) return g.status();
  return InlinePage(g->inline_policies, options);
}

Status IamBackend::DeleteGroupPolicy(const std::string& account, const std::string& group,
                                     const std::string& policy_name) {
  LATHE_RETURN_IF_ERROR(ValidatePolicyName(policy_name));
  return ModifyGroup(account, group, [&](Group* g) {
    if (g->inline_policies.erase(policy_name) == 0)
      return NoSuchEntity("The group policy with name " + policy_name + " cannot be found.");
    return Status::Ok();
  });
}

Status IamBackend::AttachGroupPolicy(const std::string& account, const std::string& group,
                                     const std::string& policy_arn) {
  LATHE_RETURN_IF_ERROR(ManagedPolicyName(policy_arn).status());
  return ModifyGroup(account, group, [&](Group* g) {
    LATHE_RETURN_IF_ERROR(CheckAttachableLocked(account, policy_arn));
    return AttachTo(&g->attached_policy_arns, policy_arn, kMaxAttachedPolicies, "PoliciesPerGroup");
  });
}

Status IamBackend::DetachGroupPolicy(const std::string& account, const std::string& group,
                                     const std::string& policy_arn) {
  LATHE_RETURN_IF_ERROR(ManagedPolicyName(policy_arn).status());
  return ModifyGroup(account, group, [&](Group* g) { return DetachFrom(&g->attached_policy_arns, policy_arn); });
}

Result<Page<AttachedPolicy>> IamBackend::ListAttachedGroupPolicies(const std::string& account, const std::string& group,
                                                                   const ListOptions& options) {
  LATHE_RETURN_IF_ERROR(CheckListOptions(options));
  std::lock_guard<std::mutex> lock(mu_);
  Result<Group> g = ReadGroupLocked(account, group, nullptr);
  if (!g.ok()) return g.status();
  return AttachedPage(g->attached_policy_arns, options);
}

}  // namespace lathe::iam
