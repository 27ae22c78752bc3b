// IAM groups, their members and their inline and attached policies over the query protocol.
#include "aws/xml.h"
#include "services/iam/operations_internal.h"
#include "services/iam/shapes.h"

namespace lathe::iam {

using aws::AppendTextElement;
using aws::QueryParams;
using aws::RequestContext;

namespace {

// GroupName and a second required member.
Status Two(const QueryParams& p, const char* second, std::string* group, std::string* other) {
  Result<std::string> g = Member(p, "GroupName");
  if (!g.ok()) return g.status();
  Result<std::string> o = Member(p, second);
  if (!o.ok()) return o.status();
  *group = *g;
  *other = *o;
  return Status::Ok();
}

}  // namespace

void AddGroupOperations(IamBackend* iam, const AddOperation& add) {
  add("CreateGroup", [iam](const RequestContext& ctx, const QueryParams& p, pugi::xml_node result) -> Status {
    Result<std::string> name = Member(p, "GroupName");
    if (!name.ok()) return name.status();
    const std::string* path = p.Get("Path");
    Result<Group> group = iam->CreateGroup(ctx.caller.account, *name, path ? *path : "/");
    if (!group.ok()) return group.status();
    WriteGroup(result, *group);
    return Status::Ok();
  }, true);
  add("GetGroup", [iam](const RequestContext& ctx, const QueryParams& p, pugi::xml_node result) -> Status {
    Result<std::string> name = Member(p, "GroupName");
    if (!name.ok()) return name.status();
    Result<ListOptions> options = ListOptionsFromParams(p);
    if (!options.ok()) return options.status();
    auto found = iam->GetGroup(ctx.caller.account, *name, *options);
    if (!found.ok()) return found.status();
    WriteGroup(result, found->first);
    pugi::xml_node users = result.append_child("Users");
    for (const User& u : found->second.items) WriteUser(users, u, "member", /*details=*/false);
    WritePaging(result, found->second.truncated(), found->second.marker);
    return Status::Ok();
  }, true);
  auto list = [](pugi::xml_node result, const Page<Group>& page) {
    pugi::xml_node groups = result.append_child("Groups");
    for (const Group& g : page.items) WriteGroup(groups, g, "member");
    WritePaging(result, page.truncated(), page.marker);
  };
  add("ListGroups", [iam, list](const RequestContext& ctx, const QueryParams& p, pugi::xml_node result) -> Status {
    Result<ListOptions> options = ListOptionsFromParams(p);
    if (!options.ok()) return options.status();
    Result<Page<Group>> page = iam->ListGroups(ctx.caller.account, *options);
    if (!page.ok()) return page.status();
    list(result, *page);
    return Status::Ok();
  }, true);
  add("ListGroupsForUser", [iam, list](const RequestContext& ctx, const QueryParams& p, pugi::xml_node result) -> Status {
    Result<std::string> user = Member(p, "UserName");
    if (!user.ok()) return user.status();
    Result<ListOptions> options = ListOptionsFromParams(p);
    if (!options.ok()) return options.status();
    Result<Page<Group>> page = iam->ListGroupsForUser(ctx.caller.account, *user, *options);
    if (!page.ok()) return page.status();
    list(result, *page);
    return Status::Ok();
  }, true);
  add("DeleteGroup", [iam](const RequestContext& ctx, const QueryParams& p, pugi::xml_node) -> Status {
    Result<std::string> name = Member(p, "GroupName");
    if (!name.ok()) return name.status();
    return iam->DeleteGroup(ctx.caller.account, *name);
  }, false);
  add("AddUserToGroup", [iam](const RequestContext& ctx, const QueryParams& p, pugi::xml_node) -> Status {
    std::string group, user;
    LATHE_RETURN_IF_ERROR(Two(p, "UserName", &group, &user));
    return iam->AddUserToGroup(ctx.caller.account, group, user);
  }, false);
  add("RemoveUserFromGroup", [iam](const RequestContext& ctx, const QueryParams& p, pugi::xml_node) -> Status {
    std::string group, user;
    LATHE_RETURN_IF_ERROR(Two(p, "UserName", &group, &user));
    return iam->RemoveUserFromGroup(ctx.caller.account, group, user);
  }, false);
  AddHolderPolicyOperations(iam, add,
                            {"Group", &IamBackend::PutGroupPolicy, &IamBackend::GetGroupPolicy,
                             &IamBackend::ListGroupPolicies, &IamBackend::DeleteGroupPolicy,
                             &IamBackend::AttachGroupPolicy, &IamBackend::DetachGroupPolicy,
                             &IamBackend::ListAttachedGroupPolicies});
}

}  // namespace lathe::iam
