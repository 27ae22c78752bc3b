// IAM's side of enforcement: whether the caller behind a request may do what the operation
// requires (aws/access.h). The account's administrator — a key from the server's credentials
// file, or a Bedrock API key acting as one — may do everything; an IAM user's key may do what its
// policies allow (principal.cc, policy_evaluator.h), with the request's global condition keys:
// aws:SourceIp, aws:CurrentTime, aws:EpochTime, aws:username, aws:userid, aws:PrincipalArn,
// aws:PrincipalAccount, aws:PrincipalType, aws:PrincipalTag/<key>, aws:RequestedRegion, plus the
// operation's own (s3:prefix, aws:RequestTag/<key>, aws:TagKeys, iam:PassedToService, ...).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "aws/access.h"
#include "aws/service.h"
#include "services/iam/backend.h"

namespace lathe::iam {

// Whether `caller` is an IAM user (and so restricted by policies) rather than the administrator.
bool IsIamUser(const aws::Caller& caller);

// The global condition keys of a request by `principal` from `source_ip` at `now_ms`.
ConditionContext GlobalContext(const Principal& principal, const aws::RequestContext& context,
                               const std::string& source_ip, int64_t now_ms);

struct AccessDecision {
  bool allowed = true;
  std::string message;  // AWS's refusal text when not allowed
  Evaluation evaluation;  // of the check that decided
};

// The tags of the resource an ARN names (SNS topics, Lambda functions, rules, state machines keep
// theirs by ARN): aws:ResourceTag/<key>. Empty for an untagged or unknown resource.
using ResourceTagLookup = std::function<std::map<std::string, std::string>(const std::string& arn)>;

// Evaluates every check of `access` for every resource; the first refusal decides. With `tags`,
// each resource's tags are its aws:ResourceTag/<key> values.
AccessDecision Decide(const Principal& principal, const ConditionContext& global, const aws::AccessRequest& access,
                      const ResourceTagLookup& tags = {});

class Enforcer {
 public:
  explicit Enforcer(IamBackend* iam, ResourceTagLookup tags = {}) : iam_(iam), tags_(std::move(tags)) {}
  // nullopt when allowed; AWS's refusal message otherwise. A user whose policies cannot be read
  // is refused (closed); why goes to the server's log, not to the caller.
  std::optional<std::string> Authorize(const aws::RequestContext& context, const std::string& source_ip,
                                       const aws::AccessRequest& access);

 private:
  IamBackend* iam_;
  ResourceTagLookup tags_;
};

}  // namespace lathe::iam
