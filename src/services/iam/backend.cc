#include "services/iam/backend.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/arn.h"
#include "services/iam/errors.h"
#include "services/iam/policy_document.h"

namespace lathe::iam {
namespace {

using nlohmann::json;
constexpr char kRoleKind[] = "iam-role";

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// IAM compares role names case-insensitively ("Role names are not distinguished by case"), so
// the store's unique name is the account and the lower-cased name.
std::string RowName(const std::string& account, std::string_view role) { return account + "/" + Lower(role); }

std::string NewRoleId() {
  std::string id = NewResourceId(17);
  for (char& c : id)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return "AROA" + id;
}

json ToDoc(const Role& r) {
  json tags = json::array();
  for (const Tag& t : r.tags) tags.push_back({{"Key", t.key}, {"Value", t.value}});
  return {{"account", r.account},
          {"path", r.path},
          {"roleName", r.name},
          {"description", r.description},
          {"maxSessionDuration", r.max_session_duration},
          {"assumeRolePolicyDocument", r.assume_role_policy},
          {"tags", tags},
          {"inlinePolicies", r.inline_policies},
          {"attachedPolicies", r.attached_policy_arns}};
}

Result<Role> FromRow(const store::ResourceRow& row) {
  try {
    const json& d = row.doc;
    Role r;
    r.account = d.at("account").get<std::string>();
    r.path = d.at("path").get<std::string>();
    r.name = d.at("roleName").get<std::string>();
    r.id = row.id;
    r.arn = row.arn;
    r.created_ms = row.created_ms;
    r.description = d.value("description", "");
    r.max_session_duration = d.value("maxSessionDuration", 3600);
    r.assume_role_policy = d.at("assumeRolePolicyDocument").get<std::string>();
    for (const json& t : d.value("tags", json::array())) r.tags.push_back({t.at("Key"), t.at("Value")});
    r.inline_policies = d.value("inlinePolicies", std::map<std::string, std::string>());
    r.attached_policy_arns = d.value("attachedPolicies", std::vector<std::string>());
    return r;
  } catch (const json::exception& e) {
    return ServiceFailure("The stored role " + row.id + " is unreadable: " + e.what());
  }
}

Status RoleNotFound(const std::string& name) {
  return NoSuchEntity("The role with name " + name + " cannot be found.");
}

// Items from `marker` on (by `key`), at most max_items; the next page's marker when more remain.
template <typename T, typename KeyFn>
Page<T> Paginate(std::vector<T> sorted, const ListOptions& options, KeyFn key) {
  Page<T> page;
  size_t i = 0;
  if (!options.marker.empty())
    while (i < sorted.size() && key(sorted[i]) < options.marker) ++i;
  size_t max_items = std::max<size_t>(1, options.max_items);
  for (; i < sorted.size() && page.items.size() < max_items; ++i) page.items.push_back(std::move(sorted[i]));
  if (i < sorted.size()) page.marker = key(sorted[i]);
  return page;
}

Status CheckListOptions(const ListOptions& options) {
  LATHE_RETURN_IF_ERROR(ValidatePathPrefix(options.path_prefix));
  if (!options.marker.empty()) LATHE_RETURN_IF_ERROR(ValidateMarker(options.marker));
  return Status::Ok();
}

Status CheckTrustPolicy(const std::string& document) {
  LATHE_RETURN_IF_ERROR(ValidatePolicyDocument(document, PolicyKind::kTrust));
  if (PolicyQuotaChars(document) > kMaxTrustPolicyChars)
    return LimitExceeded("Cannot exceed quota for ACLSizePerRole: " + std::to_string(kMaxTrustPolicyChars));
  return Status::Ok();
}

}  // namespace

Result<std::string> ManagedPolicyName(const std::string& arn) {
  Status invalid = InvalidInput("ARN " + arn.substr(0, 128) + " is not valid.");
  if (arn.size() < 20 || arn.size() > 2048) return invalid;
  constexpr std::string_view kPrefix = "arn:aws:iam::";
  if (arn.compare(0, kPrefix.size(), kPrefix) != 0) return invalid;
  size_t colon = arn.find(':', kPrefix.size());
  if (colon == std::string::npos) return invalid;
  std::string_view resource = std::string_view(arn).substr(colon + 1);
  if (resource.substr(0, 7) != "policy/") return invalid;
  std::string_view path_and_name = resource.substr(6);  // "/path/name"
  size_t last = path_and_name.rfind('/');
  std::string name(path_and_name.substr(last + 1));
  if (!ValidatePolicyName(name).ok()) return invalid;
  if (!ValidatePath(path_and_name.substr(0, last + 1)).ok()) return invalid;
  return name;
}

Result<store::ResourceRow> IamBackend::FindRow(const std::string& account, const std::string& name) {
  LATHE_RETURN_IF_ERROR(ValidateRoleName(name));
  Result<store::ResourceRow> row = store_->Find(kRoleKind, RowName(account, name));
  if (!row.ok()) {
    if (row.status().code() == Status::Code::kNotFound) return RoleNotFound(name);
    return ServiceFailure(row.status().message());
  }
  return row;
}

Status IamBackend::Save(const store::ResourceRow& row, const Role& role) {
  store::ResourceRow updated = row;
  updated.doc = ToDoc(role);
  Status s = store_->Update(updated);
  if (!s.ok()) return s.code() == Status::Code::kNotFound ? RoleNotFound(role.name) : ServiceFailure(s.message());
  return Status::Ok();
}

Result<Role> IamBackend::CreateRole(const std::string& account, const CreateRoleInput& input) {
  LATHE_RETURN_IF_ERROR(ValidateRoleName(input.name));
  LATHE_RETURN_IF_ERROR(ValidatePath(input.path));
  LATHE_RETURN_IF_ERROR(ValidateDescription(input.description));
  if (input.max_session_duration < 3600 || input.max_session_duration > 43200)
    return ValidationError("1 validation error detected: Value '" + std::to_string(input.max_session_duration) +
                           "' at 'maxSessionDuration' failed to satisfy constraint: Member must have value between "
                           "3600 and 43200");
  LATHE_RETURN_IF_ERROR(ValidateTags(input.tags));
  LATHE_RETURN_IF_ERROR(CheckTrustPolicy(input.assume_role_policy));

  std::lock_guard<std::mutex> lock(mu_);
  store::MetadataStore::ListFilter mine;
  mine.doc_equals["account"] = account;
  Result<std::vector<store::ResourceRow>> existing = store_->List(kRoleKind, mine);
  if (!existing.ok()) return ServiceFailure(existing.status().message());
  if (existing->size() >= kMaxRolesPerAccount)
    return LimitExceeded("Cannot exceed quota for RolesPerAccount: " + std::to_string(kMaxRolesPerAccount));

  Role role;
  role.account = account;
  role.path = input.path;
  role.name = input.name;
  role.id = NewRoleId();
  role.arn = MakeArn("iam", "", account, "role" + input.path + input.name);
  role.created_ms = NowMillis();
  role.assume_role_policy = input.assume_role_policy;
  role.description = input.description;
  role.max_session_duration = input.max_session_duration;
  role.tags = input.tags;
  store::ResourceRow row;
  row.kind = kRoleKind;
  row.id = role.id;
  row.name = RowName(account, role.name);
  row.arn = role.arn;
  row.status = "active";
  row.created_ms = role.created_ms;
  row.doc = ToDoc(role);
  Status s = store_->Insert(row);
  if (s.code() == Status::Code::kAlreadyExists)
    return EntityAlreadyExists("Role with name " + input.name + " already exists.");
  if (!s.ok()) return ServiceFailure(s.message());
  return role;
}

Result<Role> IamBackend::GetRole(const std::string& account, const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  Result<store::ResourceRow> row = FindRow(account, name);
  if (!row.ok()) return row.status();
  return FromRow(*row);
}

Result<Page<Role>> IamBackend::ListRoles(const std::string& account, const ListOptions& options) {
  LATHE_RETURN_IF_ERROR(CheckListOptions(options));
  std::vector<Role> roles;
  {
    std::lock_guard<std::mutex> lock(mu_);
    store::MetadataStore::ListFilter mine;
    mine.doc_equals["account"] = account;
    Result<std::vector<store::ResourceRow>> rows = store_->List(kRoleKind, mine);
    if (!rows.ok()) return ServiceFailure(rows.status().message());
    for (const store::ResourceRow& row : *rows) {
      Result<Role> role = FromRow(row);
      if (!role.ok()) return role.status();
      if (role->path.compare(0, options.path_prefix.size(), options.path_prefix) == 0) roles.push_back(*role);
    }
  }
  std::sort(roles.begin(), roles.end(), [](const Role& a, const Role& b) { return Lower(a.name) < Lower(b.name); });
  return Paginate(std::move(roles), options, [](const Role& r) { return Lower(r.name); });
}

Status IamBackend::DeleteRole(const std::string& account, const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  Result<store::ResourceRow> row = FindRow(account, name);
  if (!row.ok()) return row.status();
  Result<Role> role = FromRow(*row);
  if (!role.ok()) return role.status();
  if (!role->inline_policies.empty()) return DeleteConflict("Cannot delete entity, must delete policies first.");
  if (!role->attached_policy_arns.empty())
    return DeleteConflict("Cannot delete entity, must detach all policies first.");
  Status s = store_->Delete(kRoleKind, row->id);
  if (!s.ok()) return s.code() == Status::Code::kNotFound ? RoleNotFound(name) : ServiceFailure(s.message());
  return Status::Ok();
}

Result<Role> IamBackend::ReadRole(const std::string& account, const std::string& role_name) {
  std::lock_guard<std::mutex> lock(mu_);
  Result<store::ResourceRow> row = FindRow(account, role_name);
  if (!row.ok()) return row.status();
  return FromRow(*row);
}

Status IamBackend::ModifyRole(const std::string& account, const std::string& role_name,
                              const std::function<Status(Role*)>& change) {
  std::lock_guard<std::mutex> lock(mu_);  // read, change and save as one step
  Result<store::ResourceRow> row = FindRow(account, role_name);
  if (!row.ok()) return row.status();
  Result<Role> role = FromRow(*row);
  if (!role.ok()) return role.status();
  LATHE_RETURN_IF_ERROR(change(&*role));
  return Save(*row, *role);
}

Status IamBackend::PutRolePolicy(const std::string& account, const std::string& role_name,
                                 const std::string& policy_name, const std::string& document) {
  LATHE_RETURN_IF_ERROR(ValidateRoleName(role_name));
  LATHE_RETURN_IF_ERROR(ValidatePolicyName(policy_name));
  LATHE_RETURN_IF_ERROR(ValidatePolicyDocument(document, PolicyKind::kIdentity));
  return ModifyRole(account, role_name, [&](Role* role) {
    role->inline_policies[policy_name] = document;
    size_t total = 0;
    for (const auto& [name, doc] : role->inline_policies) total += PolicyQuotaChars(doc);
    if (total > kMaxInlinePolicyCharsPerRole)
      return LimitExceeded("Maximum policy size of " + std::to_string(kMaxInlinePolicyCharsPerRole) +
                           " bytes exceeded for role " + role_name);
    return Status::Ok();
  });
}

Result<std::string> IamBackend::GetRolePolicy(const std::string& account, const std::string& role_name,
                                              const std::string& policy_name) {
  LATHE_RETURN_IF_ERROR(ValidatePolicyName(policy_name));
  Result<Role> role = ReadRole(account, role_name);
  if (!role.ok()) return role.status();
  auto it = role->inline_policies.find(policy_name);
  if (it == role->inline_policies.end())
    return NoSuchEntity("The role policy with name " + policy_name + " cannot be found.");
  return it->second;
}

Result<Page<std::string>> IamBackend::ListRolePolicies(const std::string& account, const std::string& role_name,
                                                       const ListOptions& options) {
  LATHE_RETURN_IF_ERROR(CheckListOptions(options));
  Result<Role> role = ReadRole(account, role_name);
  if (!role.ok()) return role.status();
  std::vector<std::string> names;
  for (const auto& [name, doc] : role->inline_policies) names.push_back(name);  // std::map: sorted
  return Paginate(std::move(names), options, [](const std::string& n) { return n; });
}

Status IamBackend::DeleteRolePolicy(const std::string& account, const std::string& role_name,
                                    const std::string& policy_name) {
  LATHE_RETURN_IF_ERROR(ValidatePolicyName(policy_name));
  return ModifyRole(account, role_name, [&](Role* role) {
    if (role->inline_policies.erase(policy_name) == 0)
      return NoSuchEntity("The role policy with name " + policy_name + " cannot be found.");
    return Status::Ok();
  });
}

Status IamBackend::AttachRolePolicy(const std::string& account, const std::string& role_name,
                                    const std::string& policy_arn) {
  LATHE_RETURN_IF_ERROR(ValidateRoleName(role_name));
  Result<std::string> policy = ManagedPolicyName(policy_arn);
  if (!policy.ok()) return policy.status();
  if (policy_arn.compare(0, 24, "arn:aws:iam::aws:policy/") != 0)
    return NoSuchEntity("Policy " + policy_arn + " does not exist or is not attachable.");
  return ModifyRole(account, role_name, [&](Role* role) {
    std::vector<std::string>& attached = role->attached_policy_arns;
    if (std::find(attached.begin(), attached.end(), policy_arn) != attached.end()) return Status::Ok();
    if (attached.size() >= kMaxAttachedPoliciesPerRole)
      return LimitExceeded("Cannot exceed quota for PoliciesPerRole: " + std::to_string(kMaxAttachedPoliciesPerRole));
    attached.push_back(policy_arn);
    return Status::Ok();
  });
}

Status IamBackend::DetachRolePolicy(const std::string& account, const std::string& role_name,
                                    const std::string& policy_arn) {
  LATHE_RETURN_IF_ERROR(ValidateRoleName(role_name));
  Result<std::string> policy = ManagedPolicyName(policy_arn);
  if (!policy.ok()) return policy.status();
  return ModifyRole(account, role_name, [&](Role* role) {
    std::vector<std::string>& attached = role->attached_policy_arns;
    auto it = std::find(attached.begin(), attached.end(), policy_arn);
    if (it == attached.end()) return NoSuchEntity("Policy " + policy_arn + " was not found.");
    attached.erase(it);
    return Status::Ok();
  });
}

Result<Page<AttachedPolicy>> IamBackend::ListAttachedRolePolicies(const std::string& account,
                                                                  const std::string& role_name,
                                                                  const ListOptions& options) {
  LATHE_RETURN_IF_ERROR(CheckListOptions(options));
  Result<Role> role = ReadRole(account, role_name);
  if (!role.ok()) return role.status();
  std::vector<AttachedPolicy> policies;
  for (const std::string& arn : role->attached_policy_arns) {
    Result<std::string> name = ManagedPolicyName(arn);
    std::string_view path = std::string_view(arn).substr(arn.find(":policy/") + 7);
    if (name.ok() && path.compare(0, options.path_prefix.size(), options.path_prefix) == 0)
      policies.push_back({*name, arn});
  }
  std::sort(policies.begin(), policies.end(),
            [](const AttachedPolicy& a, const AttachedPolicy& b) { return a.arn < b.arn; });
  return Paginate(std::move(policies), options, [](const AttachedPolicy& p) { return p.arn; });
}

bool IamBackend::RoleExists(const std::string& account, const std::string& role_arn) {
  std::string prefix = "arn:aws:iam::" + account + ":role/";
  if (role_arn.size() > 2048 || role_arn.compare(0, prefix.size(), prefix) != 0) return false;
  std::string name = role_arn.substr(role_arn.rfind('/') + 1);
  if (!ValidateRoleName(name).ok()) return false;
  std::lock_guard<std::mutex> lock(mu_);
  Result<store::ResourceRow> row = store_->Find(kRoleKind, RowName(account, name));
  return row.ok() && row->arn == role_arn;
}

}  // namespace lathe::iam
