// SimulatePrincipalPolicy's question — may this user, group or role do these actions on these
// resources, and which statement decided? — answered by the evaluator that enforcement uses
// (policy_evaluator.h), over the same policies (a user's own, attached and its groups'). Asked by
// IAM's SimulatePrincipalPolicy and by `lathe iam simulate`.
#pragma once

#include <string>
#include <vector>

#include "services/iam/backend.h"
#include "services/iam/policy_evaluator.h"

namespace lathe::iam {

// Bounds of one simulation (docs/serve.md, Limits): actions x resources evaluations at most.
inline constexpr size_t kMaxSimulatedActions = 100;
inline constexpr size_t kMaxSimulatedResources = 100;
inline constexpr size_t kMaxSimulationInputPolicies = 10;
inline constexpr size_t kMaxSimulationContextEntries = 50;

struct SimulationInput {
  std::string account;
  std::string source_arn;                  // a user, group or role ARN of `account`
  std::vector<std::string> extra_policies;  // PolicyInputList: evaluated with the source's
  std::vector<std::string> actions;
  std::vector<std::string> resources;  // empty: "*"
  ConditionContext context;            // keys lower-cased
};

struct SimulationResult {
  std::string action, resource;
  Evaluation evaluation;
};

// The policies that apply to `source_arn`: NoSuchEntity when it names nothing, InvalidInput when
// it is no user, group or role ARN.
Result<std::vector<Policy>> PoliciesOf(IamBackend* iam, const std::string& account, const std::string& source_arn);

// One result per action and resource, in order; InvalidInput past the bounds above, for a
// malformed extra policy (MalformedPolicyDocument) or an action that is not service:name.
Result<std::vector<SimulationResult>> Simulate(IamBackend* iam, const SimulationInput& input);

}  // namespace lathe::iam
