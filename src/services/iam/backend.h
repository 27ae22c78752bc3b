// IAM's semantics without a wire format, per account, persisted in the metadata store so they
// survive a restart: roles (kind "iam-role"), users ("iam-user"), groups ("iam-group"), customer
// managed policies with their versions ("iam-policy") and access keys ("iam-access-key"), one row
// each, policies inside their owner's document. Access keys' secrets are not in the store: they
// live in DATA_DIR/iam/access-keys.json (folder 0700, file 0600; secrets.h), shown once when
// made. IAM is global: ARNs carry no region.
//
// Implementation: backend.cc (roles), backend_users.cc (users, keys), backend_groups.cc,
// backend_policies.cc (managed policies), principal.cc (what enforcement asks).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <map>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "services/iam/policy_evaluator.h"
#include "services/iam/validation.h"
#include "store/metadata_store.h"

namespace lathe::iam {

class AccessKeySecrets;

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

struct User {
  std::string account;
  std::string path = "/";
  std::string name;
  std::string id;   // AIDA + 17 upper-case letters and digits
  std::string arn;  // arn:aws:iam::<account>:user<path><name>
  int64_t created_ms = 0;
  std::vector<Tag> tags;
  std::map<std::string, std::string> inline_policies;  // name -> JSON text
  std::vector<std::string> attached_policy_arns;        // in attachment order
  std::vector<std::string> groups;                      // group names, in joining order
};

struct CreateUserInput {
  std::string name;
  std::string path = "/";
  std::vector<Tag> tags;
};

struct Group {
  std::string account;
  std::string path = "/";
  std::string name;
  std::string id;   // AGPA + 17
  std::string arn;  // arn:aws:iam::<account>:group<path><name>
  int64_t created_ms = 0;
  std::map<std::string, std::string> inline_policies;
  std::vector<std::string> attached_policy_arns;
};

enum class KeyStatus { kActive, kInactive };
struct AccessKeyInfo {
  std::string id;         // AKIA + 16 of A-Z2-7
  std::string user_name;  // as the user was created
  KeyStatus status = KeyStatus::kActive;
  int64_t created_ms = 0;
};
// CreateAccessKey's answer: the only time the secret is shown.
struct NewAccessKey {
  AccessKeyInfo info;
  std::string secret;  // 40 characters
};

struct PolicyVersionInfo {
  std::string id;  // v1, v2, ...
  std::string document;
  int64_t created_ms = 0;
};

struct ManagedPolicy {
  std::string account;  // "aws" for AWS managed policies
  std::string path = "/";
  std::string name;
  std::string id;   // ANPA + 17
  std::string arn;  // arn:aws:iam::<account>:policy<path><name>
  std::string description;
  std::string default_version = "v1";
  int64_t created_ms = 0, updated_ms = 0;
  std::vector<Tag> tags;
  std::vector<PolicyVersionInfo> versions;  // oldest first
  int next_version = 2;
  size_t attachment_count = 0;  // users, groups and roles it is attached to (computed)
  const PolicyVersionInfo* DefaultVersion() const;
};

struct CreatePolicyInput {
  std::string name;
  std::string path = "/";
  std::string document;
  std::string description;
  std::vector<Tag> tags;
};

enum class PolicyScope { kAll, kAws, kLocal };

// What enforcement and SimulatePrincipalPolicy know about the user behind an access key.
struct Principal {
  std::string account, user_name, user_id, arn;
  std::vector<Tag> tags;
  std::vector<Policy> policies;  // inline, attached, then each group's inline and attached, parsed
};

// What the gateway needs to verify a signature made with an IAM user's key.
struct KeyIdentity {
  std::string secret;
  std::string account, user_arn, user_id;
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
  // `store` outlives the backend. `secrets_dir` holds access keys' secrets (created 0700); ""
  // keeps them in memory only (tests).
  explicit IamBackend(store::MetadataStore* store, const std::string& secrets_dir = "");
  ~IamBackend();
  // OK, or why the secrets file could not be read (the server refuses to start).
  Status open_status() const { return open_status_; }

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

  // ---- users (backend_users.cc) ----
  Result<User> CreateUser(const std::string& account, const CreateUserInput& input);
  Result<User> GetUser(const std::string& account, const std::string& name);
  Result<Page<User>> ListUsers(const std::string& account, const ListOptions& options);
  // Removes the user's access keys and group memberships with it (keys stop working at once);
  // DeleteConflict while inline or attached policies remain, as for roles.
  Status DeleteUser(const std::string& account, const std::string& name);
  Status PutUserPolicy(const std::string& account, const std::string& user, const std::string& policy_name,
                       const std::string& document);
  Result<std::string> GetUserPolicy(const std::string& account, const std::string& user,
                                    const std::string& policy_name);
  Result<Page<std::string>> ListUserPolicies(const std::string& account, const std::string& user,
                                             const ListOptions& options);
  Status DeleteUserPolicy(const std::string& account, const std::string& user, const std::string& policy_name);
  Status AttachUserPolicy(const std::string& account, const std::string& user, const std::string& policy_arn);
  Status DetachUserPolicy(const std::string& account, const std::string& user, const std::string& policy_arn);
  Result<Page<AttachedPolicy>> ListAttachedUserPolicies(const std::string& account, const std::string& user,
                                                        const ListOptions& options);

  // ---- access keys (backend_users.cc) ----
  Result<NewAccessKey> CreateAccessKey(const std::string& account, const std::string& user);
  Result<Page<AccessKeyInfo>> ListAccessKeys(const std::string& account, const std::string& user,
                                             const ListOptions& options);
  Status UpdateAccessKey(const std::string& account, const std::string& user, const std::string& key_id,
                         KeyStatus status);
  Status DeleteAccessKey(const std::string& account, const std::string& user, const std::string& key_id);
  // The secret and owner of an active key; nullopt for an unknown or inactive one.
  std::optional<KeyIdentity> LookUpAccessKey(const std::string& key_id);

  // ---- groups (backend_groups.cc) ----
  Result<Group> CreateGroup(const std::string& account, const std::string& name, const std::string& path);
  // The group and its members (one page of them).
  Result<std::pair<Group, Page<User>>> GetGroup(const std::string& account, const std::string& name,
                                                const ListOptions& options);
  Result<Page<Group>> ListGroups(const std::string& account, const ListOptions& options);
  Result<Page<Group>> ListGroupsForUser(const std::string& account, const std::string& user,
                                        const ListOptions& options);
  // DeleteConflict while it has members or policies.
  Status DeleteGroup(const std::string& account, const std::string& name);
  Status AddUserToGroup(const std::string& account, const std::string& group, const std::string& user);
  Status RemoveUserFromGroup(const std::string& account, const std::string& group, const std::string& user);
  Status PutGroupPolicy(const std::string& account, const std::string& group, const std::string& policy_name,
                        const std::string& document);
  Result<std::string> GetGroupPolicy(const std::string& account, const std::string& group,
                                     const std::string& policy_name);
  Result<Page<std::string>> ListGroupPolicies(const std::string& account, const std::string& group,
                                              const ListOptions& options);
  Status DeleteGroupPolicy(const std::string& account, const std::string& group, const std::string& policy_name);
  Status AttachGroupPolicy(const std::string& account, const std::string& group, const std::string& policy_arn);
  Status DetachGroupPolicy(const std::string& account, const std::string& group, const std::string& policy_arn);
  Result<Page<AttachedPolicy>> ListAttachedGroupPolicies(const std::string& account, const std::string& group,
                                                         const ListOptions& options);

  // ---- managed policies (backend_policies.cc) ----
  Result<ManagedPolicy> CreatePolicy(const std::string& account, const CreatePolicyInput& input);
  // Customer managed policies of `account`, or AWS managed ones (aws_managed_policies.h).
  Result<ManagedPolicy> GetPolicy(const std::string& account, const std::string& arn);
  Result<Page<ManagedPolicy>> ListPolicies(const std::string& account, PolicyScope scope, bool only_attached,
                                           const ListOptions& options);
  // DeleteConflict while attached anywhere.
  Status DeletePolicy(const std::string& account, const std::string& arn);
  Result<PolicyVersionInfo> CreatePolicyVersion(const std::string& account, const std::string& arn,
                                                const std::string& document, bool set_as_default);
  Result<PolicyVersionInfo> GetPolicyVersion(const std::string& account, const std::string& arn,
                                             const std::string& version_id);
  Result<std::vector<PolicyVersionInfo>> ListPolicyVersions(const std::string& account, const std::string& arn);
  Status DeletePolicyVersion(const std::string& account, const std::string& arn, const std::string& version_id);
  Status SetDefaultPolicyVersion(const std::string& account, const std::string& arn, const std::string& version_id);

  // ---- enforcement (principal.cc) ----
  // The user `user_arn` names (an IAM user ARN of `account`) with every policy that applies to
  // it, parsed; NoSuchEntity when there is no such user. Cached until the next IAM change.
  Result<Principal> PrincipalFor(const std::string& account, const std::string& user_arn);
  // Whether any IAM user exists (enforcement has someone to restrict).
  bool HasUsers();
  // Increases with every change to users, groups, keys or policies (cache keys).
  uint64_t generation() const { return generation_.load(); }

 private:
  Result<store::ResourceRow> FindRow(const std::string& account, const std::string& name);
  Status Save(const store::ResourceRow& row, const Role& role);
  // The role as stored now.
  Result<Role> ReadRole(const std::string& account, const std::string& role_name);
  // Reads the role, lets `change` edit it and saves it if `change` returns OK, all under mu_.
  Status ModifyRole(const std::string& account, const std::string& role_name,
                    const std::function<Status(Role*)>& change);

  // Users, groups and policies: rows as the role's (backend_internal.h).
  Result<User> ReadUserLocked(const std::string& account, const std::string& name, store::ResourceRow* row);
  Result<Group> ReadGroupLocked(const std::string& account, const std::string& name, store::ResourceRow* row);
  Status ModifyUser(const std::string& account, const std::string& name, const std::function<Status(User*)>& change);
  Status ModifyGroup(const std::string& account, const std::string& name,
                     const std::function<Status(Group*)>& change);
  // The managed policy `arn` names, for attaching: NoSuchEntity when neither AWS's nor the
  // account's; its document parsed.
  Result<ManagedPolicy> ReadPolicyLocked(const std::string& account, const std::string& arn,
                                         store::ResourceRow* row);
  // OK when `arn` names a policy that may be attached here: AWS managed (aws_managed_policies.h)
  // or the account's own; NoSuchEntity otherwise. Called with mu_ held.
  Status CheckAttachableLocked(const std::string& account, const std::string& arn);
  size_t AttachmentsLocked(const std::string& account, const std::string& arn);
  void Changed() { generation_.fetch_add(1); }

  store::MetadataStore* store_;
  Status open_status_;
  std::mutex mu_;  // read-modify-write of a document is one step
  std::atomic<uint64_t> generation_{1};
  std::unique_ptr<AccessKeySecrets> secrets_;  // secrets.h
  // PrincipalFor's cache: user ARN -> principal, valid for one generation.
  std::mutex cache_mu_;
  uint64_t cache_generation_ = 0;
  std::map<std::string, Principal> principal_cache_;
};

// The managed policy's name (the ARN's last segment) when `arn` is a well-formed IAM policy ARN;
// InvalidInput otherwise.
Result<std::string> ManagedPolicyName(const std::string& arn);

}  // namespace lathe::iam
