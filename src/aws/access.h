// What IAM must allow for a request, declared by each service per operation (its
// services/<name>/authz.cc, after AWS's Service Authorization Reference), and the hook through
// which the server decides and records it. The gateway asks the service for its AccessRequest
// once the signature checks out, asks the installed AccessControl whether the caller may, and
// answers a refusal as AccessDenied (AccessDeniedException for the JSON protocols), 403, in the
// service's own error shape. The deciding lives above this layer (services/iam): a hook crosses
// upward.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.h"

namespace lathe::aws {

struct RequestContext;
class QueryParams;

// Condition keys a request supplies (lower-cased name -> values): s3:prefix, aws:RequestTag/k,
// aws:TagKeys, iam:PassedToService, ...
using AccessContext = std::map<std::string, std::vector<std::string>, std::less<>>;

// One question for IAM: may the caller do `action` on every one of `resources`?
struct AccessCheck {
  std::string action;                  // "s3:GetObject"
  std::vector<std::string> resources;  // ARNs; {"*"} when the operation names none
  AccessContext context;
};

struct AccessRequest {
  std::string operation;               // the model's operation name ("HeadObject"; "" unroutable)
  std::string action;                  // the operation's own action, for the audit trail
  std::vector<std::string> resources;  // the resources it names, for the audit trail
  std::vector<AccessCheck> checks;     // every one must be allowed; empty: nothing to allow
  // Non-empty: only the account's administrator may, whatever IAM policies say, and this says
  // why (e.g. the code would run with the administrator's key); an IAM user is refused with it.
  std::string administrator_only;
};

// `action` on `resources` (["*"] when empty), also the audit trail's action and resources.
AccessRequest Require(std::string action, std::vector<std::string> resources = {}, AccessContext context = {});

// iam:PassRole on `role_arn` with iam:PassedToService (e.g. "bedrock.amazonaws.com"): what
// creating a resource that acts with a role requires of the caller.
AccessCheck PassRole(const std::string& role_arn, std::string_view passed_to_service);
// aws:RequestTag/<key> for each tag and aws:TagKeys: what creating or tagging with tags supplies.
void AddRequestTags(const std::vector<std::pair<std::string, std::string>>& tags, AccessContext* context);

// What a protocol base knows of a routed request, for the service's rules.
struct OperationView {
  const RequestContext* context = nullptr;
  const http::Request* request = nullptr;
  std::string_view service;    // the IAM action prefix: the signing name ("s3", "bedrock", ...)
  std::string_view operation;  // the model's operation name ("GetObject")
  const std::map<std::string, std::string>* labels = nullptr;  // rest protocols: path labels
  const std::map<std::string, std::string>* query = nullptr;   // rest protocols: decoded query
  const QueryParams* params = nullptr;                          // query protocol
  std::string_view body;  // as read ("" for S3's streamed uploads)

  // A path label, query parameter (rest) or form member (query protocol); "" when absent.
  std::string Label(std::string_view name) const;
  std::string Query(std::string_view name) const;
  std::string Param(std::string_view name) const;
  // The string member `name` of the JSON body (JSON protocols); "" when absent or unreadable.
  std::string BodyMember(std::string_view name) const;
  // "<service>:<operation>" on "*": what an operation without a rule of its own requires.
  AccessRequest Default() const;
};
using AccessRules = std::function<AccessRequest(const OperationView&)>;

// The server's decider and recorder (server/access_control.h installs IAM's and the audit log).
class AccessControl {
 public:
  virtual ~AccessControl() = default;
  // nullopt when the caller may; otherwise the refusal's message, as AWS words it ("User: arn:...
  // is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::b/k ...").
  virtual std::optional<std::string> Authorize(const RequestContext& context, const http::Request& request,
                                               const AccessRequest& access) = 0;
  // Every request answered once a service was chosen, with its outcome: the audit trail.
  // `error_code` is "" on success.
  virtual void Record(const RequestContext& context, const http::Request& request, const AccessRequest& access,
                      int http_status, std::string_view error_code) = 0;
};

}  // namespace lathe::aws
