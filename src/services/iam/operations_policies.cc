// Managed policies and their versions over the query protocol.
#include "aws/xml.h"
#include "services/iam/errors.h"
#include "services/iam/operations_internal.h"
#include "services/iam/shapes.h"

namespace lathe::iam {

using aws::QueryParams;
using aws::RequestContext;

namespace {

Status Two(const QueryParams& p, const char* second, std::string* arn, std::string* other) {
  Result<std::string> a = Member(p, "PolicyArn");
  if (!a.ok()) return a.status();
  Result<std::string> o = Member(p, second);
  if (!o.ok()) return o.status();
  *arn = *a;
  *other = *o;
  return Status::Ok();
}

Result<PolicyScope> ScopeFromParams(const QueryParams& p) {
  const std::string* scope = p.Get("Scope");
  if (!scope || *scope == "All") return PolicyScope::kAll;
  if (*scope == "AWS") return PolicyScope::kAws;
  if (*scope == "Local") return PolicyScope::kLocal;
  return ValidationError("1 validation error detected: Value '" + scope->substr(0, 64) +
                         "' at 'scope' failed to satisfy constraint: Member must satisfy enum value set: [All, AWS, Local]");
}

}  // namespace

void AddPolicyOperations(IamBackend* iam, const AddOperation& add) {
  add("CreatePolicy", [iam](const RequestContext& ctx, const QueryParams& p, pugi::xml_node result) -> Status {
    CreatePolicyInput in;
    Result<std::string> name = Member(p, "PolicyName"), doc = Member(p, "PolicyDocument");
    for (const auto* r : {&name, &doc})
      if (!r->ok()) return r->status();
    in.name = *name;
    in.document = *doc;
    if (const std::string* path = p.Get("Path")) in.path = *path;
    if (const std::string* description = p.Get("Description")) in.description = *description;
    Result<std::vector<Tag>> tags = TagsFromParams(p);
    if (!tags.ok()) return tags.status();
    in.tags = std::move(*tags);
    Result<ManagedPolicy> policy = iam->CreatePolicy(ctx.caller.account, in);
    if (!policy.ok()) return policy.status();
    WritePolicy(result, *policy, "Policy", /*details=*/false);  // CreatePolicy answers no description
    return Status::Ok();
  }, true);
  add("GetPolicy", [iam](const RequestContext& ctx, const QueryParams& p, pugi::xml_node result) -> Status {
    Result<std::string> arn = Member(p, "PolicyArn");
    if (!arn.ok()) return arn.status();
    Result<ManagedPolicy> policy = iam->GetPolicy(ctx.caller.account, *arn);
    if (!policy.ok()) return policy.status();
    WritePolicy(result, *policy);
    return Status::Ok();
  }, true);
  add("ListPolicies", [iam](const RequestContext& ctx, const QueryParams& p, pugi::xml_node result) -> Status {
    Result<PolicyScope> scope = ScopeFromParams(p);
    if (!scope.ok()) return scope.status();
    Result<std::optional<bool>> only_attached = p.Bool("OnlyAttached");
    if (!only_attached.ok()) return only_attached.status();
    if (const std::string* usage = p.Get("PolicyUsageFilter"); usage && *usage == "PermissionsBoundary") {
      result.append_child("Policies");  // lathe has no permissions boundaries
      WritePaging(result, false, "");
      return Status::Ok();
    }
    Result<ListOptions> options = ListOptionsFromParams(p);
    if (!options.ok()) return options.status();
    Result<Page<ManagedPolicy>> page =
        iam->ListPolicies(ctx.caller.account, *scope, only_attached->value_or(false), *options);
    if (!page.ok()) return page.status();
    pugi::xml_node list = result.append_child("Policies");
    for (const ManagedPolicy& policy : page->items) WritePolicy(list, policy, "member", /*details=*/false);
    WritePaging(result, page->truncated(), page->marker);
    return Status::Ok();
  }, true);
  add("DeletePolicy", [iam](const RequestContext& ctx, const QueryParams& p, pugi::xml_node) -> Status {
    Result<std::string> arn = Member(p, "PolicyArn");
    if (!arn.ok()) return arn.status();
    return iam->DeletePolicy(ctx.caller.account, *arn);
  }, false);
  add("CreatePolicyVersion", [iam](const RequestContext& ctx, const QueryParams& p, pugi::xml_node result) -> Status {
    std::string arn, doc;
    LATHE_RETURN_IF_ERROR(Two(p, "PolicyDocument", &arn, &doc));
    Result<std::optional<bool>> set_default = p.Bool("SetAsDefault");
    if (!set_default.ok()) return set_default.status();
    Result<PolicyVersionInfo> v = iam->CreatePolicyVersion(ctx.caller.account, arn, doc, set_default->value_or(false));
    if (!v.ok()) return v.status();
    WritePolicyVersion(result, *v, set_default->value_or(false), /*with_document=*/false);
    return Status::Ok();
  }, true);
  add("GetPolicyVersion", [iam](const RequestContext& ctx, const QueryParams& p, pugi::xml_node result) -> Status {
    std::string arn, id;
    LATHE_RETURN_IF_ERROR(Two(p, "VersionId", &arn, &id));
    Result<ManagedPolicy> policy = iam->GetPolicy(ctx.caller.account, arn);
    if (!policy.ok()) return policy.status();
    Result<PolicyVersionInfo> v = iam->GetPolicyVersion(ctx.caller.account, arn, id);
    if (!v.ok()) return v.status();
    WritePolicyVersion(result, *v, policy->default_version == v->id, /*with_document=*/true);
    return Status::Ok();
  }, true);
  add("ListPolicyVersions", [iam](const RequestContext& ctx, const QueryParams& p, pugi::xml_node result) -> Status {
    Result<std::string> arn = Member(p, "PolicyArn");
    if (!arn.ok()) return arn.status();
    Result<ManagedPolicy> policy = iam->GetPolicy(ctx.caller.account, *arn);
    if (!policy.ok()) return policy.status();
    pugi::xml_node list = result.append_child("Versions");
    for (auto it = policy->versions.rbegin(); it != policy->versions.rend(); ++it)  // newest first, as AWS
      WritePolicyVersion(list, *it, it->id == policy->default_version, /*with_document=*/false, "member");
    WritePaging(result, false, "");
    return Status::Ok();
  }, true);
  add("DeletePolicyVersion", [iam](const RequestContext& ctx, const QueryParams& p, pugi::xml_node) -> Status {
    std::string arn, id;
    LATHE_RETURN_IF_ERROR(Two(p, "VersionId", &arn, &id));
    return iam->DeletePolicyVersion(ctx.caller.account, arn, id);
  }, false);
  add("SetDefaultPolicyVersion", [iam](const RequestContext& ctx, const QueryParams& p, pugi::xml_node) -> Status {
    std::string arn, id;
    LATHE_RETURN_IF_ERROR(Two(p, "VersionId", &arn, &id));
    return iam->SetDefaultPolicyVersion(ctx.caller.account, arn, id);
  }, false);
}

}  // namespace lathe::iam
