// IAM's operation table: Action -> handler. Each handler maps the wire (shapes.h) onto the
// backend and back; no semantics live here.
#include "aws/xml.h"
#include "services/iam/operations_internal.h"
#include "services/iam/service.h"
#include "services/iam/shapes.h"

namespace lathe::iam {
namespace {

using aws::AppendTextElement;
using aws::QueryParams;
using aws::RequestContext;

class IamService : public aws::QueryService {
 public:
  explicit IamService(IamBackend* backend)
      : QueryService("iam", "2010-05-08", std::string(aws::QueryXmlNamespace("iam"))), iam_(backend) {
    Register("CreateRole", [this](auto& c, auto& p, auto r) { return CreateRole(c, p, r); });
    Register("GetRole", [this](auto& c, auto& p, auto r) { return GetRole(c, p, r); });
    Register("ListRoles", [this](auto& c, auto& p, auto r) { return ListRoles(c, p, r); });
    Register("DeleteRole", [this](auto& c, auto& p, auto r) { return DeleteRole(c, p); }, false);
    Register("PutRolePolicy", [this](auto& c, auto& p, auto r) { return PutRolePolicy(c, p); }, false);
    Register("GetRolePolicy", [this](auto& c, auto& p, auto r) { return GetRolePolicy(c, p, r); });
    Register("ListRolePolicies", [this](auto& c, auto& p, auto r) { return ListRolePolicies(c, p, r); });
    Register("DeleteRolePolicy", [this](auto& c, auto& p, auto r) { return DeleteRolePolicy(c, p); }, false);
    Register("AttachRolePolicy", [this](auto& c, auto& p, auto r) { return AttachRolePolicy(c, p); }, false);
    Register("DetachRolePolicy", [this](auto& c, auto& p, auto r) { return DetachRolePolicy(c, p); }, false);
    Register("ListAttachedRolePolicies",
             [this](auto& c, auto& p, auto r) { return ListAttachedRolePolicies(c, p, r); });
    AddOperation add = [this](std::string action, aws::QueryHandler handler, bool has_result) {
      Register(std::move(action), std::move(handler), has_result);
    };
    AddUserOperations(backend, add);
    AddGroupOperations(backend, add);
    AddPolicyOperations(backend, add);
    AddSimulateOperations(backend, add);
    SetAccessRules(IamAccessRules(backend));
  }

 private:
  Status CreateRole(const RequestContext& ctx, const QueryParams& params, pugi::xml_node result) {
    Result<CreateRoleInput> in = CreateRoleFromParams(params);
    if (!in.ok()) return in.status();
    Result<Role> role = iam_->CreateRole(ctx.caller.account, *in);
    if (!role.ok()) return role.status();
    WriteRole(result, *role);
    return Status::Ok();
  }

  Status GetRole(const RequestContext& ctx, const QueryParams& params, pugi::xml_node result) {
    Result<std::string> name = params.Required("RoleName");
    if (!name.ok()) return name.status();
    Result<Role> role = iam_->GetRole(ctx.caller.account, *name);
    if (!role.ok()) return role.status();
    WriteRole(result, *role);
    return Status::Ok();
  }

  Status ListRoles(const RequestContext& ctx, const QueryParams& params, pugi::xml_node result) {
    Result<ListOptions> options = ListOptionsFromParams(params);
    if (!options.ok()) return options.status();
    Result<Page<Role>> page = iam_->ListRoles(ctx.caller.account, *options);
    if (!page.ok()) return page.status();
    pugi::xml_node roles = result.append_child("Roles");
    for (const Role& role : page->items) WriteRole(roles, role, "member", /*details=*/false);
    WritePaging(result, page->truncated(), page->marker);
    return Status::Ok();
  }

  Status DeleteRole(const RequestContext& ctx, const QueryParams& params) {
    Result<std::string> name = params.Required("RoleName");
    if (!name.ok()) return name.status();
    return iam_->DeleteRole(ctx.caller.account, *name);
  }

  // RoleName and PolicyName, both required.
  static Status RoleAndPolicy(const QueryParams& params, const char* policy_member, std::string* role,
                              std::string* policy) {
    Result<std::string> r = params.Required("RoleName");
    if (!r.ok()) return r.status();
    Result<std::string> p = params.Required(policy_member);
    if (!p.ok()) return p.status();
    *role = *r;
    *policy = *p;
    return Status::Ok();
  }

  Status PutRolePolicy(const RequestContext& ctx, const QueryParams& params) {
    std::string role, policy;
    LATHE_RETURN_IF_ERROR(RoleAndPolicy(params, "PolicyName", &role, &policy));
    Result<std::string> document = params.Required("PolicyDocument");
    if (!document.ok()) return document.status();
    return iam_->PutRolePolicy(ctx.caller.account, role, policy, *document);
  }

  Status GetRolePolicy(const RequestContext& ctx, const QueryParams& params, pugi::xml_node result) {
    std::string role, policy;
    LATHE_RETURN_IF_ERROR(RoleAndPolicy(params, "PolicyName", &role, &policy));
    Result<std::string> document = iam_->GetRolePolicy(ctx.caller.account, role, policy);
    if (!document.ok()) return document.status();
    AppendTextElement(result, "RoleName", role);
    AppendTextElement(result, "PolicyName", policy);
    AppendTextElement(result, "PolicyDocument", UrlEncodeDocument(*document));
    return Status::Ok();
  }

  Status ListRolePolicies(const RequestContext& ctx, const QueryParams& params, pugi::xml_node result) {
    Result<std::string> role = params.Required("RoleName");
    if (!role.ok()) return role.status();
    Result<ListOptions> options = ListOptionsFromParams(params);
    if (!options.ok()) return options.status();
    Result<Page<std::string>> page = iam_->ListRolePolicies(ctx.caller.account, *role, *options);
    if (!page.ok()) return page.status();
    pugi::xml_node names = result.append_child("PolicyNames");
    for (const std::string& name : page->items) AppendTextElement(names, "member", name);
    WritePaging(result, page->truncated(), page->marker);
    return Status::Ok();
  }

  Status DeleteRolePolicy(const RequestContext& ctx, const QueryParams& params) {
    std::string role, policy;
    LATHE_RETURN_IF_ERROR(RoleAndPolicy(params, "PolicyName", &role, &policy));
    return iam_->DeleteRolePolicy(ctx.caller.account, role, policy);
  }

  Status AttachRolePolicy(const RequestContext& ctx, const QueryParams& params) {
    std::string role, arn;
    LATHE_RETURN_IF_ERROR(RoleAndPolicy(params, "PolicyArn", &role, &arn));
    return iam_->AttachRolePolicy(ctx.caller.account, role, arn);
  }

  Status DetachRolePolicy(const RequestContext& ctx, const QueryParams& params) {
    std::string role, arn;
    LATHE_RETURN_IF_ERROR(RoleAndPolicy(params, "PolicyArn", &role, &arn));
    return iam_->DetachRolePolicy(ctx.caller.account, role, arn);
  }

  Status ListAttachedRolePolicies(const RequestContext& ctx, const QueryParams& params, pugi::xml_node result) {
    Result<std::string> role = params.Required("RoleName");
    if (!role.ok()) return role.status();
    Result<ListOptions> options = ListOptionsFromParams(params);
    if (!options.ok()) return options.status();
    Result<Page<AttachedPolicy>> page = iam_->ListAttachedRolePolicies(ctx.caller.account, *role, *options);
    if (!page.ok()) return page.status();
    WriteAttachedPolicies(result, page->items);
    WritePaging(result, page->truncated(), page->marker);
    return Status::Ok();
  }

  IamBackend* iam_;
};

}  // namespace

std::unique_ptr<aws::QueryService> NewIamService(IamBackend* backend) { return std::make_unique<IamService>(backend); }

}  // namespace lathe::iam
