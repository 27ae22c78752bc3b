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

// Whether `rule` holds for `input`. A Variable that names nothing is false for comparisons (and
// IsPresent), as AWS evaluates them, except where AWS fails the state: a …Path operand that
// names nothing fails with States.Runtime. Timestamps are RFC 3339 as AWS accepts them.
Result<bool> Evaluate(const ChoiceRule& rule, const nlohmann::json& input, const nlohmann::json& context);

// StringMatches: `*` matches any run of characters, `\*` a literal star, `\\` a backslash. Linear
// time (no backtracking blow-up on hostile patterns).
bool StringMatches(std::string_view pattern, std::string_view text);

}  // namespace lathe::asl
