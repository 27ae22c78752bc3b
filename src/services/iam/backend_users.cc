// IAM users and their access keys. A user is one row (its inline and attached policies and its
// groups in the document); each access key is a row of its own, found by its id on every signed
// request, with its secret in AccessKeySecrets.
#include <random>

#include "core/arn.h"
#include "services/iam/backend.h"
#include "services/iam/backend_internal.h"
#include "services/iam/errors.h"
#include "services/iam/policy_document.h"
#include "services/iam/secrets.h"

namespace lathe::iam {
namespace {

using nlohmann::json;
using namespace internal;

json ToDoc(const User& u) {
  return {{"account", u.account},       {"path", u.path},
          {"userName", u.name},         {"tags", TagsToJson(u.tags)},
          {"inlinePolicies", u.inline_policies}, {"attachedPolicies", u.attached_policy_arns},
          {"groups", u.groups}};
}

Status UserNotFound(const std::string& name) { return NoSuchEntity("The user with name " + name + " cannot be found."); }
Status KeyNotFound(const std::string& id) { return NoSuchEntity("The Access Key with id " + id + " cannot be found."); }

std::string RandomText(const char* alphabet, size_t n) {
  std::random_device rd;  // the kernel's CSPRNG on Linux
  const size_t size = std::char_traits<char>::length(alphabet);
  std::string s(n, ' ');
  for (char& c : s) c = alphabet[rd() % size];
  return s;
}

AccessKeyInfo KeyFromRow(const store::ResourceRow& row) {
  return {row.id, row.doc.value("userName", ""), row.status == "Inactive" ? KeyStatus::kInactive : KeyStatus::kActive,
          row.created_ms};
}

}  // namespace

namespace internal {
Result<User> UserFromRow(const store::ResourceRow& row) {
  try {
    const json& d = row.doc;
    User u;
    u.account = d.at("account").get<std::string>();
    u.path = d.at("path").get<std::string>();
    u.name = d.at("userName").get<std::string>();
    u.id = row.id;
    u.arn = row.arn;
    u.created_ms = row.created_ms;
    u.tags = TagsFromJson(d.value("tags", json::array()));
    u.inline_policies = d.value("inlinePolicies", std::map<std::string, std::string>());
    u.attached_policy_arns = d.value("attachedPolicies", std::vector<std::string>());
    u.groups = d.value("groups", std::vector<std::string>());
    return u;
  } catch (const json::exception& e) {
    return ServiceFailure("The stored user " + row.id + " is unreadable: " + e.what());
  }
}

}  // namespace internal

Result<User> IamBackend::ReadUserLocked(const std::string& account, const std::string& name, store::ResourceRow* row) {
  LATHE_RETURN_IF_ERROR(ValidateUserName(name));
  Result<store::ResourceRow> found = store_->Find(kUserKind, RowName(account, name));
  if (!found.ok())
    return found.status().code() == Status::Code::kNotFound ? UserNotFound(name) : ServiceFailure(found.status().message());
  if (row) *row = *found;
  return UserFromRow(*found);
}

Status IamBackend::ModifyUser(const std::string& account, const std::string& name,
                              const std::function<Status(User*)>& change) {
  std::lock_guard<std::mutex> lock(mu_);
  store::ResourceRow row;
  Result<User> user = ReadUserLocked(account, name, &row);
  if (!user.ok()) return user.status();
  LATHE_RETURN_IF_ERROR(change(&*user));
  row.doc = ToDoc(*user);
  Status s = store_->Update(row);
  if (!s.ok()) return s.code() == Status::Code::kNotFound ? UserNotFound(name) : ServiceFailure(s.message());
  Changed();
  return Status::Ok();
}

Result<User> IamBackend::CreateUser(const std::string& account, const CreateUserInput& input) {
  LATHE_RETURN_IF_ERROR(ValidateUserName(input.name, "userName", 64));
  LATHE_RETURN_IF_ERROR(ValidatePath(input.path));
  LATHE_RETURN_IF_ERROR(ValidateTags(input.tags));
  std::lock_guard<std::mutex> lock(mu_);
  Result<std::vector<store::ResourceRow>> existing = AccountRows(store_, kUserKind, account);
  if (!existing.ok()) return existing.status();
  if (existing->size() >= kMaxUsersPerAccount)
    return LimitExceeded("Cannot exceed quota for UsersPerAccount: " + std::to_string(kMaxUsersPerAccount));
  User user;
  user.account = account;
  user.path = input.path;
  user.name = input.name;
  user.id = NewIamId("AIDA");
  user.arn = MakeArn("iam", "", account, "user" + input.path + input.name);
  user.created_ms = NowMillis();
  user.tags = input.tags;
  store::ResourceRow row{kUserKind, user.id, RowName(account, user.name), user.arn, "active", user.created_ms, ToDoc(user)};
  Status s = store_->Insert(row);
  if (s.code() == Status::Code::kAlreadyExists) return EntityAlreadyExists("User with name " + input.name + " already exists.");
  if (!s.ok()) return ServiceFailure(s.message());
  Changed();
  return user;
}

Result<User> IamBackend::GetUser(const std::string& account, const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  return ReadUserLocked(account, name, nullptr);
}

Result<Page<User>> IamBackend::ListUsers(const std::string& account, const ListOptions& options) {
  LATHE_RETURN_IF_ERROR(CheckListOptions(options));
  std::vector<User> users;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Result<std::vector<store::ResourceRow>> rows = AccountRows(store_, kUserKind, account);
    if (!rows.ok()) return rows.status();
    for (const store::ResourceRow& row : *rows) {
      Result<User> user = UserFromRow(row);
      if (!user.ok()) return user.status();
      if (user->path.compare(0, options.path_prefix.size(), options.path_prefix) == 0) users.push_back(*user);
    }
  }
  std::sort(users.begin(), users.end(), [](const User& a, const User& b) { return Lower(a.name) < Lower(b.name); });
  return Paginate(std::move(users), options, [](const User& u) { return Lower(u.name); });
}

Status IamBackend::DeleteUser(const std::string& account, const std::string& name) {
  std::vector<std::string> key_ids;
  {
    std::lock_guard<std::mutex> lock(mu_);
    store::ResourceRow row;
    Result<User> user = ReadUserLocked(account, name, &row);
    if (!user.ok()) return user.status();
    if (!user->inline_policies.empty()) return DeleteConflict("Cannot delete entity, must delete policies first.");
    if (!user->attached_policy_arns.empty())
      return DeleteConflict("Cannot delete entity, must detach all policies first.");
    store::MetadataStore::ListFilter keys;
    keys.doc_equals["user"] = row.name;
    Result<std::vector<store::ResourceRow>> key_rows = store_->List(kAccessKeyKind, keys);
    if (!key_rows.ok()) return ServiceFailure(key_rows.status().message());
    // The user, its keys (and with them its group memberships, which live in its document) go
    // in one transaction: no key outlives its user.
    store::WriteBatch batch;
    batch.deletes.push_back({kUserKind, row.id});
    for (const store::ResourceRow& k : *key_rows) {
      batch.deletes.push_back({kAccessKeyKind, k.id});
      key_ids.push_back(k.id);
    }
    Status s = store_->Write(batch);
    if (!s.ok()) return s.code() == Status::Code::kNotFound ? UserNotFound(name) : ServiceFailure(s.message());
    Changed();
  }
  for (const std::string& id : key_ids) (void)secrets_->Remove(id);  // the row is gone: the key is dead already
  return Status::Ok();
}

Status IamBackend::PutUserPolicy(const std::string& account, const std::string& user, const std::string& policy_name,
                                 const std::string& document) {
  LATHE_RETURN_IF_ERROR(ValidateUserName(user));
  LATHE_RETURN_IF_ERROR(ValidatePolicyName(policy_name));
  LATHE_RETURN_IF_ERROR(ParsePolicy(document, policy_name, "user").status());
  return ModifyUser(account, user, [&](User* u) {
    u->inline_policies[policy_name] = document;
    return CheckInlineQuota(u->inline_policies, kMaxInlinePolicyCharsPerUser, "user " + user);
  });
}

Result<std::string> IamBackend::GetUserPolicy(const std::string& account, const std::string& user,
                                              const std::string& policy_name) {
  LATHE_RETURN_IF_ERROR(ValidatePolicyName(policy_name));
  std::lock_guard<std::mutex> lock(mu_);
  Result<User> u = ReadUserLocked(account, user, nullptr);
  if (!u.ok()) return u.status();
  auto it = u->inline_policies.find(policy_name);
  if (it == u->inline_policies.end())
    return NoSuchEntity("The user policy with name " + policy_name + " cannot be found.");
  return it->second;
}

Result<Page<std::string>> IamBackend::ListUserPolicies(const std::string& account, const std::string& user,
                                                       const ListOptions& options) {
  LATHE_RETURN_IF_ERROR(CheckListOptions(options));
  std::lock_guard<std::mutex> lock(mu_);
  Result<User> u = ReadUserLocked(account, user, nullptr);
  if (!u.ok()) return u.status();
  return InlinePage(u->inline_policies, options);
}

Status IamBackend::DeleteUserPolicy(const std::string& account, const std::string& user, const std::string& policy_name) {
  LATHE_RETURN_IF_ERROR(ValidatePolicyName(policy_name));
  return ModifyUser(account, user, [&](User* u) {
    if (u->inline_policies.erase(policy_name) == 0)
      return NoSuchEntity("The user policy with name " + policy_name + " cannot be found.");
    return Status::Ok();
  });
}

Status IamBackend::AttachUserPolicy(const std::string& account, const std::string& user, const std::string& policy_arn) {
  LATHE_RETURN_IF_ERROR(ValidateUserName(user, "userName", 64));
  LATHE_RETURN_IF_ERROR(ManagedPolicyName(policy_arn).status());
  return ModifyUser(account, user, [&](User* u) {
    LATHE_RETURN_IF_ERROR(CheckAttachableLocked(account, policy_arn));
    return AttachTo(&u->attached_policy_arns, policy_arn, kMaxAttachedPolicies, "PoliciesPerUser");
  });
}

Status IamBackend::DetachUserPolicy(const std::string& account, const std::string& user, const std::string& policy_arn) {
  LATHE_RETURN_IF_ERROR(ValidateUserName(user, "userName", 64));
  LATHE_RETURN_IF_ERROR(ManagedPolicyName(policy_arn).status());
  return ModifyUser(account, user, [&](User* u) { return DetachFrom(&u->attached_policy_arns, policy_arn); });
}

Result<Page<AttachedPolicy>> IamBackend::ListAttachedUserPolicies(const std::string& account, const std::string& user,
                                                                  const ListOptions& options) {
  LATHE_RETURN_IF_ERROR(CheckListOptions(options));
  std::lock_guard<std::mutex> lock(mu_);
  Result<User> u = ReadUserLocked(account, user, nullptr);
  if (!u.ok()) return u.status();
  return AttachedPage(u->attached_policy_arns, options);
}

Result<NewAccessKey> IamBackend::CreateAccessKey(const std::string& account, const std::string& user) {
  std::lock_guard<std::mutex> lock(mu_);
  store::ResourceRow user_row;
  Result<User> u = ReadUserLocked(account, user, &user_row);
  if (!u.ok()) return u.status();
  store::MetadataStore::ListFilter mine;
  mine.doc_equals["user"] = user_row.name;
  Result<size_t> count = store_->Count(kAccessKeyKind, mine);
  if (!count.ok()) return ServiceFailure(count.status().message());
  if (*count >= kMaxAccessKeysPerUser)
    return LimitExceeded("Cannot exceed quota for AccessKeysPerUser: " + std::to_string(kMaxAccessKeysPerUser));
  NewAccessKey key;
  key.info = {"AKIA" + RandomText("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16), u->name, KeyStatus::kActive, NowMillis()};
  key.secret = RandomText("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 40);
  // The secret first: a crash before the row leaves a secret without a key (dropped at start),
  // never a key without its secret.
  Status put = secrets_->Put(key.info.id, key.secret);
  if (!put.ok()) return ServiceFailure("The access key's secret could not be stored: " + put.message());
  store::ResourceRow row{kAccessKeyKind, key.info.id, key.info.id, "", "Active", key.info.created_ms,
                         json{{"account", account}, {"user", user_row.name}, {"userName", u->name},
                              {"userArn", u->arn}, {"userId", u->id}}};
  Status s = store_->Insert(row);
  if (!s.ok()) {
    (void)secrets_->Remove(key.info.id);
    return ServiceFailure(s.message());
  }
  Changed();
  return key;
}

Result<Page<AccessKeyInfo>> IamBackend::ListAccessKeys(const std::string& account, const std::string& user,
                                                       const ListOptions& options) {
  LATHE_RETURN_IF_ERROR(CheckListOptions(options));
  std::vector<AccessKeyInfo> keys;
  {
    std::lock_guard<std::mutex> lock(mu_);
    store::ResourceRow user_row;
    Result<User> u = ReadUserLocked(account, user, &user_row);
    if (!u.ok()) return u.status();
    store::MetadataStore::ListFilter mine;
    mine.doc_equals["user"] = user_row.name;
    Result<std::vector<store::ResourceRow>> rows = store_->List(kAccessKeyKind, mine);
    if (!rows.ok()) return ServiceFailure(rows.status().message());
    for (const store::ResourceRow& row : *rows) keys.push_back(KeyFromRow(row));
  }
  std::sort(keys.begin(), keys.end(), [](const AccessKeyInfo& a, const AccessKeyInfo& b) { return a.id < b.id; });
  return Paginate(std::move(keys), options, [](const AccessKeyInfo& k) { return k.id; });
}

Status IamBackend::UpdateAccessKey(const std::string& account, const std::string& user, const std::string& key_id,
                                   KeyStatus status) {
  LATHE_RETURN_IF_ERROR(ValidateAccessKeyId(key_id));
  std::lock_guard<std::mutex> lock(mu_);
  store::ResourceRow user_row;
  Result<User> u = ReadUserLocked(account, user, &user_row);
  if (!u.ok()) return u.status();
  Result<store::ResourceRow> row = store_->Find(kAccessKeyKind, key_id);
  if (!row.ok() || row->id != key_id || row->doc.value("user", "") != user_row.name) return KeyNotFound(key_id);
  row->status = status == KeyStatus::kActive ? "Active" : "Inactive";
  Status s = store_->Update(*row);
  if (!s.ok()) return s.code() == Status::Code::kNotFound ? KeyNotFound(key_id) : ServiceFailure(s.message());
  Changed();
  return Status::Ok();
}

Status IamBackend::DeleteAccessKey(const std::string& account, const std::string& user, const std::string& key_id) {
  LATHE_RETURN_IF_ERROR(ValidateAccessKeyId(key_id));
  {
    std::lock_guard<std::mutex> lock(mu_);
    store::ResourceRow user_row;
    Result<User> u = ReadUserLocked(account, user, &user_row);
    if (!u.ok()) return u.status();
    Result<store::ResourceRow> row = store_->Find(kAccessKeyKind, key_id);
    if (!row.ok() || row->id != key_id || row->doc.value("user", "") != user_row.name) return KeyNotFound(key_id);
    Status s = store_->Delete(kAccessKeyKind, key_id);
    if (!s.ok()) return s.code() == Status::Code::kNotFound ? KeyNotFound(key_id) : ServiceFailure(s.message());
    Changed();
  }
  (void)secrets_->Remove(key_id);  // the row is gone: the key no longer verifies
  return Status::Ok();
}

std::optional<KeyIdentity> IamBackend::LookUpAccessKey(const std::string& key_id) {
  // Only ids this backend could have issued reach the store.
  if (key_id.size() != 20 || key_id.compare(0, 4, "AKIA") != 0) return std::nullopt;
  for (char c : key_id)
    if (!((c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7'))) return std::nullopt;
  Result<store::ResourceRow> row = store_->Find(kAccessKeyKind, key_id);
  if (!row.ok() || row->id != key_id || row->status != "Active") return std::nullopt;
  std::optional<std::string> secret = secrets_->Get(key_id);
  if (!secret) return std::nullopt;
  return KeyIdentity{*secret, row->doc.value("account", ""), row->doc.value("userArn", ""),
                     row->doc.value("userId", "")};
}

}  // namespace lathe::iam
