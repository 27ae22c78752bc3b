// IAM users, their inline and attached policies, and their access keys over the query protocol.
#include "aws/xml.h"
#include "core/arn.h"
#include "services/iam/errors.h"
#include "services/iam/operations_internal.h"
#include "services/iam/shapes.h"

namespace lathe::iam {

using aws::AppendTextElement;
using aws::QueryParams;
using aws::RequestContext;

Result<std::string> Member(const QueryParams& params, std::string_view name) { return params.Required(name); }

std::string UserNameFromArn(std::string_view arn) {
  size_t user = arn.find(":user/");
  if (arn.substr(0, 13) != "arn:aws:iam::" || user == std::string_view::npos) return "";
  return std::string(arn.substr(arn.rfind('/') + 1));
}

Result<std::string> UserNameOrCaller(const QueryParams& params, const RequestContext& ctx) {
  if (const std::string* name = params.Get("UserName")) return *name;
  std::string caller = UserNameFromArn(ctx.caller.arn);
  if (caller.empty())
    return InvalidInput("UserName is required: the request was signed with the account's administrator key "
                        "(lathe's credentials file), which is not an IAM user");
  return caller;
}

namespace {

void WriteKeyMetadata(pugi::xml_node parent, const AccessKeyInfo& k) {
  pugi::xml_node m = parent.append_child("member");
  AppendTextElement(m, "UserName", k.user_name);
  AppendTextElement(m, "AccessKeyId", k.id);
  AppendTextElement(m, "Status", k.status == KeyStatus::kActive ? "Active" : "Inactive");
  AppendTextElement(m, "CreateDate", Iso8601(k.created_ms));
}

Result<KeyStatus> StatusFromParams(const QueryParams& params) {
  Result<std::string> status = params.Required("Status");
  if (!status.ok()) return status.status();
  if (*status == "Active") return KeyStatus::kActive;
  if (*status == "Inactive") return KeyStatus::kInactive;
  if (*status == "Expired") return InvalidInput("Status Expired cannot be set: keys expire only by AWS's own rules");
  return ValidationError("1 validation error detected: Value '" + status->substr(0, 64) +
                         "' at 'status' failed to satisfy constraint: Member must satisfy enum value set: "
                         "[Active, Inactive, Expired]");
}

}  // namespace

void AddUserOperations(IamBackend* iam, const AddOperation& add) {
  add("CreateUser", [iam](const RequestContext& ctx, const QueryParams& p, pugi::xml_node result) -> Status {
    CreateUserInput in;
    Result<std::string> name = Member(p, "UserName");
    if (!name.ok()) return name.status();
    in.name = *name;
    if (const std::string* path = p.Get("Path")) in.path = *path;
    if (p.Has("PermissionsBoundary"))
      return InvalidInput("PermissionsBoundary is not supported by lathe (docs/compatibility.md)");
    Result<std::vector<Tag>> tags = TagsFromParams(p);
    if (!tags.ok()) return tags.status();
    in.tags = std::move(*tags);
    Result<User> user = iam->CreateUser(ctx.caller.account, in);
    if (!user.ok()) return user.status();
    WriteUser(result, *user);
    return Status::Ok();
  }, true);
  add("GetUser", [iam](const RequestContext& ctx, const QueryParams& p, pugi::xml_node result) -> Status {
    if (!p.Has("UserName") && UserNameFromArn(ctx.caller.arn).empty()) {
      // The administrator key stands for the account's root user, as AWS answers for root.
      pugi::xml_node u = result.append_child("User");
      AppendTextElement(u, "UserId", ctx.caller.account);
      AppendTextElement(u, "Arn", ctx.caller.arn);
      AppendTextElement(u, "CreateDate", Iso8601(0));
      return Status::Ok();
    }
    Result<std::string> name = UserNameOrCaller(p, ctx);
    if (!name.ok()) return name.status();
    Result<User> user = iam->GetUser(ctx.caller.account, *name);
    if (!user.ok()) return user.status();
    WriteUser(result, *user);
    return Status::Ok();
  }, true);
  add("ListUsers", [iam](const RequestContext& ctx, const QueryParams& p, pugi::xml_node result) -> Status {
    Result<ListOptions> options = ListOptionsFromParams(p);
    if (!options.ok()) return options.status();
    Result<Page<User>> page = iam->ListUsers(ctx.caller.account, *options);
    if (!page.ok()) return page.status();
    pugi::xml_node users = result.append_child("Users");
    for (const User& u : page->items) WriteUser(users, u, "member", /*details=*/false);
    WritePaging(result, page->truncated(), page->marker);
    return Status::Ok();
  }, true);
  add("DeleteUser", [iam](const RequestContext& ctx, const QueryParams& p, pugi::xml_node) -> Status {
    Result<std::string> name = Member(p, "UserName");
    if (!name.ok()) return name.status();
    return iam->DeleteUser(ctx.caller.account, *name);
  }, false);

  AddHolderPolicyOperations(iam, add,
                            {"User", &IamBackend::PutUserPolicy, &IamBackend::GetUserPolicy,
                             &IamBackend::ListUserPolicies, &IamBackend::DeleteUserPolicy, &IamBackend::AttachUserPolicy,
                             &IamBackend::DetachUserPolicy, &IamBackend::ListAttachedUserPolicies});

  add("CreateAccessKey", [iam](const RequestContext& ctx, const QueryParams& p, pugi::xml_node result) -> Status {
    Result<std::string> user = UserNameOrCaller(p, ctx);
    if (!user.ok()) return user.status();
    Result<NewAccessKey> key = iam->CreateAccessKey(ctx.caller.account, *user);
    if (!key.ok()) return key.status();
    pugi::xml_node k = result.append_child("AccessKey");
    AppendTextElement(k, "UserName", key->info.user_name);
    AppendTextElement(k, "AccessKeyId", key->info.id);
    AppendTextElement(k, "Status", "Active");
    AppendTextElement(k, "SecretAccessKey", key->secret);
    AppendTextElement(k, "CreateDate", Iso8601(key->info.created_ms));
    return Status::Ok();
  }, true);
  add("ListAccessKeys", [iam](const RequestContext& ctx, const QueryParams& p, pugi::xml_node result) -> Status {
    Result<std::string> user = UserNameOrCaller(p, ctx);
    if (!user.ok()) return user.status();
    Result<ListOptions> options = ListOptionsFromParams(p);
    if (!options.ok()) return options.status();
    Result<Page<AccessKeyInfo>> page = iam->ListAccessKeys(ctx.caller.account, *user, *options);
    if (!page.ok()) return page.status();
    pugi::xml_node list = result.append_child("AccessKeyMetadata");
    for (const AccessKeyInfo& k : page->items) WriteKeyMetadata(list, k);
    WritePaging(result, page->truncated(), page->marker);
    return Status::Ok();
  }, true);
  add("UpdateAccessKey", [iam](const RequestContext& ctx, const QueryParams& p, pugi::xml_node) -> Status {
    Result<std::string> user = UserNameOrCaller(p, ctx);
    if (!user.ok()) return user.status();
    Result<std::string> id = Member(p, "AccessKeyId");
    if (!id.ok()) return id.status();
    Result<KeyStatus> status = StatusFromParams(p);
    if (!status.ok()) return status.status();
    return iam->UpdateAccessKey(ctx.caller.account, *user, *id, *status);
  }, false);
  add("DeleteAccessKey", [iam](const RequestContext& ctx, const QueryParams& p, pugi::xml_node) -> Status {
    Result<std::string> user = UserNameOrCaller(p, ctx);
    if (!user.ok()) return user.status();
    Result<std::string> id = Member(p, "AccessKeyId");
    if (!id.ok()) return id.status();
    return iam->DeleteAccessKey(ctx.caller.account, *user, *id);
  }, false);
}

}  // namespace lathe::iam
