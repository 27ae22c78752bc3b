#include "services/sns/filter_policy.h"

#include <cmath>

#include "core/json_nesting.h"
#include "services/sns/errors.h"

namespace lathe::sns {
namespace {

using nlohmann::json;

Status Bad(const std::string& why) { return InvalidParameter("Invalid parameter: FilterPolicy: " + why); }

bool IsNumericOp(const std::string& op) { return op == "=" || op == "<" || op == "<=" || op == ">" || op == ">="; }

Status CheckCondition(const json& c, const std::string& key) {
  if (c.is_string() || c.is_number() || c.is_null()) return Status::Ok();
  if (!c.is_object()) return Bad("Match value must be String, number, true, false, or null");
  if (c.size() != 1) return Bad("Only one key allowed in match expression of \"" + key + "\"");
  const std::string op = c.begin().key();
  const json& v = c.begin().value();
  if (op == "prefix" || op == "suffix" || op == "equals-ignore-case") {
    if (!v.is_string()) return Bad(op + " match pattern must be a string");
  } else if (op == "exists") {
    if (!v.is_boolean()) return Bad("exists match pattern must be either true or false.");
  } else if (op == "anything-but") {
    if (v.is_object()) {
      if (v.size() != 1 || !v.contains("prefix") || !v["prefix"].is_string())
        return Bad("Unsupported anything-but pattern: lathe supports values, lists of values and {\"prefix\"}");
    } else if (v.is_array()) {
      for (const json& e : v)
        if (!e.is_string() && !e.is_number()) return Bad("Inside anything but list, start|null|boolean is not supported.");
    } else if (!v.is_string() && !v.is_number()) {
      return Bad("Inside anything-but, only strings, numbers and lists of them are supported");
    }
  } else if (op == "numeric") {
    if (!v.is_array() || v.empty() || v.size() > 4 || v.size() % 2 != 0)
      return Bad("Value of numeric must be an array of operator and number pairs.");
    for (size_t i = 0; i < v.size(); i += 2) {
      if (!v[i].is_string() || !IsNumericOp(v[i].get<std::string>()))
        return Bad("Unrecognized numeric range operator");
      if (!v[i + 1].is_number()) return Bad("Value of " + v[i].get<std::string>() + " must be numeric");
    }
  } else {
    return Bad("Unrecognized match type " + op.substr(0, 64) + " (lathe supports exact values, prefix, suffix, "
               "equals-ignore-case, anything-but, numeric and exists; docs/compatibility.md)");
  }
  return Status::Ok();
}

// Checks `policy` (an object at any nesting for the body scope) and counts value combinations.
Status Check(const json& policy, FilterScope scope, int depth, size_t* combinations) {
  if (!policy.is_object()) return Bad("Filter policy must be a JSON object");
  for (const auto& [key, v] : policy.items()) {
    if (key.empty() || key.size() > 256) return Bad("Attribute names must be 1 to 256 characters");
    if (v.is_object()) {
      if (scope == FilterScope::kMessageAttributes) return Bad("Filter policy scope MessageAttributes does not support nested filter policy");
      size_t inner = 1;
      LATHE_RETURN_IF_ERROR(Check(v, scope, depth + 1, &inner));
      *combinations *= inner;
    } else if (v.is_array()) {
      if (v.empty()) return Bad("Empty arrays are not allowed");
      for (const json& c : v) LATHE_RETURN_IF_ERROR(CheckCondition(c, key));
      *combinations *= v.size();
    } else {
      std::string shown = key.substr(0, 64);  // built in steps: GCC 12 misreports "x" + s + "y" (-Wrestrict)
      shown += " must be an object or an array";
      return Bad(shown);
    }
    if (*combinations > kMaxFilterPolicyCombinations) return Bad("Filter policy is too complex");
  }
  return Status::Ok();
}

bool EqualsIgnoreCase(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

bool NumericMatches(const json& ops, double x) {
  for (size_t i = 0; i + 1 < ops.size(); i += 2) {
    const std::string op = ops[i].get<std::string>();
    const double n = ops[i + 1].get<double>();
    bool ok = op == "=" ? x == n : op == "<" ? x < n : op == "<=" ? x <= n : op == ">" ? x > n : x >= n;
    if (!ok) return false;
  }
  return true;
}

// One scalar value against one (non-exists) condition.
bool ValueMatches(const json& c, const json& value) {
  if (c.is_string()) return value.is_string() && value.get<std::string>() == c.get<std::string>();
  if (c.is_number()) return value.is_number() && value.get<double>() == c.get<double>();
  if (c.is_null()) return value.is_null();
  const std::string op = c.begin().key();
  const json& v = c.begin().value();
  if (op == "prefix" || op == "suffix" || op == "equals-ignore-case") {
    if (!value.is_string()) return false;
    const std::string s = value.get<std::string>(), p = v.get<std::string>();
    if (op == "prefix") return s.compare(0, p.size(), p) == 0;
    if (op == "suffix") return s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
    return EqualsIgnoreCase(s, p);
  }
  if (op == "numeric") return value.is_number() && NumericMatches(v, value.get<double>());
  if (op == "anything-but") {
    if (v.is_object()) {
      const std::string p = v["prefix"].get<std::string>();
      return !value.is_string() || value.get<std::string>().compare(0, p.size(), p) != 0;
    }
    if (v.is_array()) {
      for (const json& e : v)
        if (ValueMatches(e, value)) return false;
      return true;
    }
    return !ValueMatches(v, value);
  }
  return false;
}

bool KeyMatches(const json& conditions, const json* value) {
  for (const json& c : conditions) {
    if (c.is_object() && c.contains("exists")) {
      if (c["exists"].get<bool>() == (value != nullptr)) return true;
      continue;
    }
    if (!value) continue;
    if (value->is_array()) {  // String.Array / body arrays: any element
      for (const json& e : *value)
        if (ValueMatches(c, e)) return true;
    } else if (ValueMatches(c, *value)) {
      return true;
    }
  }
  return false;
}

bool ObjectMatches(const json& policy, const json& message) {
  for (const auto& [key, conditions] : policy.items()) {
    const json* value = message.is_object() && message.contains(key) ? &message[key] : nullptr;
    if (conditions.is_object()) {
      if (!value || !ObjectMatches(conditions, *value)) return false;
    } else if (!KeyMatches(conditions, value)) {
      return false;
    }
  }
  return true;
}

}  // namespace

Result<FilterPolicy> FilterPolicy::Parse(std::string_view text, FilterScope scope) {
  FilterPolicy p;
  if (text.empty()) return p;
  if (text.size() > kMaxFilterPolicyBytes) return Bad("Filter policy is too long (more than 256 KB)");
  if (!JsonNestingWithin(text, kMaxFilterPolicyDepth)) return Bad("Filter policy nests too deeply");
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Bad("failed to parse JSON.");
  size_t combinations = 1;
  LATHE_RETURN_IF_ERROR(Check(j, scope, 0, &combinations));
  p.policy_ = std::move(j);
  return p;
}

bool FilterPolicy::Matches(const nlohmann::json& message) const { return ObjectMatches(policy_, message); }

}  // namespace lathe::sns
