// What enforcement asks of IAM on a request signed with a user's key: the user and every policy
// that applies to it — its inline policies, the managed policies attached to it, and each of its
// groups' inline and attached policies — parsed once and cached until IAM next changes.
#include "services/iam/aws_managed_policies.h"
#include "services/iam/backend.h"
#include "services/iam/backend_internal.h"
#include "services/iam/errors.h"

namespace lathe::iam {
namespace {

using namespace internal;

// Parses `document`; a stored policy that no longer parses fails the whole lookup (closed: a
// Deny it holds must never be skipped).
Status AddPolicy(std::vector<Policy>* out, const std::string& document, std::string id, std::string type) {
  Result<Policy> p = ParsePolicy(document, id, type);
  if (!p.ok()) return ServiceFailure("The stored policy " + id + " cannot be evaluated: " + p.status().message());
  out->push_back(std::move(*p));
  return Status::Ok();
}

}  // namespace

Result<Principal> IamBackend::PrincipalFor(const std::string& account, const std::string& user_arn) {
  const uint64_t generation = generation_.load();
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    if (cache_generation_ != generation) {
      principal_cache_.clear();
      cache_generation_ = generation;
    }
    auto it = principal_cache_.find(user_arn);
    if (it != principal_cache_.end()) return it->second;
  }
  Principal principal;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Result<store::ResourceRow> row = store_->Find(kUserKind, user_arn);
    if (!row.ok() || row->arn != user_arn || row->doc.value("account", "") != account)
      return NoSuchEntity("The user with ARN " + user_arn.substr(0, 256) + " cannot be found.");
    Result<User> user = UserFromRow(*row);
    if (!user.ok()) return user.status();
    principal = {account, user->name, user->id, user->arn, user->tags, {}};
    auto add_attached = [&](const std::vector<std::string>& arns) -> Status {
      for (const std::string& arn : arns) {
        store::ResourceRow policy_row;
        Result<ManagedPolicy> p = ReadPolicyLocked(account, arn, &policy_row);
        if (!p.ok()) {
          // Deleted after attaching: nothing left to grant or deny. Any other failure (a row that
          // no longer reads, the store failing) may hide a Deny: closed.
          if (p.status().code() == Status::Code::kNotFound) continue;
          return p.status();
        }
        const PolicyVersionInfo* v = p->DefaultVersion();
        if (!v) continue;
        LATHE_RETURN_IF_ERROR(
            AddPolicy(&principal.policies, v->document, arn, p->account == "aws" ? "aws-managed" : "user-managed"));
      }
      return Status::Ok();
    };
    for (const auto& [name, doc] : user->inline_policies) LATHE_RETURN_IF_ERROR(AddPolicy(&principal.policies, doc, name, "user"));
    LATHE_RETURN_IF_ERROR(add_attached(user->attached_policy_arns));
    for (const std::string& group_name : user->groups) {
      Result<Group> group = ReadGroupLocked(account, group_name, nullptr);
      if (!group.ok()) {
        if (group.status().code() == Status::Code::kNotFound) continue;  // deleted: as above
        return group.status();
      }
      for (const auto& [name, doc] : group->inline_policies)
        LATHE_RETURN_IF_ERROR(AddPolicy(&principal.policies, doc, name, "group"));
      LATHE_RETURN_IF_ERROR(add_attached(group->attached_policy_arns));
    }
  }
  std::lock_guard<std::mutex> lock(cache_mu_);
  if (cache_generation_ == generation && principal_cache_.size() < 1024) principal_cache_[user_arn] = principal;
  return principal;
}

bool IamBackend::HasUsers() {
  Result<std::vector<store::ResourceRow>> rows = store_->List(kUserKind);
  return rows.ok() && !rows->empty();
}

}  // namespace lathe::iam
