#include "services/iam/enforcement.h"

#include <spdlog/spdlog.h>

#include "core/arn.h"
#include "services/iam/wildcard.h"

namespace lathe::iam {
namespace {

// "2026-12-03T05:00:00Z": aws:CurrentTime as AWS writes it (no fraction).
std::string CurrentTime(int64_t now_ms) {
  std::string t = Iso8601(now_ms - now_ms % 1000);
  return t.substr(0, 19) + "Z";
}

std::string Refusal(const Principal& principal, const std::string& action, const std::string& resource,
                    const Evaluation& e) {
  std::string m = "User: " + principal.arn + " is not authorized to perform: " + action + " on resource: " + resource;
  if (e.decision == Decision::kExplicitDeny)
    return m + " with an explicit deny in an identity-based policy (" + e.deciding->Describe() + ")";
  return m + " because no identity-based policy allows the " + action + " action";
}

bool TooLongToMatch(const std::string& resource, const ConditionContext& context) {
  if (resource.size() > kMaxMatchLength) return true;
  for (const auto& [key, values] : context)
    for (const std::string& v : values)
      if (v.size() > kMaxMatchLength) return true;
  return false;
}

}  // namespace

bool IsIamUser(const aws::Caller& caller) {
  return caller.arn.compare(0, 13, "arn:aws:iam::") == 0 && caller.arn.find(":user/") != std::string::npos;
}

ConditionContext GlobalContext(const Principal& principal, const aws::RequestContext& context,
                               const std::string& source_ip, int64_t now_ms) {
  ConditionContext c;
  c["aws:sourceip"] = {source_ip};
  c["aws:currenttime"] = {CurrentTime(now_ms)};
  c["aws:epochtime"] = {std::to_string(now_ms / 1000)};
  c["aws:username"] = {principal.user_name};
  c["aws:userid"] = {principal.user_id};
  c["aws:principalarn"] = {principal.arn};
  c["aws:principalaccount"] = {principal.account};
  c["aws:principaltype"] = {"User"};
  if (!context.region.empty()) c["aws:requestedregion"] = {context.region};
  for (const Tag& t : principal.tags) c["aws:principaltag/" + ConditionKey(t.key)] = {t.value};
  if (source_ip.empty()) c.erase("aws:sourceip");
  return c;
}

AccessDecision Decide(const Principal& principal, const ConditionContext& global, const aws::AccessRequest& access,
                      const ResourceTagLookup& tags) {
  AccessDecision decision;
  for (const aws::AccessCheck& check : access.checks) {
    ConditionContext context = global;
    for (const auto& [key, values] : check.context) context[ConditionKey(key)] = values;
    const std::vector<std::string> everything = {"*"};
    for (const std::string& resource : check.resources.empty() ? everything : check.resources) {
      // Longer than the matcher compares, a value matches no pattern: a Deny would miss it while
      // an Allow of "*" still granted. No AWS ARN or request value is that long: refused.
      if (TooLongToMatch(resource, context)) {
        decision.allowed = false;
        decision.message = "User: " + principal.arn + " is not authorized to perform: " + check.action +
                           " because a resource or condition value is longer than " +
                           std::to_string(kMaxMatchLength) + " characters";
        decision.evaluation = {};
        return decision;
      }
      AccessQuery query{check.action, resource, context};
      if (tags && resource != "*")
        for (const auto& [key, value] : tags(resource)) query.context["aws:resourcetag/" + ConditionKey(key)] = {value};
      Evaluation e = Evaluate(principal.policies, query);
      if (e.decision != Decision::kAllowed) {
        decision.allowed = false;
        decision.message = Refusal(principal, check.action, resource, e);
        decision.evaluation = std::move(e);
        return decision;
      }
      decision.evaluation = std::move(e);
    }
  }
  return decision;
}

std::optional<std::string> Enforcer::Authorize(const aws::RequestContext& context, const std::string& source_ip,
                                               const aws::AccessRequest& access) {
  if (!IsIamUser(context.caller)) return std::nullopt;  // the administrator
  if (!access.administrator_only.empty())
    return "User: " + context.caller.arn + " is not authorized to perform: " + access.action +
           " because only the account's administrator may: " + access.administrator_only;
  if (access.checks.empty()) return std::nullopt;       // sts:GetCallerIdentity needs no permission
  Result<Principal> principal = iam_->PrincipalFor(context.caller.account, context.caller.arn);
  if (!principal.ok()) {
    // Why stays in the server's log: the store's words are not the caller's business.
    spdlog::warn("refused {} to {}: its policies cannot be read: {}", access.action, context.caller.arn,
                 principal.status().message());
    return "User: " + context.caller.arn + " is not authorized to perform: " + access.action +
           " because its policies cannot be read";
  }
  AccessDecision d = Decide(*principal, GlobalContext(*principal, context, source_ip, NowMillis()), access, tags_);
  if (d.allowed) return std::nullopt;
  return d.message;
}

}  // namespace lathe::iam
