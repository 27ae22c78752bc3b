// The inline and attached policy operations that users and groups share over the query
// protocol — Put/Get/List/Delete<Kind>Policy, Attach/Detach<Kind>Policy and
// ListAttached<Kind>Policies — written once over the backend's methods for each kind.
#include "aws/xml.h"
#include "services/iam/operations_internal.h"
#include "services/iam/shapes.h"

namespace lathe::iam {

using aws::AppendTextElement;
using aws::QueryParams;
using aws::RequestContext;

void AddHolderPolicyOperations(IamBackend* iam, const AddOperation& add, const HolderPolicyMethods& m) {
  const std::string kind = m.kind, holder = kind + "Name";
  // Each handler reads its members into `v` (the holder's name first) and calls the backend.
  auto members = [holder](std::initializer_list<const char*> more) {
    return [holder, rest = std::vector<const char*>(more)](const QueryParams& p, std::vector<std::string>* v) {
      Result<std::string> h = Member(p, holder);
      if (!h.ok()) return h.status();
      v->push_back(std::move(*h));
      for (const char* name : rest) {
        Result<std::string> x = Member(p, name);
        if (!x.ok()) return x.status();
        v->push_back(std::move(*x));
      }
      return Status::Ok();
    };
  };
  add("Put" + kind + "Policy", [iam, m, read = members({"PolicyName", "PolicyDocument"})](
                                   const RequestContext& ctx, const QueryParams& p, pugi::xml_node) -> Status {
    std::vector<std::string> v;
    LATHE_RETURN_IF_ERROR(read(p, &v));
    return (iam->*m.put)(ctx.caller.account, v[0], v[1], v[2]);
  }, false);
  add("Get" + kind + "Policy", [iam, m, holder, read = members({"PolicyName"})](
                                   const RequestContext& ctx, const QueryParams& p, pugi::xml_node result) -> Status {
    std::vector<std::string> v;
    LATHE_RETURN_IF_ERROR(read(p, &v));
    Result<std::string> doc = (iam->*m.get)(ctx.caller.account, v[0], v[1]);
    if (!doc.ok()) return doc.status();
    AppendTextElement(result, holder.c_str(), v[0]);
    AppendTextElement(result, "PolicyName", v[1]);
    AppendTextElement(result, "PolicyDocument", UrlEncodeDocument(*doc));
    return Status::Ok();
  }, true);
  add("List" + kind + "Policies", [iam, m, read = members({})](const RequestContext& ctx, const QueryParams& p,
                                                               pugi::xml_node result) -> Status {
    std::vector<std::string> v;
    LATHE_RETURN_IF_ERROR(read(p, &v));
    Result<ListOptions> options = ListOptionsFromParams(p);
    if (!options.ok()) return options.status();
    Result<Page<std::string>> page = (iam->*m.list)(ctx.caller.account, v[0], *options);
    if (!page.ok()) return page.status();
    pugi::xml_node names = result.append_child("PolicyNames");
    for (const std::string& n : page->items) AppendTextElement(names, "member", n);
    WritePaging(result, page->truncated(), page->marker);
    return Status::Ok();
  }, true);
  add("Delete" + kind + "Policy", [iam, m, read = members({"PolicyName"})](const RequestContext& ctx,
                                                                           const QueryParams& p, pugi::xml_node) -> Status {
    std::vector<std::string> v;
    LATHE_RETURN_IF_ERROR(read(p, &v));
    return (iam->*m.del)(ctx.caller.account, v[0], v[1]);
  }, false);
  for (const auto& attachment : {std::pair{"Attach", m.attach}, std::pair{"Detach", m.detach}}) {
    const HolderPolicyMethods::Attachment method = attachment.second;
    add(attachment.first + kind + "Policy", [iam, method, read = members({"PolicyArn"})](
                                                const RequestContext& ctx, const QueryParams& p, pugi::xml_node) -> Status {
      std::vector<std::string> v;
      LATHE_RETURN_IF_ERROR(read(p, &v));
      return (iam->*method)(ctx.caller.account, v[0], v[1]);
    }, false);
  }
  add("ListAttached" + kind + "Policies", [iam, m, read = members({})](const RequestContext& ctx, const QueryParams& p,
                                                                       pugi::xml_node result) -> Status {
    std::vector<std::string> v;
    LATHE_RETURN_IF_ERROR(read(p, &v));
    Result<ListOptions> options = ListOptionsFromParams(p);
    if (!options.ok()) return options.status();
    Result<Page<AttachedPolicy>> page = (iam->*m.list_attached)(ctx.caller.account, v[0], *options);
    if (!page.ok()) return page.status();
    WriteAttachedPolicies(result, page->items);
    WritePaging(result, page->truncated(), page->marker);
    return Status::Ok();
  }, true);
}

}  // namespace lathe::iam
