// Customer managed policies (one row each, every version in its document) and the AWS managed
// policies lathe knows (aws_managed_policies.h), read-only. A policy's attachments are where
// they are kept — in its users', groups' and roles' documents — and counted by a scan of the
// account's rows when asked (bounded by the quotas).
#include <functional>

#include "core/arn.h"
#include "services/iam/aws_managed_policies.h"
#include "services/iam/backend.h"
#include "services/iam/backend_internal.h"
#include "services/iam/errors.h"
#include "services/iam/policy_document.h"

namespace lathe::iam {
namespace {

using nlohmann::json;
using namespace internal;

constexpr std::string_view kAwsPolicyPrefix = "arn:aws:iam::aws:policy/";

json ToDoc(const ManagedPolicy& p) {
  json versions = json::array();
  for (const PolicyVersionInfo& v : p.versions)
    versions.push_back({{"id", v.id}, {"document", v.document}, {"created", v.created_ms}});
  return {{"account", p.account},       {"path", p.path},
          {"policyName", p.name},       {"description", p.description},
          {"defaultVersion", p.default_version}, {"versions", versions},
          {"nextVersion", p.next_version},       {"tags", TagsToJson(p.tags)},
          {"updated", p.updated_ms}};
}

Result<ManagedPolicy> PolicyFromRow(const store::ResourceRow& row) {
  try {
    const json& d = row.doc;
    ManagedPolicy p;
    p.account = d.at("account").get<std::string>();
    p.path = d.at("path").get<std::string>();
    p.name = d.at("policyName").get<std::string>();
    p.id = row.id;
    p.arn = row.arn;
    p.description = d.value("description", "");
    p.default_version = d.at("defaultVersion").get<std::string>();
    p.created_ms = row.created_ms;
    p.updated_ms = d.value("updated", row.created_ms);
    p.next_version = d.value("nextVersion", 2);
    p.tags = TagsFromJson(d.value("tags", json::array()));
    for (const json& v : d.at("versions"))
      p.versions.push_back({v.at("id").get<std::string>(), v.at("document").get<std::string>(), v.value("created", int64_t{0})});
    return p;
  } catch (const json::exception& e) {
    return ServiceFailure("The stored policy " + row.id + " is unreadable: " + e.what());
  }
}

ManagedPolicy FromAws(const AwsManagedPolicy& a) {
  ManagedPolicy p;
  p.account = "aws";
  p.path = std::string(a.path);
  p.name = std::string(a.name);
  p.arn = AwsManagedPolicyArn(a);
  // A stable id per name (AWS's are fixed too): ANPA and the name's first letters, padded.
  std::string id = "ANPA";
  for (char c : a.name)
    if (id.size() < 21 && ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) id += c;
  while (id.size() < 21) id += 'A';
  p.id = id;
  p.description = std::string(a.description);
  p.created_ms = p.updated_ms = 1423353600000;  // 2015-02-06, when IAM's first managed policies appeared
  p.versions.push_back({"v1", std::string(a.document), p.created_ms});
  return p;
}

Status PolicyNotFound(const std::string& arn) { return NoSuchEntity("Policy " + arn + " was not found."); }

Status CheckManagedDocument(const std::string& document) {
  LATHE_RETURN_IF_ERROR(ParsePolicy(document, "", "user-managed").status());
  if (PolicyQuotaChars(document) > kMaxManagedPolicyChars)
    return LimitExceeded("Cannot exceed quota for PolicySize: " + std::to_string(kMaxManagedPolicyChars));
  return Status::Ok();
}

bool Attached(const json& doc, const std::string& arn) {
  const json& list = doc.contains("attachedPolicies") ? doc["attachedPolicies"] : json::array();
  for (const json& a : list)
    if (a.is_string() && a.get<std::string>() == arn) return true;
  return false;
}

}  // namespace

const PolicyVersionInfo* ManagedPolicy::DefaultVersion() const {
  for (const PolicyVersionInfo& v : versions)
    if (v.id == default_version) return &v;
  return nullptr;
}

Result<ManagedPolicy> IamBackend::ReadPolicyLocked(const std::string& account, const std::string& arn,
                                                   store::ResourceRow* row) {
  LATHE_RETURN_IF_ERROR(ManagedPolicyName(arn).status());
  if (arn.compare(0, kAwsPolicyPrefix.size(), kAwsPolicyPrefix) == 0) {
    const AwsManagedPolicy* aws = FindAwsManagedPolicy(arn);
    if (!aws) return PolicyNotFound(arn);
    ManagedPolicy p = FromAws(*aws);
    p.attachment_count = AttachmentsLocked(account, arn);
    return p;
  }
  Result<store::ResourceRow> found = store_->Find(kPolicyKind, arn);
  if (!found.ok() || found->arn != arn || found->doc.value("account", "") != account) return PolicyNotFound(arn);
  Result<ManagedPolicy> p = PolicyFromRow(*found);
  if (!p.ok()) return p.status();
  p->attachment_count = AttachmentsLocked(account, arn);
  if (row) *row = *found;
  return p;
}

size_t IamBackend::AttachmentsLocked(const std::string& account, const std::string& arn) {
  size_t n = 0;
  for (const char* kind : {kUserKind, kGroupKind, kRoleKind}) {
    Result<std::vector<store::ResourceRow>> rows = AccountRows(store_, kind, account);
    if (!rows.ok()) continue;
    for (const store::ResourceRow& r : *rows) n += Attached(r.doc, arn) ? 1 : 0;
  }
  return n;
}

Status IamBackend::CheckAttachableLocked(const std::string& account, const std::string& arn) {
  if (arn.compare(0, kAwsPolicyPrefix.size(), kAwsPolicyPrefix) == 0) {
    if (FindAwsManagedPolicy(arn)) return Status::Ok();
  } else {
    Result<store::ResourceRow> found = store_->Find(kPolicyKind, arn);
    if (found.ok() && found->arn == arn && found->doc.value("account", "") == account) return Status::Ok();
  }
  return NoSuchEntity("Policy " + arn + " does not exist or is not attachable.");
}

Result<ManagedPolicy> IamBackend::CreatePolicy(const std::string& account, const CreatePolicyInput& input) {
  LATHE_RETURN_IF_ERROR(ValidatePolicyName(input.name));
  LATHE_RETURN_IF_ERROR(ValidatePolicyPath(input.path));
  LATHE_RETURN_IF_ERROR(ValidateDescription(input.description));
  LATHE_RETURN_IF_ERROR(ValidateTags(input.tags));
  LATHE_RETURN_IF_ERROR(CheckManagedDocument(input.document));
  std::lock_guard<std::mutex> lock(mu_);
  Result<std::vector<store::ResourceRow>> existing = AccountRows(store_, kPolicyKind, account);
  if (!existing.ok()) return existing.status();
  if (existing->size() >= kMaxManagedPoliciesPerAccount)
    return LimitExceeded("Cannot exceed quota for PoliciesPerAccount: " + std::to_string(kMaxManagedPoliciesPerAccount));
  ManagedPolicy p;
  p.account = account;
  p.path = input.path;
  p.name = input.name;
  p.id = NewIamId("ANPA");
  p.arn = MakeArn("iam", "", account, "policy" + input.path + input.name);
  p.description = input.description;
  p.created_ms = p.updated_ms = NowMillis();
  p.tags = input.tags;
  p.versions.push_back({"v1", input.document, p.created_ms});
  Status s = store_->Insert({kPolicyKind, p.id, RowName(account, p.name), p.arn, "active", p.created_ms, ToDoc(p)});
  if (s.code() == Status::Code::kAlreadyExists)
    return EntityAlreadyExists("A policy called " + input.name + " already exists. Duplicate names are not allowed.");
  if (!s.ok()) return ServiceFailure(s.message());
  Changed();
  return p;
}

Result<ManagedPolicy> IamBackend::GetPolicy(const std::string& account, const std::string& arn) {
  std::lock_guard<std::mutex> lock(mu_);
  return ReadPolicyLocked(account, arn, nullptr);
}

Result<Page<ManagedPolicy>> IamBackend::ListPolicies(const std::string& account, PolicyScope scope, bool only_attached,
                                                     const ListOptions& options) {
  LATHE_RETURN_IF_ERROR(CheckListOptions(options));
  std::vector<ManagedPolicy> policies;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (scope != PolicyScope::kLocal)
      for (const AwsManagedPolicy& a : AwsManagedPolicies()) policies.push_back(FromAws(a));
    if (scope != PolicyScope::kAws) {
      Result<std::vector<store::ResourceRow>> rows = AccountRows(store_, kPolicyKind, account);
      if (!rows.ok()) return rows.status();
      for (const store::ResourceRow& row : *rows) {
        Result<ManagedPolicy> p = PolicyFromRow(row);
        if (!p.ok()) return p.status();
        policies.push_back(std::move(*p));
      }
    }
    std::vector<ManagedPolicy> kept;
    for (ManagedPolicy& p : policies) {
      if (p.path.compare(0, options.path_prefix.size(), options.path_prefix) != 0) continue;
      p.attachment_count = AttachmentsLocked(account, p.arn);
      if (only_attached && p.attachment_count == 0) continue;
      kept.push_back(std::move(p));
    }
    policies = std::move(kept);
  }
  auto key = [](const ManagedPolicy& p) { return Lower(p.name) + "|" + p.arn; };
  std::sort(policies.begin(), policies.end(), [&](const ManagedPolicy& a, const ManagedPolicy& b) { return key(a) < key(b); });
  return Paginate(std::move(policies), options, key);
}

Status IamBackend::DeletePolicy(const std::string& account, const std::string& arn) {
  std::lock_guard<std::mutex> lock(mu_);
  if (arn.compare(0, kAwsPolicyPrefix.size(), kAwsPolicyPrefix) == 0)
    return InvalidInput("Policy " + arn + " is an AWS managed policy; it cannot be deleted.");
  store::ResourceRow row;
  Result<ManagedPolicy> p = ReadPolicyLocked(account, arn, &row);
  if (!p.ok()) return p.status();
  if (p->attachment_count > 0) return DeleteConflict("Cannot delete a policy attached to entities.");
  if (p->versions.size() > 1)
    return DeleteConflict("This policy has more than one version. Before you delete a policy, you must delete the "
                          "policy's versions. The default version is deleted with the policy.");
  Status s = store_->Delete(kPolicyKind, row.id);
  if (!s.ok()) return s.code() == Status::Code::kNotFound ? PolicyNotFound(arn) : ServiceFailure(s.message());
  Changed();
  return Status::Ok();
}

namespace {
// Lets `change` edit the customer managed policy `p` (read as `row`) and saves it, under the lock
// the caller holds. AWS managed policies are refused here, for every kind of edit.
Status ChangePolicy(store::MetadataStore* store, store::ResourceRow row, ManagedPolicy* p,
                    const std::function<Status(ManagedPolicy*)>& change) {
  if (p->account == "aws") return InvalidInput("Policy " + p->arn + " is an AWS managed policy; it cannot be changed.");
  LATHE_RETURN_IF_ERROR(change(p));
  p->updated_ms = NowMillis();
  row.doc = ToDoc(*p);
  Status s = store->Update(row);
  if (!s.ok()) return s.code() == Status::Code::kNotFound ? PolicyNotFound(p->arn) : ServiceFailure(s.message());
  return Status::Ok();
}
}  // namespace

Result<PolicyVersionInfo> IamBackend::CreatePolicyVersion(const std::string& account, const std::string& arn,
                                                          const std::string& document, bool set_as_default) {
  LATHE_RETURN_IF_ERROR(CheckManagedDocument(document));
  std::lock_guard<std::mutex> lock(mu_);
  if (arn.compare(0, kAwsPolicyPrefix.size(), kAwsPolicyPrefix) == 0)
    return InvalidInput("Policy " + arn + " is an AWS managed policy; it cannot be changed.");
  store::ResourceRow row;
  Result<ManagedPolicy> p = ReadPolicyLocked(account, arn, &row);
  if (!p.ok()) return p.status();
  PolicyVersionInfo made;
  LATHE_RETURN_IF_ERROR(ChangePolicy(store_, row, &*p, [&](ManagedPolicy* policy) {
    if (policy->versions.size() >= kMaxPolicyVersions)
      return LimitExceeded("A managed policy can have up to " + std::to_string(kMaxPolicyVersions) +
                           " versions. Before you create a new version, you must delete an existing version.");
    made = {"v" + std::to_string(policy->next_version++), document, NowMillis()};
    policy->versions.push_back(made);
    if (set_as_default) policy->default_version = made.id;
    return Status::Ok();
  }));
  Changed();
  return made;
}

Result<PolicyVersionInfo> IamBackend::GetPolicyVersion(const std::string& account, const std::string& arn,
                                                       const std::string& version_id) {
  LATHE_RETURN_IF_ERROR(ValidateVersionId(version_id));
  std::lock_guard<std::mutex> lock(mu_);
  Result<ManagedPolicy> p = ReadPolicyLocked(account, arn, nullptr);
  if (!p.ok()) return p.status();
  for (const PolicyVersionInfo& v : p->versions)
    if (v.id == version_id) return v;
  return NoSuchEntity("Policy " + arn + " version " + version_id + " does not exist or is not attachable.");
}

Result<std::vector<PolicyVersionInfo>> IamBackend::ListPolicyVersions(const std::string& account,
                                                                      const std::string& arn) {
  std::lock_guard<std::mutex> lock(mu_);
  Result<ManagedPolicy> p = ReadPolicyLocked(account, arn, nullptr);
  if (!p.ok()) return p.status();
  return p->versions;
}

Status IamBackend::DeletePolicyVersion(const std::string& account, const std::string& arn,
                                       const std::string& version_id) {
  LATHE_RETURN_IF_ERROR(ValidateVersionId(version_id));
  std::lock_guard<std::mutex> lock(mu_);
  store::ResourceRow row;
  Result<ManagedPolicy> p = ReadPolicyLocked(account, arn, &row);
  if (!p.ok()) return p.status();
  LATHE_RETURN_IF_ERROR(ChangePolicy(store_, row, &*p, [&](ManagedPolicy* policy) {
    if (policy->default_version == version_id)
      return DeleteConflict("Cannot delete the default version of the policy.");
    for (auto it = policy->versions.begin(); it != policy->versions.end(); ++it)
      if (it->id == version_id) {
        policy->versions.erase(it);
        return Status::Ok();
      }
    return NoSuchEntity("Policy " + arn + " version " + version_id + " does not exist.");
  }));
  Changed();
  return Status::Ok();
}

Status IamBackend::SetDefaultPolicyVersion(const std::string& account, const std::string& arn,
                                           const std::string& version_id) {
  LATHE_RETURN_IF_ERROR(ValidateVersionId(version_id));
  std::lock_guard<std::mutex> lock(mu_);
  store::ResourceRow row;
  Result<ManagedPolicy> p = ReadPolicyLocked(account, arn, &row);
  if (!p.ok()) return p.status();
  LATHE_RETURN_IF_ERROR(ChangePolicy(store_, row, &*p, [&](ManagedPolicy* policy) {
    for (const PolicyVersionInfo& v : policy->versions)
      if (v.id == version_id) {
        policy->default_version = version_id;
        return Status::Ok();
      }
    return NoSuchEntity("Policy " + arn + " version " + version_id + " does not exist.");
  }));
  Changed();
  return Status::Ok();
}

}  // namespace lathe::iam
