#include "services/iam/backend.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/arn.h"
#include "services/iam/backend_internal.h"
#include "services/iam/errors.h"
#include "services/iam/secrets.h"
#include "services/iam/policy_document.h"

namespace lathe::iam {
namespace {

using nlohmann::json;
using namespace internal;

json ToDoc(const Role& r) {
  return {{"account", r.account},
          {"path", r.path},
          {"roleName", r.name},
          {"description", r.description},
          {"maxSessionDuration", r.max_session_duration},
          {"assumeRolePolicyDocument", r.assume_role_policy},
          {"tags", TagsToJson(r.tags)},
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
    r.tags = TagsFromJson(d.value("tags", json::array()));
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

IamBackend::IamBackend(store::MetadataStore* store, const std::string& secrets_dir) : store_(store) {
  Result<std::unique_ptr<AccessKeySecrets>> secrets = AccessKeySecrets::Open(secrets_dir);
  if (secrets.ok()) {
    secrets_ = std::move(*secrets);
  } else {
    open_status_ = secrets.status();
    secrets_ = std::move(*AccessKeySecrets::Open(""));  // in memory: the server refuses to start anyway
  }
  // A secret whose key row never got written (a crash between the two) is dropped.
  Status retained = secrets_->Retain([this](const std::string& id) {
    Result<store::ResourceRow> row = store_->Find(kAccessKeyKind, id);
    return row.ok() || row.status().code() != Status::Code::kNotFound;
  });
  if (open_status_.ok()) open_status_ = retained;
}

IamBackend::~IamBackend() = default;

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
  role.id = NewIamId("AROA");
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
    return CheckInlineQuota(role->inline_policies, kMaxInlinePolicyCharsPerRole, "role " + role_name);
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
  return InlinePage(role->inline_policies, options);
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
  // AWS managed policies by any name (roles made for AWS's tutorials attach many); the
  // account's own only when they exist.
  const bool aws_managed = policy_arn.compare(0, 24, "arn:aws:iam::aws:policy/") == 0;
  return ModifyRole(account, role_name, [&](Role* role) {
    if (!aws_managed) LATHE_RETURN_IF_ERROR(CheckAttachableLocked(account, policy_arn));
    return AttachTo(&role->attached_policy_arns, policy_arn, kMaxAttachedPoliciesPerRole, "PoliciesPerRole");
  });
}

Status IamBackend::DetachRolePolicy(const std::string& account, const std::string& role_name,
                                    const std::string& policy_arn) {
  LATHE_RETURN_IF_ERROR(ValidateRoleName(role_name));
  Result<std::string> policy = ManagedPolicyName(policy_arn);
  if (!policy.ok()) return policy.status();
  return ModifyRole(account, role_name, [&](Role* role) { return DetachFrom(&role->attached_policy_arns, policy_arn); });
}

Result<Page<AttachedPolicy>> IamBackend::ListAttachedRolePolicies(const std::string& account,
                                                                  const std::string& role_name,
                                                                  const ListOptions& options) {
  LATHE_RETURN_IF_ERROR(CheckListOptions(options));
  Result<Role> role = ReadRole(account, role_name);
  if (!role.ok()) return role.status();
  return AttachedPage(role->attached_policy_arns, options);
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
