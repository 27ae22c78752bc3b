// Choice rules as Step Functions evaluates them. A comparison whose Variable (or …Path operand)
// names nothing fails the state with States.Runtime, AWS's cause word for word; a value of the
// wrong type for the comparator is simply false ("no match"), as on AWS.
#include "asl/choice.h"

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "asl/errors.h"
#include "asl/timestamp.h"

namespace lathe::asl {
namespace {

using nlohmann::json;

Status InvalidPath(const JsonPath& path) {
  return Fail(kStatesRuntime,
              "Invalid path '" + path.text() + "': The choice state's condition path references an invalid value.");
}

// The node a path names in the input (or, for "$$…", the context object); NotFound-like failure
// as States.Runtime with the Choice state's cause.
Result<json> Resolve(const JsonPath& path, const json& input, const json& context) {
  const json& root = path.is_context() ? context : input;
  if (!path.Exists(root)) return InvalidPath(path);
  auto value = path.Select(root);
  if (!value.ok()) return InvalidPath(path);
  return std::move(value).value();
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// -1, 0, 1; or nullopt when the two cannot be compared by this family of comparators.
std::optional<int> CompareStrings(const json& a, const json& b) {
  if (!a.is_string() || !b.is_string()) return std::nullopt;
  int c = a.get_ref<const std::string&>().compare(b.get_ref<const std::string&>());
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

std::optional<int> CompareNumbers(const json& a, const json& b) {
  if (!a.is_number() || !b.is_number()) return std::nullopt;
  // Exact for two integers (a double loses precision past 2^53); otherwise as doubles.
  if (a.is_number_integer() && b.is_number_integer()) {
    if (a.is_number_unsigned() || b.is_number_unsigned()) {
      bool a_neg = a.is_number_integer() && !a.is_number_unsigned() && a.get<int64_t>() < 0;
      bool b_neg = b.is_number_integer() && !b.is_number_unsigned() && b.get<int64_t>() < 0;
      if (a_neg != b_neg) return a_neg ? -1 : 1;
      if (a_neg) {
        int64_t x = a.get<int64_t>(), y = b.get<int64_t>();
        return x < y ? -1 : (x > y ? 1 : 0);
      }
      uint64_t x = a.get<uint64_t>(), y = b.get<uint64_t>();
      return x < y ? -1 : (x > y ? 1 : 0);
    }
    int64_t x = a.get<int64_t>(), y = b.get<int64_t>();
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  double x = a.get<double>(), y = b.get<double>();
  if (std::isnan(x) || std::isnan(y)) return std::nullopt;
  return x < y ? -1 : (x > y ? 1 : 0);
}

std::optional<int> CompareTimestamps(const json& a, const json& b) {
  if (!a.is_string() || !b.is_string()) return std::nullopt;
  auto x = ParseTimestamp(a.get_ref<const std::string&>());
  auto y = ParseTimestamp(b.get_ref<const std::string&>());
  if (!x || !y) return std::nullopt;
  return *x < *y ? -1 : (*y < *x ? 1 : 0);
}

bool Holds(std::string_view relation, std::optional<int> c) {
  if (!c) return false;
  if (relation == "Equals") return *c == 0;
  if (relation == "LessThan") return *c < 0;
  if (relation == "GreaterThan") return *c > 0;
  if (relation == "LessThanEquals") return *c <= 0;
  if (relation == "GreaterThanEquals") return *c >= 0;
  return false;
}

Result<bool> EvaluateAt(const ChoiceRule& rule, const json& input, const json& context, size_t depth);

Result<bool> EvaluateComparison(const ChoiceRule& rule, const json& input, const json& context) {
  std::string_view op = rule.op;
  if (op == "IsPresent") {
    const json& root = rule.variable.is_context() ? context : input;
    bool present = rule.variable.Exists(root);
    return present == (rule.operand.is_boolean() && rule.operand.get<bool>());
  }
  auto value = Resolve(rule.variable, input, context);
  if (!value.ok()) return value.status();
  const json& v = *value;

  auto type_test = [&](bool is) -> bool { return is == (rule.operand.is_boolean() && rule.operand.get<bool>()); };
  if (op == "IsNull") return type_test(v.is_null());
  if (op == "IsNumeric") return type_test(v.is_number());
  if (op == "IsString") return type_test(v.is_string());
  if (op == "IsBoolean") return type_test(v.is_boolean());
  if (op == "IsTimestamp") return type_test(v.is_string() && ParseTimestamp(v.get_ref<const std::string&>()));

  if (op == "StringMatches") {
    if (!v.is_string() || !rule.operand.is_string()) return false;
    return StringMatches(rule.operand.get_ref<const std::string&>(), v.get_ref<const std::string&>());
  }

  bool path_form = EndsWith(op, "Path");
  if (path_form) op.remove_suffix(4);
  json other;
  if (path_form) {
    auto resolved = Resolve(rule.operand_path, input, context);
    if (!resolved.ok()) return resolved.status();
    other = std::move(resolved).value();
  }
  const json& rhs = path_form ? other : rule.operand;

  if (op == "BooleanEquals") return v.is_boolean() && rhs.is_boolean() && v.get<bool>() == rhs.get<bool>();
  for (std::string_view family : {"String", "Numeric", "Timestamp"}) {
    if (op.substr(0, family.size()) != family) continue;
    std::string_view relation = op.substr(family.size());
    if (family == "String") return Holds(relation, CompareStrings(v, rhs));
    if (family == "Numeric") return Holds(relation, CompareNumbers(v, rhs));
    return Holds(relation, CompareTimestamps(v, rhs));
  }
  return Fail(kStatesRuntime, "Unknown choice rule comparator '" + rule.op + "'");
}

Result<bool> EvaluateAt(const ChoiceRule& rule, const json& input, const json& context, size_t depth) {
  if (depth > kMaxExpressionDepth) return Fail(kStatesRuntime, "Choice rule nested too deeply");
  if (rule.op == "And" || rule.op == "Or") {
    bool is_and = rule.op == "And";
    // Short-circuits as AWS does, so an IsPresent guard protects the comparisons after it.
    for (const ChoiceRule& child : rule.children) {
      auto r = EvaluateAt(child, input, context, depth + 1);
      if (!r.ok()) return r;
      if (*r != is_and) return !is_and;
    }
    return is_and;
  }
  if (rule.op == "Not") {
    if (rule.children.size() != 1) return Fail(kStatesRuntime, "Not takes exactly one rule");
    auto r = EvaluateAt(rule.children[0], input, context, depth + 1);
    if (!r.ok()) return r;
    return !*r;
  }
  return EvaluateComparison(rule, input, context);
}

// Pattern → literal segments between unescaped stars.
struct Glob {
  std::vector<std::string> segments;
};

Glob Compile(std::string_view pattern) {
  Glob g;
  std::string current;
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      current += pattern[++i];  // `\*` a literal star, `\\` a backslash
    } else if (c == '*') {
      g.segments.push_back(std::move(current));
      current.clear();
    } else {
      current += c;
    }
  }
  g.segments.push_back(std::move(current));
  return g;
}

// Knuth-Morris-Pratt: the first occurrence of `needle` in `hay` at or after `from`, in
// O(|hay| + |needle|) whatever the input (std::string_view::find may be quadratic).
size_t KmpFind(std::string_view hay, std::string_view needle, size_t from) {
  if (needle.empty()) return from <= hay.size() ? from : std::string_view::npos;
  std::vector<size_t> fail(needle.size(), 0);
  for (size_t i = 1, k = 0; i < needle.size(); ++i) {
    while (k > 0 && needle[i] != needle[k]) k = fail[k - 1];
    if (needle[i] == needle[k]) ++k;
    fail[i] = k;
  }
  for (size_t i = from, k = 0; i < hay.size(); ++i) {
    while (k > 0 && hay[i] != needle[k]) k = fail[k - 1];
    if (hay[i] == needle[k]) ++k;
    if (k == needle.size()) return i + 1 - needle.size();
  }
  return std::string_view::npos;
}

}  // namespace

Result<bool> Evaluate(const ChoiceRule& rule, const nlohmann::json& input, const nlohmann::json& context) {
  return EvaluateAt(rule, input, context, 0);
}

bool StringMatches(std::string_view pattern, std::string_view text) {
  Glob g = Compile(pattern);
  if (g.segments.size() == 1) return g.segments[0] == text;  // no star: plain equality
  // First segment anchors at the start, last at the end; the ones between are matched
  // leftmost-first, which for `*`-only globs is exact and needs no backtracking.
  const std::string& first = g.segments.front();
  const std::string& last = g.segments.back();
  if (text.size() < first.size() + last.size()) return false;
  if (text.substr(0, first.size()) != first) return false;
  if (text.substr(text.size() - last.size()) != last) return false;
  size_t pos = first.size();
  size_t end = text.size() - last.size();
  std::string_view middle = text.substr(0, end);
  for (size_t i = 1; i + 1 < g.segments.size(); ++i) {
    size_t at = KmpFind(middle, g.segments[i], pos);
    if (at == std::string_view::npos) return false;
    pos = at + g.segments[i].size();
  }
  return pos <= end;
}

}  // namespace lathe::asl
