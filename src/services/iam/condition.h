// IAM policy conditions: the operators ("StringLike", "NumericLessThanIfExists",
// "ForAllValues:StringEquals", ...) and their evaluation against a request's context, as the IAM
// User Guide's "Condition operators" page defines them:
//   - a key absent from the context: the condition is false, but true for a negated operator
//     (StringNotEquals, NotIpAddress, ...); ...IfExists is true; Null tests presence itself;
//   - several policy values for one key: any may match (OR), for negated operators none may
//     (the guide: "the effective permission works like a logical AND");
//   - ForAnyValue / ForAllValues: some / every context value of a multivalued key must match
//     (ForAllValues holds for an absent key).
// Context keys are compared case-insensitively (lower-cased here); values by the operator.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lathe::iam {

// The request's context: lower-cased key -> its values (several for a multivalued key).
using ConditionContext = std::map<std::string, std::vector<std::string>, std::less<>>;
// A condition key as ConditionContext holds it: ASCII lower-cased (keys ignore case in IAM).
std::string ConditionKey(std::string_view key);

enum class ConditionFamily { kString, kStringIgnoreCase, kStringLike, kNumeric, kDate, kBool, kBinary, kIp, kArn, kNull };
enum class Comparison { kEquals, kLess, kLessEquals, kGreater, kGreaterEquals };
enum class SetQualifier { kNone, kForAnyValue, kForAllValues };

struct ConditionOperator {
  ConditionFamily family = ConditionFamily::kString;
  Comparison comparison = Comparison::kEquals;  // kEquals for the non-ordered families
  bool negated = false;
  bool if_exists = false;
  SetQualifier set = SetQualifier::kNone;
};

// The operator named `name` (case-sensitive, as IAM's), or nullopt when IAM has none of that name.
std::optional<ConditionOperator> ParseConditionOperator(std::string_view name);

struct ConditionClause {
  ConditionOperator op;
  std::string key;                  // lower-cased
  std::vector<std::string> values;  // the policy's values (JSON booleans and numbers as text)
};

// Whether the clause holds for `context`. `values` are the clause's values after policy variables
// were substituted (an unresolvable one is left out: it matches nothing).
bool ConditionHolds(const ConditionClause& clause, const std::vector<std::string>& values,
                    const ConditionContext& context);

// Milliseconds since the epoch for an IAM date value (ISO 8601 with or without time and fraction,
// or epoch seconds); nullopt when it is neither.
std::optional<int64_t> ParseConditionDate(std::string_view value);

}  // namespace lathe::iam
