// IAM's semantics without a wire format: roles, their inline policies and attached managed
// policies, per account, persisted in the metadata store (kind "iam-role", one row per role, the
// policies in its document) so they survive a restart. IAM is global: ARNs carry no region.
#pragma once

#include <cstdint>
#include <map>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "services/iam/validation.h"
#include "store/metadata_store.h"

namespace lathe::iam {

struct Role {
  std::string account;
  std::string path = "/";
  std::string name;
  std::string id;   // AROA + 17 upper-case letters and digits
  std::string arn;  // arn:aws:iam::<account>:role<path><name>
  int64_t created_ms = 0;
  std::string assume_role_policy;  // the JSON text as sent
  std::string description;
  int max_session_duration = 3600;
  std::vector<Tag> tags;
  std::map<std::string, std::string> inline_policies;  // name -> JSON text
  std::vector<std::string> attached_policy_arns;        // in attachment order
};

struct CreateRoleInput {
  std::string name;
  std::string path = "/";
  std::string assume_role_policy;
  std::string description;
  int max_session_duration = 3600;
  std::vector<Tag> tags;
};

struct AttachedPolicy {
  std::string name, arn;
};

// One page of a list: `marker` is where the next page starts, "" on the last page.
template <typename T>
struct Page {
  std::vector<T> items;
  std::string marker;
  bool truncated() const { return !marker.empty(); }
};

struct ListOptions {
  std::string path_prefix = "/";
  std::string marker;    // "" = from the start
  size_t max_items = 100;
};

class IamBackend {
 public:
  // `store` outlives the backend.
  explicit IamBackend(store::MetadataStore* store) : store_(store) {}

  Result<Role> CreateRole(const std::string& account, const CreateRoleInput& input);
  Result<Role> GetRole(const std::string& account, const std::string& name);
  // Sorted by name (case-insensitively, as IAM compares role names).
  Result<Page<Role>> ListRoles(const std::string& account, const ListOptions& options);
  // DeleteConflict while inline or attached policies remain.
  Status DeleteRole(const std::string& account, const std::string& name);

  Status PutRolePolicy(const std::string& account, const std::string& role, const std::string& policy_name,
                       const std::string& document);
  Result<std::string> GetRolePolicy(const std::string& account, const std::string& role,
                                    const std::string& policy_name);
  Result<Page<std::string>> ListRolePolicies(const std::string& account, const std::string& role,
                                             const ListOptions& options);
  Status DeleteRolePolicy(const std::string& account, const std::string& role, const std::string& policy_name);

  // AWS managed policies (arn:aws:iam::aws:policy/<path><name>) are accepted by name; this
  // server keeps no customer managed policies, so those are NoSuchEntity.
  Status AttachRolePolicy(const std::string& account, const std::string& role, const std::string& policy_arn);
  Status DetachRolePolicy(const std::string& account, const std::string& role, const std::string& policy_arn);
  Result<Page<AttachedPolicy>> ListAttachedRolePolicies(const std::string& account, const std::string& role,
                                                        const ListOptions& options);

  // Whether `role_arn` names an existing role of `account` (same path and name). Bedrock asks
  // this for a job's roleArn when `strictRoles` is set.
  bool RoleExists(const std::string& account, const std::string& role_arn);

 private:
  Result<store::ResourceRow> FindRow(const std::string& account, const std::string& name);
  Status Save(const store::ResourceRow& row, const Role& role);
  // The role as stored now.
  Result<Role> ReadRole(const std::string& account, const std::string& role_name);
  // Reads the role, lets `change` edit it and saves it if `change` returns OK, all under mu_.
  Status ModifyRole(const std::string& account, const std::string& role_name,
                    const std::function<Status(Role*)>& change);

  store::MetadataStore* store_;
  std::mutex mu_;  // read-modify-write of a role's document is one step
};

// The managed policy's name (the ARN's last segment) when `arn` is a well-formed IAM policy ARN;
// InvalidInput otherwise.
Result<std::string> ManagedPolicyName(const std::string& arn);

}  // namespace lathe::iam
