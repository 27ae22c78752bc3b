// AWS's evaluation logic for identity-based policies (IAM User Guide, "Policy evaluation logic"):
// a request is allowed only when some statement allows it and none denies it — an explicit Deny
// beats any Allow, and no Allow at all is an implicit deny. A statement applies when its Action
// (or NotAction) covers the action, its Resource (or NotResource) the resource, and every
// condition holds (condition.h). The answer names the statement that decided, as
// SimulatePrincipalPolicy does.
//
// Policies are parsed once (ParsePolicy) and evaluated many times; evaluation allocates little
// and its cost is bounded by the policies' sizes (each statement: its patterns x the request's
// action and resource, wildcard.h) — the quotas of docs/serve.md's Limits table.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "services/iam/condition.h"

namespace lathe::iam {

struct PolicyStatement {
  std::string sid;    // "" when the statement has none
  size_t index = 0;   // its position in the policy, from 0
  bool allow = false;
  bool not_action = false;
  std::vector<std::string> actions;  // patterns, e.g. "s3:Get*"
  bool not_resource = false;
  std::vector<std::string> resources;  // patterns, e.g. "arn:aws:s3:::bucket/*"
  std::vector<ConditionClause> conditions;
};

struct Policy {
  std::string id;    // what SimulatePrincipalPolicy calls the SourcePolicyId: a name or an ARN
  std::string type;  // its SourcePolicyType: "user", "group", "role", "aws-managed", "user-managed", "none"
  bool variables = false;  // Version 2012-10-17: ${aws:username} and friends are substituted
  std::vector<PolicyStatement> statements;
};

// Parses an identity-based policy document (checked by ValidatePolicyDocument first, so the same
// errors, bounds and depth apply). Unknown condition operators are MalformedPolicyDocument.
Result<Policy> ParsePolicy(std::string_view document, std::string id, std::string type);

// One question: may `action` be done on `resource` ("*" when the operation names none) given
// `context` (condition keys, lower-cased: condition.h)?
struct AccessQuery {
  std::string action;
  std::string resource = "*";
  ConditionContext context;
};

enum class Decision { kAllowed, kExplicitDeny, kImplicitDeny };
// SimulatePrincipalPolicy's EvalDecision: "allowed", "explicitDeny", "implicitDeny".
std::string_view DecisionName(Decision d);

struct StatementRef {
  std::string policy_id, policy_type, sid;
  size_t index = 0;
  bool allow = false;
  // "Sid" when the statement has one, else "statement N" (N from 1) — with the policy's id.
  std::string Describe() const;
};

struct Evaluation {
  Decision decision = Decision::kImplicitDeny;
  std::optional<StatementRef> deciding;  // the first Deny that applied, else the first Allow
  std::vector<StatementRef> matched;     // every statement that applied, in order
  // Condition keys the applicable statements asked about that the context lacks (sorted).
  std::vector<std::string> missing_context_keys;
};

Evaluation Evaluate(const std::vector<Policy>& policies, const AccessQuery& query);

// `text` with each policy variable ${key} replaced by the context's value of that key; nullopt
// when one has no single value or its value holds a wildcard (the pattern then matches nothing).
// ${*}, ${?} and ${$} are not supported (nullopt), nor defaults (${key, 'x'}).
std::optional<std::string> SubstituteVariables(std::string_view text, const ConditionContext& context);

}  // namespace lathe::iam
