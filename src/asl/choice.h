// Choice rules: the comparison operators (String*, Numeric*, Boolean*, Timestamp* and their
// `…Path` forms, StringMatches with `*` wildcards and `\*` escapes, IsNull, IsPresent,
// IsNumeric, IsString, IsBoolean, IsTimestamp) and the And / Or / Not combinators.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "asl/json_path.h"
#include "core/status.h"

namespace lathe::asl {

struct ChoiceRule {
  // "And", "Or", "Not" (children), or a comparator: "StringEquals", "NumericLessThanPath",
  // "IsPresent", ... as the definition spells it.
  std::string op;
  std::vector<ChoiceRule> children;
  JsonPath variable;       // comparisons only
  nlohmann::json operand;  // the literal (or, for a …Path comparator, unused)
  JsonPath operand_path;   // …Path comparators: where the other side is (input or $$ context)
  std::string next;        // top-level rules only
};

// Whether `rule` holds for `input`. As AWS evaluates them: IsPresent is false for a Variable that
// names nothing; every other comparator fails the state with States.Runtime ("Invalid path '$.x':
// The choice state's condition path references an invalid value."), as does a …Path operand that
// names nothing, so rules guard optional fields with And [IsPresent, …] (And/Or short-circuit).
// A value of the wrong type for the comparator is no match. Timestamps are RFC 3339 instants.
Result<bool> Evaluate(const ChoiceRule& rule, const nlohmann::json& input, const nlohmann::json& context);

// StringMatches: `*` matches any run of characters, `\*` a literal star, `\\` a backslash. Linear
// time (no backtracking blow-up on hostile patterns).
bool StringMatches(std::string_view pattern, std::string_view text);

}  // namespace lathe::asl
