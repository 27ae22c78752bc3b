// EventBridge event patterns: compile once (validate, lowercase, parse numbers, build wildcard
// tables), then match by walking the pattern tree against the event without allocating.
//
// Matching follows AWS's reference engine (aws/event-ruler): leaf values of the event are matched
// by path; an array in the event matches when any element does, and the fields a sub-pattern names
// must come from the same array element; a path whose value is an object, or an empty array, has no
// leaf value ({"exists": false} matches it, nothing else does).
#include "services/events/event_pattern.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace lathe::events {
namespace {

constexpr int kMaxPatternDepth = 32;         // JSON nesting of the pattern text
constexpr size_t kMaxAlternatives = 1000;    // match expressions plus $or branches, in all
constexpr int kMaxEventDepth = 128;          // event nesting Matches follows before giving up
constexpr double kNumericLimit = 5.0e9;      // AWS: numeric matching within ±5.0e9

Status Invalid(const std::string& reason) {
  return Status::Aws("InvalidEventPatternException", 400, "Event pattern is not valid. Reason: " + reason);
}

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string LowerAscii(std::string s) {
  for (char& c : s) c = Lower(c);
  return s;
}

// `lowered` is already lowercase; case folding is ASCII (other bytes compare exactly).
bool EqualsFolded(std::string_view value, std::string_view lowered) {
  if (value.size() != lowered.size()) return false;
  for (size_t i = 0; i < value.size(); ++i)
    if (Lower(value[i]) != lowered[i]) return false;
  return true;
}

// A glob with `*` only, matched in O(value + pattern): the first and last segments are anchored,
// the middle ones are found leftmost in order (leftmost is always safe for `*`-only globs), each
// with a precomputed KMP table so no search ever backtracks.
struct Wildcard {
  std::vector<std::string> segments;          // text between stars (escapes resolved)
  std::vector<std::vector<uint32_t>> failure;  // KMP failure table per segment
  bool leading_star = false, trailing_star = false;

  bool Matches(std::string_view v) const {
    if (segments.size() == 1 && !leading_star && !trailing_star) return v == segments[0];
    size_t first = 0, last = segments.size();
    size_t pos = 0, end = v.size();
    if (!leading_star) {
      const std::string& s = segments[0];
      if (v.size() < s.size() || v.compare(0, s.size(), s) != 0) return false;
      pos = s.size();
      first = 1;
    }
    if (!trailing_star) {
      const std::string& s = segments[last - 1];
      if (end - pos < s.size() || v.compare(end - s.size(), s.size(), s) != 0) return false;
      end -= s.size();
      --last;
    }
    for (size_t i = first; i < last; ++i) {
      const std::string& s = segments[i];
      if (s.empty()) continue;
      const std::vector<uint32_t>& f = failure[i];
      size_t k = 0;
      bool found = false;
      while (pos < end) {
        while (k > 0 && v[pos] != s[k]) k = f[k - 1];
        if (v[pos] == s[k]) ++k;
        ++pos;
        if (k == s.size()) { found = true; break; }
      }
      if (!found) return false;
    }
    return true;
  }
};

Result<Wildcard> CompileWildcard(std::string_view text) {
  Wildcard w;
  std::string current;
  bool last_was_star = false;
  w.leading_star = !text.empty() && text[0] == '*';
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    last_was_star = c == '*';
    if (c == '*') {
      if (i + 1 < text.size() && text[i + 1] == '*')
        return Invalid("Consecutive wildcard characters at pos " + std::to_string(i));
      w.segments.push_back(std::move(current));
      current.clear();
      continue;
    }
    if (c == '\\') {
      if (i + 1 < text.size() && (text[i + 1] == '*' || text[i + 1] == '\\')) {
        current.push_back(text[++i]);
        continue;
      }
      return Invalid("Invalid escape character at pos " + std::to_string(i));
    }
    current.push_back(c);
  }
  w.trailing_star = last_was_star;
  w.segments.push_back(std::move(current));
  if (w.leading_star) w.segments.erase(w.segments.begin());
  if (w.trailing_star && !w.segments.empty()) w.segments.pop_back();
  if (w.segments.empty()) w.segments.emplace_back();  // "*" alone: matches every string
  for (const std::string& s : w.segments) {
    std::vector<uint32_t> f(s.size(), 0);
    for (size_t i = 1, k = 0; i < s.size(); ++i) {
      while (k > 0 && s[i] != s[k]) k = f[k - 1];
      if (s[i] == s[k]) ++k;
      f[i] = static_cast<uint32_t>(k);
    }
    w.failure.push_back(std::move(f));
  }
  return w;
}

// An address as 16 bytes (IPv4 mapped into the first 4 with is_v6 false).
struct Ip {
  uint8_t bytes[16] = {};
  bool is_v6 = false;
};

bool ParseIp(std::string_view s, Ip* ip) {
  char buf[64];
  if (s.empty() || s.size() >= sizeof buf) return false;
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = '\0';
  if (inet_pton(AF_INET, buf, ip->bytes) == 1) { ip->is_v6 = false; return true; }
  if (inet_pton(AF_INET6, buf, ip->bytes) == 1) { ip->is_v6 = true; return true; }
  return false;
}

enum class Op : uint8_t {
  kExactString, kExactNumber, kNull, kTrue, kFalse,
  kPrefix, kPrefixFolded, kSuffix, kSuffixFolded, kEqualsFolded, kWildcard,
  kPrefixAndSuffix,  // lathe's tolerated {"prefix", "suffix"} in one expression (see PatternOptions)
  kNumeric, kExists, kAbsent, kCidr,
  kButStrings, kButNumbers, kButFolded, kButPrefix, kButSuffix, kButWildcard,
};

// One match expression, compiled. Strings for folded comparisons are stored lowercase.
struct Matcher {
  Op op = Op::kExactString;
  std::string text, text2;
  std::vector<std::string> strings;
  std::vector<double> numbers;
  double number = 0;
  bool number_in_range = false;  // compared numerically only inside AWS's ±5.0e9
  int64_t integer = 0;
  bool is_integer = false;
  double low = -INFINITY, high = INFINITY;
  bool low_open = false, high_open = false;
  Wildcard wildcard;
  Ip cidr;
  int cidr_bits = 0;
};

bool HasPrefix(std::string_view v, std::string_view p) { return v.size() >= p.size() && v.compare(0, p.size(), p) == 0; }
bool HasSuffix(std::string_view v, std::string_view s) {
  return v.size() >= s.size() && v.compare(v.size() - s.size(), s.size(), s) == 0;
}
bool HasPrefixFolded(std::string_view v, std::string_view p) {
  return v.size() >= p.size() && EqualsFolded(v.substr(0, p.size()), p);
}
bool HasSuffixFolded(std::string_view v, std::string_view s) {
  return v.size() >= s.size() && EqualsFolded(v.substr(v.size() - s.size()), s);
}

// AWS compares numbers at six decimal places.
bool NumbersEqual(double a, double b) { return std::llround(a * 1e6) == std::llround(b * 1e6); }

bool InCidr(const Matcher& m, std::string_view s) {
  Ip ip;
  if (!ParseIp(s, &ip) || ip.is_v6 != m.cidr.is_v6) return false;
  int bits = m.cidr_bits;
  for (int i = 0; bits > 0; ++i, bits -= 8) {
    const uint8_t mask = bits >= 8 ? 0xFF : static_cast<uint8_t>(0xFF << (8 - bits));
    if ((ip.bytes[i] & mask) != (m.cidr.bytes[i] & mask)) return false;
  }
  return true;
}

bool EventNumberEquals(const Matcher& m, const nlohmann::json& v) {
  if (m.is_integer && v.is_number_integer()) {
    if (v.is_number_unsigned()) {
      const uint64_t u = v.get<uint64_t>();
      return m.integer >= 0 && u == static_cast<uint64_t>(m.integer);
    }
    return v.get<int64_t>() == m.integer;
  }
  const double d = v.get<double>();
  if (m.number_in_range && std::fabs(d) <= kNumericLimit) return NumbersEqual(d, m.number);
  return d == m.number;
}

// Whether one scalar of the event satisfies one (non-absence) expression.
bool MatchScalar(const Matcher& m, const nlohmann::json& v) {
  const std::string* s = v.is_string() ? v.get_ptr<const std::string*>() : nullptr;
  switch (m.op) {
    case Op::kExactString: return s && *s == m.text;
    case Op::kExactNumber: return v.is_number() && EventNumberEquals(m, v);
    case Op::kNull: return v.is_null();
    case Op::kTrue: return v.is_boolean() && v.get<bool>();
    case Op::kFalse: return v.is_boolean() && !v.get<bool>();
    case Op::kPrefix: return s && HasPrefix(*s, m.text);
    case Op::kPrefixFolded: return s && HasPrefixFolded(*s, m.text);
    case Op::kSuffix: return s && HasSuffix(*s, m.text);
    case Op::kSuffixFolded: return s && HasSuffixFolded(*s, m.text);
    case Op::kEqualsFolded: return s && EqualsFolded(*s, m.text);
    case Op::kWildcard: return s && m.wildcard.Matches(*s);
    case Op::kPrefixAndSuffix:
      return s && s->size() >= m.text.size() + m.text2.size() && HasPrefix(*s, m.text) && HasSuffix(*s, m.text2);
    case Op::kNumeric: {
      if (!v.is_number()) return false;
      const double d = v.get<double>();
      if (std::fabs(d) > kNumericLimit) return false;
      if (m.low_open ? !(d > m.low) : !(d >= m.low)) return false;
      return m.high_open ? d < m.high : d <= m.high;
    }
    case Op::kExists: return true;
    case Op::kAbsent: return false;
    case Op::kCidr: return s && InCidr(m, *s);
    // anything-but: every value that the inner expression would not match, of any type.
    case Op::kButStrings:
      if (!s) return true;
      for (const std::string& x : m.strings)
        if (*s == x) return false;
      return true;
    case Op::kButNumbers:
      if (!v.is_number()) return true;
      for (double x : m.numbers) {
        const double d = v.get<double>();
        if (std::fabs(d) <= kNumericLimit && std::fabs(x) <= kNumericLimit ? NumbersEqual(d, x) : d == x) return false;
      }
      return true;
    case Op::kButFolded:
      if (!s) return true;
      for (const std::string& x : m.strings)
        if (EqualsFolded(*s, x)) return false;
      return true;
    case Op::kButPrefix: return !s || !HasPrefix(*s, m.text);
    case Op::kButSuffix: return !s || !HasSuffix(*s, m.text);
    case Op::kButWildcard: return !s || !m.wildcard.Matches(*s);
  }
  return false;
}

// An object level of the pattern (fields, each a leaf or a nested object, and $or groups), or a
// leaf (the array of alternatives for one field).
struct Node {
  std::vector<std::pair<std::string, std::unique_ptr<Node>>> fields;
  std::vector<std::vector<std::unique_ptr<Node>>> ors;  // each $or: any branch; all groups ANDed
  bool is_leaf = false;
  bool has_absent = false;  // {"exists": false} among the alternatives
  std::vector<Matcher> matchers;
};

using json = nlohmann::json;

// Deepest nesting of the text, outside strings: checked before the JSON is parsed at all.
int NestingDepth(std::string_view text) {
  int depth = 0, deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      deepest = std::max(deepest, ++depth);
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return deepest;
}

// `*` and `\` written as the wildcard operator's escapes, for the warning's AWS-valid form.
std::string EscapeWildcard(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '*' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

class Compiler {
 public:
  Compiler(const PatternOptions& options, std::vector<std::string>* warnings)
      : options_(options), warnings_(warnings) {}

  Status Object(const json& obj, bool inside_or, Node* node) {
    if (obj.empty()) return Invalid("Empty objects are not allowed");
    for (const auto& [name, value] : obj.items()) {
      if (name == "$or") {
        LATHE_RETURN_IF_ERROR(Or(value, node));
        continue;
      }
      if (inside_or && IsOperatorName(name))
        return Invalid(name + " is Ruler reserved fieldName which cannot be used inside $or.");
      auto child = std::make_unique<Node>();
      if (value.is_object()) {
        LATHE_RETURN_IF_ERROR(Object(value, inside_or, child.get()));
      } else if (value.is_array()) {
        LATHE_RETURN_IF_ERROR(Leaf(value, child.get()));
      } else {
        return Invalid("\"" + name + "\" must be an object or an array");
      }
      node->fields.emplace_back(name, std::move(child));
    }
    return Status::Ok();
  }

 private:
  static bool IsOperatorName(const std::string& n) {
    return n == "anything-but" || n == "numeric" || n == "prefix" || n == "suffix" || n == "exists" ||
           n == "cidr" || n == "equals-ignore-case" || n == "wildcard";
  }

  Status Count(size_t n) {
    alternatives_ += n;
    if (alternatives_ > kMaxAlternatives)
      return Invalid("The pattern has more than " + std::to_string(kMaxAlternatives) + " alternatives");
    return Status::Ok();
  }

  Status Or(const json& value, Node* node) {
    if (!value.is_array()) return Invalid("It must be an Array followed with $or.");
    std::vector<std::unique_ptr<Node>> branches;
    for (const json& branch : value) {
      if (!branch.is_object()) return Invalid("Only JSON object is allowed in array of $or relationship.");
      LATHE_RETURN_IF_ERROR(Count(1));
      auto b = std::make_unique<Node>();
      LATHE_RETURN_IF_ERROR(Object(branch, true, b.get()));
      branches.push_back(std::move(b));
    }
    if (branches.size() < 2) return Invalid("There must have at least 2 Objects in $or relationship.");
    node->ors.push_back(std::move(branches));
    return Status::Ok();
  }

  Status Leaf(const json& values, Node* node) {
    node->is_leaf = true;
    if (values.empty()) return Invalid("Empty arrays are not allowed");
    LATHE_RETURN_IF_ERROR(Count(values.size()));
    for (const json& v : values) {
      Matcher m;
      if (v.is_string()) {
        m.op = Op::kExactString;
        m.text = v.get<std::string>();
      } else if (v.is_number()) {
        SetNumber(v, &m);
      } else if (v.is_null()) {
        m.op = Op::kNull;
      } else if (v.is_boolean()) {
        m.op = v.get<bool>() ? Op::kTrue : Op::kFalse;
      } else if (v.is_object()) {
        LATHE_RETURN_IF_ERROR(Expression(v, &m));
      } else {
        return Invalid("Match value must be String, number, true, false, or null");
      }
      if (m.op == Op::kAbsent) node->has_absent = true;
      node->matchers.push_back(std::move(m));
    }
    return Status::Ok();
  }

  static void SetNumber(const json& v, Matcher* m) {
    m->op = Op::kExactNumber;
    m->number = v.get<double>();
    m->number_in_range = std::fabs(m->number) <= kNumericLimit;
    if (v.is_number_integer() && !(v.is_number_unsigned() && v.get<uint64_t>() > INT64_MAX)) {
      m->is_integer = true;
      m->integer = v.get<int64_t>();
    }
  }

  // {"prefix": "x"} or {"prefix": {"equals-ignore-case": "x"}} (likewise suffix).
  static Status Affix(const std::string& op, const json& arg, std::string* text, bool* folded) {
    *folded = false;
    if (arg.is_string()) {
      *text = arg.get<std::string>();
      return Status::Ok();
    }
    if (arg.is_object() && arg.size() == 1 && arg.contains("equals-ignore-case") &&
        arg["equals-ignore-case"].is_string()) {
      *folded = true;
      *text = LowerAscii(arg["equals-ignore-case"].get<std::string>());
      return Status::Ok();
    }
    return Invalid(op + " match pattern must be a string");
  }

  Status Expression(const json& expr, Matcher* m) {
    if (expr.empty()) return Invalid("Match expression name not found");
    if (expr.size() == 2 && expr.contains("prefix") && expr.contains("suffix")) return PrefixAndSuffix(expr, m);
    if (expr.size() > 1) return Invalid("Only one key allowed in match expression");
    const std::string& name = expr.begin().key();
    const json& arg = expr.begin().value();
    if (name == "prefix" || name == "suffix") {
      bool folded = false;
      LATHE_RETURN_IF_ERROR(Affix(name, arg, &m->text, &folded));
      m->op = name == "prefix" ? (folded ? Op::kPrefixFolded : Op::kPrefix) : (folded ? Op::kSuffixFolded : Op::kSuffix);
      return Status::Ok();
    }
    if (name == "equals" || name == "equals-ignore-case") {
      if (!arg.is_string()) return Invalid(name + " match pattern must be a string");
      m->op = name == "equals" ? Op::kExactString : Op::kEqualsFolded;
      m->text = name == "equals" ? arg.get<std::string>() : LowerAscii(arg.get<std::string>());
      return Status::Ok();
    }
    if (name == "wildcard") {
      if (!arg.is_string()) return Invalid("wildcard match pattern must be a string");
      auto w = CompileWildcard(arg.get<std::string>());
      if (!w.ok()) return w.status();
      m->op = Op::kWildcard;
      m->wildcard = std::move(*w);
      return Status::Ok();
    }
    if (name == "exists") {
      if (!arg.is_boolean()) return Invalid("exists match pattern must be either true or false.");
      m->op = arg.get<bool>() ? Op::kExists : Op::kAbsent;
      return Status::Ok();
    }
    if (name == "numeric") return Numeric(arg, m);
    if (name == "cidr") return Cidr(arg, m);
    if (name == "anything-but") return AnythingBut(arg, m);
    return Invalid("Unrecognized match type " + name);
  }

  Status PrefixAndSuffix(const json& expr, Matcher* m) {
    if (options_.strict_aws || !expr["prefix"].is_string() || !expr["suffix"].is_string())
      return Invalid("Only one key allowed in match expression");
    m->op = Op::kPrefixAndSuffix;
    m->text = expr["prefix"].get<std::string>();
    m->text2 = expr["suffix"].get<std::string>();
    if (warnings_) {
      const json aws_form = {{"wildcard", EscapeWildcard(m->text) + "*" + EscapeWildcard(m->text2)}};
      warnings_->push_back("AWS refuses {\"prefix\", \"suffix\"} in one match expression (\"Only one key allowed in "
                           "match expression\"); lathe reads it as prefix AND suffix. The AWS-valid form is " +
                           aws_form.dump() + ".");
    }
    return Status::Ok();
  }

  static Status Bound(const json& v, const std::string& op, double* out) {
    if (!v.is_number()) return Invalid("Value of " + op + " must be numeric");
    *out = v.get<double>();
    if (!(std::fabs(*out) <= kNumericLimit)) return Invalid("Value must be between -5.0E9 and 5.0E9, inclusive");
    return Status::Ok();
  }

  static Status Numeric(const json& arg, Matcher* m) {
    if (!arg.is_array()) return Invalid("Value of numeric must be an array.");
    if (arg.empty() || !arg[0].is_string()) return Invalid("Invalid member in numeric match: " + (arg.empty() ? std::string("]") : arg[0].dump()));
    m->op = Op::kNumeric;
    const std::string op = arg[0].get<std::string>();
    if (arg.size() < 2) return Invalid("Value of " + op + " must be numeric");
    double x = 0;
    if (op == "=" || op == "<" || op == "<=") {
      LATHE_RETURN_IF_ERROR(Bound(arg[1], op, &x));
      if (arg.size() > 2) return Invalid("Too many elements in numeric expression");
      m->high = x;
      m->high_open = op == "<";
      if (op == "=") m->low = x;
      return Status::Ok();
    }
    if (op != ">" && op != ">=") return Invalid("Unrecognized numeric range operator: " + op);
    LATHE_RETURN_IF_ERROR(Bound(arg[1], op, &x));
    m->low = x;
    m->low_open = op == ">";
    if (arg.size() == 2) return Status::Ok();
    if (!arg[2].is_string()) return Invalid("Bad value in numeric range: " + arg[2].dump());
    const std::string top_op = arg[2].get<std::string>();
    if (top_op != "<" && top_op != "<=") return Invalid("Bad numeric range operator: " + top_op);
    if (arg.size() < 4) return Invalid("Value of " + top_op + " must be numeric");
    LATHE_RETURN_IF_ERROR(Bound(arg[3], top_op, &m->high));
    m->high_open = top_op == "<";
    if (arg.size() > 4) return Invalid("Too many terms in numeric range expression");
    if (!(m->low < m->high)) return Invalid("Bottom must be less than top");
    return Status::Ok();
  }

  static Status Cidr(const json& arg, Matcher* m) {
    if (!arg.is_string()) return Invalid("cidr match pattern must be a string");
    const std::string s = arg.get<std::string>();
    const size_t slash = s.find('/');
    const std::string bad = "Nonstandard IP address: " + s;
    if (slash == std::string::npos || slash + 1 >= s.size() || s.size() - slash > 4) return Invalid(bad);
    if (!ParseIp(std::string_view(s).substr(0, slash), &m->cidr)) return Invalid(bad);
    int bits = 0;
    for (size_t i = slash + 1; i < s.size(); ++i) {
      if (s[i] < '0' || s[i] > '9') return Invalid(bad);
      bits = bits * 10 + (s[i] - '0');
    }
    if (bits > (m->cidr.is_v6 ? 128 : 32)) return Invalid(bad);
    m->op = Op::kCidr;
    m->cidr_bits = bits;
    return Status::Ok();
  }

  Status AnythingBut(const json& arg, Matcher* m) {
    if (arg.is_object()) {
      if (arg.size() != 1) return Invalid("Only one key allowed in match expression");
      const std::string& name = arg.begin().key();
      const json& inner = arg.begin().value();
      if (name == "prefix" || name == "suffix") {
        if (!inner.is_string()) return Invalid("prefix/suffix match pattern must be a string");
        if (inner.get<std::string>().empty()) return Invalid("Null prefix/suffix not allowed");
        m->op = name == "prefix" ? Op::kButPrefix : Op::kButSuffix;
        m->text = inner.get<std::string>();
        return Status::Ok();
      }
      if (name == "wildcard") {
        if (!inner.is_string()) return Invalid("wildcard match pattern must be a string");
        auto w = CompileWildcard(inner.get<std::string>());
        if (!w.ok()) return w.status();
        m->op = Op::kButWildcard;
        m->wildcard = std::move(*w);
        return Status::Ok();
      }
      if (name != "equals-ignore-case") return Invalid("Unsupported anything-but pattern: " + name);
      m->op = Op::kButFolded;
      if (inner.is_string()) {
        m->strings.push_back(LowerAscii(inner.get<std::string>()));
        return Status::Ok();
      }
      if (!inner.is_array())
        return Invalid("Value of anything-but must be an array or single string/number value.");
      for (const json& x : inner) {
        if (!x.is_string())
          return Invalid("Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.");
        m->strings.push_back(LowerAscii(x.get<std::string>()));
      }
      return Count(inner.size());
    }
    if (arg.is_string()) {
      m->op = Op::kButStrings;
      m->strings.push_back(arg.get<std::string>());
      return Status::Ok();
    }
    if (arg.is_number()) {
      m->op = Op::kButNumbers;
      m->numbers.push_back(arg.get<double>());
      return Status::Ok();
    }
    if (!arg.is_array()) return Invalid("Value of anything-but must be an array or single string/number value.");
    bool strings = false, numbers = false;
    for (const json& x : arg) {
      if (x.is_string()) {
        strings = true;
        m->strings.push_back(x.get<std::string>());
      } else if (x.is_number()) {
        numbers = true;
        m->numbers.push_back(x.get<double>());
      } else {
        return Invalid("Inside anything but list, start|null|boolean is not supported.");
      }
    }
    if (strings == numbers)
      return Invalid("Inside anything but list, either all values are number or string, mixed type is not supported");
    m->op = strings ? Op::kButStrings : Op::kButNumbers;
    return Count(arg.size());
  }

  const PatternOptions& options_;
  std::vector<std::string>* warnings_;
  size_t alternatives_ = 0;
};

// Calls f on every scalar under v (arrays flattened); true as soon as f does.
template <typename F>
bool AnyScalar(const json& v, int depth, bool* saw_scalar, const F& f) {
  if (v.is_array()) {
    if (depth >= kMaxEventDepth) return false;
    for (const json& e : v)
      if (AnyScalar(e, depth + 1, saw_scalar, f)) return true;
    return false;
  }
  if (v.is_object()) return false;  // a path ending at an object has no leaf value
  *saw_scalar = true;
  return f(v);
}

bool MatchNode(const Node& node, const json* v, int depth);

bool MatchLeaf(const Node& node, const json* v, int depth) {
  bool saw_scalar = false;
  if (v && AnyScalar(*v, depth, &saw_scalar, [&](const json& s) {
        for (const Matcher& m : node.matchers)
          if (MatchScalar(m, s)) return true;
        return false;
      }))
    return true;
  return node.has_absent && !saw_scalar;
}

// One object level against one event value (nullptr: the path is absent).
bool MatchObject(const Node& node, const json* v, int depth) {
  if (depth >= kMaxEventDepth) return false;
  if (v && v->is_array() && !v->empty()) {
    // The fields a sub-pattern names must all come from one element.
    for (const json& e : *v)
      if (MatchObject(node, &e, depth + 1)) return true;
    return false;
  }
  const json* obj = v && v->is_object() ? v : nullptr;
  for (const auto& [name, child] : node.fields) {
    const json* field = nullptr;
    if (obj) {
      auto it = obj->find(name);
      if (it != obj->end()) field = &*it;
    }
    if (!MatchNode(*child, field, depth + 1)) return false;
  }
  for (const auto& group : node.ors) {
    bool any = false;
    for (const auto& branch : group)
      if ((any = MatchObject(*branch, obj, depth + 1))) break;
    if (!any) return false;
  }
  return true;
}

bool MatchNode(const Node& node, const json* v, int depth) {
  return node.is_leaf ? MatchLeaf(node, v, depth) : MatchObject(node, v, depth);
}

}  // namespace

struct EventPattern::Node {
  events::Node root;
};

Result<EventPattern> EventPattern::Parse(std::string_view pattern_json, const PatternOptions& options,
                                         std::vector<std::string>* warnings) {
  if (pattern_json.size() > kMaxEventPatternBytes)
    return Invalid("The pattern is " + std::to_string(pattern_json.size()) + " bytes; at most " +
                   std::to_string(kMaxEventPatternBytes) + " are allowed");
  if (NestingDepth(pattern_json) > kMaxPatternDepth)
    return Invalid("The pattern is nested deeper than " + std::to_string(kMaxPatternDepth) + " levels");
  json doc = json::parse(pattern_json.begin(), pattern_json.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Invalid("The pattern is not valid JSON");
  if (!doc.is_object()) return Invalid("Filter is not an object");
  auto root = std::make_unique<Node>();
  Compiler compiler(options, warnings);
  LATHE_RETURN_IF_ERROR(compiler.Object(doc, false, &root->root));
  return EventPattern(std::move(root));
}

bool EventPattern::Matches(const nlohmann::json& event) const { return MatchObject(root_->root, &event, 0); }

EventPattern::EventPattern(std::unique_ptr<Node> root) : root_(std::move(root)) {}
EventPattern::EventPattern(EventPattern&&) noexcept = default;
EventPattern& EventPattern::operator=(EventPattern&&) noexcept = default;
EventPattern::~EventPattern() = default;

}  // namespace lathe::events
