#include "services/iam/condition.h"

#include <arpa/inet.h>

#include <array>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "core/arn.h"
#include "services/iam/wildcard.h"

namespace lathe::iam {

std::string ConditionKey(std::string_view key) {
  std::string out(key);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}
namespace {

constexpr std::string_view kIfExists = "IfExists";

bool StartsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }
bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::optional<double> ParseNumber(std::string_view s) {
  if (s.empty() || s.size() > 64) return std::nullopt;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E')) return std::nullopt;
  std::string copy(s);
  char* end = nullptr;
  double v = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

// An address as 16 bytes (IPv4 as its IPv4-mapped IPv6 form, so "::ffff:10.0.0.1" is 10.0.0.1).
std::optional<std::array<unsigned char, 16>> ParseAddress(std::string_view s, bool* v4) {
  if (s.empty() || s.size() > 45) return std::nullopt;
  std::string copy(s);
  std::array<unsigned char, 16> a{};
  unsigned char four[4];
  if (inet_pton(AF_INET, copy.c_str(), four) == 1) {
    a[10] = a[11] = 0xff;
    std::memcpy(&a[12], four, 4);
    *v4 = true;
    return a;
  }
  if (inet_pton(AF_INET6, copy.c_str(), a.data()) != 1) return std::nullopt;
  static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  *v4 = std::memcmp(a.data(), kMapped, 12) == 0;
  return a;
}

// `address` within `cidr` ("203.0.113.0/24", "2001:db8::/32", or one address).
bool InCidr(std::string_view address, std::string_view cidr) {
  size_t slash = cidr.find('/');
  bool net_v4 = false, addr_v4 = false;
  auto net = ParseAddress(cidr.substr(0, slash), &net_v4);
  auto addr = ParseAddress(address, &addr_v4);
  if (!net || !addr || net_v4 != addr_v4) return false;
  int bits = net_v4 ? 32 : 128;
  if (slash != std::string_view::npos) {
    std::string_view len = cidr.substr(slash + 1);
    if (len.empty() || len.size() > 3) return false;
    int n = 0;
    for (char c : len) {
      if (c < '0' || c > '9') return false;
      n = n * 10 + (c - '0');
    }
    if (n > bits) return false;
    bits = n;
  }
  if (net_v4) bits += 96;  // the mapped prefix is equal by construction
  for (int i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
    unsigned char mask = bits >= 8 ? 0xff : static_cast<unsigned char>(0xff << (8 - bits));
    if (((*net)[i] & mask) != ((*addr)[i] & mask)) return false;
  }
  return true;
}

template <typename T>
bool Compare(Comparison c, T have, T want) {
  switch (c) {
    case Comparison::kEquals: return have == want;
    case Comparison::kLess: return have < want;
    case Comparison::kLessEquals: return have <= want;
    case Comparison::kGreater: return have > want;
    case Comparison::kGreaterEquals: return have >= want;
  }
  return false;
}

// The operator's own test of one context value against one policy value (before negation).
bool BaseMatch(const ConditionOperator& op, std::string_view have, std::string_view want) {
  switch (op.family) {
    case ConditionFamily::kString: return have == want;
    case ConditionFamily::kStringIgnoreCase: return EqualsIgnoreCase(have, want);
    case ConditionFamily::kStringLike: return WildcardMatch(want, have);
    case ConditionFamily::kBinary: return have == want;
    case ConditionFamily::kBool: return EqualsIgnoreCase(have, want);
    case ConditionFamily::kArn: return ArnMatch(want, have);
    case ConditionFamily::kIp: return InCidr(have, want);
    case ConditionFamily::kNumeric: {
      auto h = ParseNumber(have), w = ParseNumber(want);
      return h && w && Compare(op.comparison, *h, *w);
    }
    case ConditionFamily::kDate: {
      auto h = ParseConditionDate(have), w = ParseConditionDate(want);
      return h && w && Compare(op.comparison, *h, *w);
    }
    case ConditionFamily::kNull: return false;  // handled before
  }
  return false;
}

// Whether one context value satisfies the operator against the policy's values: some value
// matches (OR), or for a negated operator, none does.
bool ValueHolds(const ConditionOperator& op, std::string_view have, const std::vector<std::string>& values) {
  bool any = false;
  for (const std::string& want : values)
    if (BaseMatch(op, have, want)) {
      any = true;
      break;
    }
  return op.negated ? !any : any;
}

struct Named {
  std::string_view name;
  ConditionFamily family;
  Comparison comparison;
  bool negated;
};
constexpr Named kOperators[] = {
    {"StringEquals", ConditionFamily::kString, Comparison::kEquals, false},
    {"StringNotEquals", ConditionFamily::kString, Comparison::kEquals, true},
    {"StringEqualsIgnoreCase", ConditionFamily::kStringIgnoreCase, Comparison::kEquals, false},
    {"StringNotEqualsIgnoreCase", ConditionFamily::kStringIgnoreCase, Comparison::kEquals, true},
    {"StringLike", ConditionFamily::kStringLike, Comparison::kEquals, false},
    {"StringNotLike", ConditionFamily::kStringLike, Comparison::kEquals, true},
    {"NumericEquals", ConditionFamily::kNumeric, Comparison::kEquals, false},
    {"NumericNotEquals", ConditionFamily::kNumeric, Comparison::kEquals, true},
    {"NumericLessThan", ConditionFamily::kNumeric, Comparison::kLess, false},
    {"NumericLessThanEquals", ConditionFamily::kNumeric, Comparison::kLessEquals, false},
    {"NumericGreaterThan", ConditionFamily::kNumeric, Comparison::kGreater, false},
    {"NumericGreaterThanEquals", ConditionFamily::kNumeric, Comparison::kGreaterEquals, false},
    {"DateEquals", ConditionFamily::kDate, Comparison::kEquals, false},
    {"DateNotEquals", ConditionFamily::kDate, Comparison::kEquals, true},
    {"DateLessThan", ConditionFamily::kDate, Comparison::kLess, false},
    {"DateLessThanEquals", ConditionFamily::kDate, Comparison::kLessEquals, false},
    {"DateGreaterThan", ConditionFamily::kDate, Comparison::kGreater, false},
    {"DateGreaterThanEquals", ConditionFamily::kDate, Comparison::kGreaterEquals, false},
    {"Bool", ConditionFamily::kBool, Comparison::kEquals, false},
    {"BinaryEquals", ConditionFamily::kBinary, Comparison::kEquals, false},
    {"IpAddress", ConditionFamily::kIp, Comparison::kEquals, false},
    {"NotIpAddress", ConditionFamily::kIp, Comparison::kEquals, true},
    {"ArnEquals", ConditionFamily::kArn, Comparison::kEquals, false},
    {"ArnLike", ConditionFamily::kArn, Comparison::kEquals, false},
    {"ArnNotEquals", ConditionFamily::kArn, Comparison::kEquals, true},
    {"ArnNotLike", ConditionFamily::kArn, Comparison::kEquals, true},
    {"Null", ConditionFamily::kNull, Comparison::kEquals, false},
};

}  // namespace

std::optional<ConditionOperator> ParseConditionOperator(std::string_view name) {
  ConditionOperator op;
  if (StartsWith(name, "ForAnyValue:")) {
    op.set = SetQualifier::kForAnyValue;
    name.remove_prefix(12);
  } else if (StartsWith(name, "ForAllValues:")) {
    op.set = SetQualifier::kForAllValues;
    name.remove_prefix(13);
  }
  if (EndsWith(name, kIfExists)) {
    op.if_exists = true;
    name.remove_suffix(kIfExists.size());
  }
  for (const Named& n : kOperators)
    if (n.name == name) {
      if (n.family == ConditionFamily::kNull && (op.if_exists || op.set != SetQualifier::kNone)) return std::nullopt;
      op.family = n.family;
      op.comparison = n.comparison;
      op.negated = n.negated;
      return op;
    }
  return std::nullopt;
}

std::optional<int64_t> ParseConditionDate(std::string_view value) {
  if (value.empty() || value.size() > 40) return std::nullopt;
  bool digits = true;
  for (char c : value) digits = digits && c >= '0' && c <= '9';
  if (digits) {
    if (value.size() > 12) return std::nullopt;  // epoch seconds, up to year ~33658
    return std::stoll(std::string(value)) * 1000;
  }
  // "2026-12-03" is that day's midnight, UTC.
  int64_t ms = ParseIso8601(value.size() == 10 ? std::string(value) + "T00:00:00Z" : std::string(value));
  if (ms == -1) return std::nullopt;
  return ms;
}

bool ConditionHolds(const ConditionClause& clause, const std::vector<std::string>& values,
                    const ConditionContext& context) {
  const ConditionOperator& op = clause.op;
  auto it = context.find(clause.key);
  const bool present = it != context.end() && !it->second.empty();
  if (op.family == ConditionFamily::kNull) {
    // "true": the key must be absent; "false": present. Several values: any.
    for (const std::string& v : values)
      if (EqualsIgnoreCase(v, present ? "false" : "true")) return true;
    return false;
  }
  if (!present) {
    if (op.if_exists || op.set == SetQualifier::kForAllValues) return true;
    if (op.set == SetQualifier::kForAnyValue) return false;
    return op.negated;
  }
  const std::vector<std::string>& have = it->second;
  if (op.set == SetQualifier::kForAllValues) {
    for (const std::string& h : have)
      if (!ValueHolds(op, h, values)) return false;
    return true;
  }
  if (op.set == SetQualifier::kForAnyValue) {
    for (const std::string& h : have)
      if (ValueHolds(op, h, values)) return true;
    return false;
  }
  // A single-valued operator on the key's values: some value matches; negated: none does.
  if (!op.negated) {
    for (const std::string& h : have)
      if (ValueHolds(op, h, values)) return true;
    return false;
  }
  for (const std::string& h : have)
    if (!ValueHolds(op, h, values)) return false;
  return true;
}

}  // namespace lathe::iam
