// Format rules: a regex the whole answer must match, or a JSON Schema (a subset) the answer,
// parsed as JSON, must satisfy. Both run on untrusted text (the rule comes from a test set, the
// answer from a model), so regexes are PCRE2 with DFA matching (no backtracking: time linear in
// the answer for a bounded pattern), patterns are bounded in source and compiled size, and the
// schema walk is bounded by kMaxSchemaDepth.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <memory>
#include <map>
#include <set>

#include "core/json_nesting.h"
#include "core/utf8.h"
#include "eval/metrics.h"

namespace lathe::eval {
namespace {

using nlohmann::json;

// A 1 KiB pattern can still compile to a large program (counted repeats copy their group); the
// DFA's time per answer byte grows with the program, so the compiled size is bounded too.
constexpr size_t kMaxCompiledRegexBytes = 16 * 1024;
constexpr uint32_t kMaxRegexParenNesting = 64;
// PCRE2's DFA is linear in the answer only for a bounded number of simultaneously active states:
// it dedupes them by a linear scan, so each answer byte costs O(states^2), and nested repeats
// such as "(a+)+" add a state per byte. The workspace bounds the states (3 ints each, two lists):
// 1000 ints allow some 80, far more than realistic rules use (measured: "(\w+\s*)*",
// "\{("\w+": "[^"]*",?\s*)*\}" need a handful), and cap the worst case near 6 us a byte.
// A rule needing more cannot be decided (PCRE2_ERROR_DFA_WSSIZE): CheckFormat says so (nullopt)
// and the case has no formatCompliance, rather than a "not compliant" the answer did not earn.
constexpr size_t kDfaWorkspaceInts = 1000;

struct CodeDeleter {
  void operator()(pcre2_code* c) const { pcre2_code_free(c); }
};
using Code = std::unique_ptr<pcre2_code, CodeDeleter>;

// What DFA matching cannot do and would only report when a match reached it: backtracking verbs
// and start options "(*...)", and conditional groups "(?(...)". Found by a scan that skips
// escapes, \Q...\E quoting and character classes, so "\(*" or "[(*]" are not mistaken for them.
std::string UnsupportedConstruct(std::string_view p) {
  bool in_class = false;
  for (size_t i = 0; i < p.size(); ++i) {
    char c = p[i];
    if (c == '\\') {
      if (i + 1 < p.size() && p[i + 1] == 'Q') {
        size_t end = p.find("\\E", i + 2);
        if (end == std::string_view::npos) return "";
        i = end + 1;
      } else {
        ++i;
      }
      continue;
    }
    if (in_class) {
      if (c == ']') in_class = false;
      continue;
    }
    if (c == '[') {
      in_class = true;
      // "[]...]" and "[^]...]": a ']' right after the opening is a literal.
      if (i + 1 < p.size() && p[i + 1] == '^') ++i;
      if (i + 1 < p.size() && p[i + 1] == ']') ++i;
      continue;
    }
    if (c == '(' && i + 1 < p.size() && p[i + 1] == '*')
      return "\"(*...)\" verbs and options need a backtracking matcher; lathe matches without one";
    if (c == '(' && p.substr(i + 1, 2) == "?(")
      return "conditional groups \"(?(...)\" are not supported by lathe's non-backtracking matcher";
  }
  return "";
}

// Compiles pattern for DFA matching. anchored: the whole subject must match; else the pattern
// may match anywhere (JSON Schema's "pattern"), done as one anchored pass behind a ".*" prefix so
// the search stays linear rather than restarting at every position.
Code Compile(std::string_view pattern, bool anchored, std::string* error) {
  if (pattern.size() > kMaxRegexBytes) {
    *error = "the pattern is " + std::to_string(pattern.size()) + " bytes; at most " +
             std::to_string(kMaxRegexBytes) + " are allowed";
    return nullptr;
  }
  if (std::string why = UnsupportedConstruct(pattern); !why.empty()) {
    *error = why;
    return nullptr;
  }
  std::unique_ptr<pcre2_compile_context, decltype(&pcre2_compile_context_free)> ctx(
      pcre2_compile_context_create(nullptr), &pcre2_compile_context_free);
  pcre2_set_max_pattern_length(ctx.get(), kMaxRegexBytes + 32);
  pcre2_set_parens_nest_limit(ctx.get(), kMaxRegexParenNesting);
  const uint32_t options = PCRE2_UTF | PCRE2_NEVER_BACKSLASH_C | PCRE2_ANCHORED | (anchored ? PCRE2_ENDANCHORED : 0);
  auto compile = [&](std::string_view text) -> Code {
    int code = 0;
    PCRE2_SIZE offset = 0;
    Code c(pcre2_compile(reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), options, &code, &offset, ctx.get()));
    if (!c) {
      PCRE2_UCHAR buf[256];
      pcre2_get_error_message(code, buf, sizeof buf);
      *error = std::string(reinterpret_cast<const char*>(buf)) + " at offset " + std::to_string(offset);
    }
    return c;
  };
  // The pattern alone first, so an error's offset is the user's and a stray ')' cannot close the
  // wrapper below.
  Code code = compile(pattern);
  if (!code) return nullptr;
  if (!anchored) {
    code = compile("(?s:.*?)(?:" + std::string(pattern) + ")");
    if (!code) {
      *error = "the pattern cannot be searched for (" + *error + ")";
      return nullptr;
    }
  }
  uint32_t backrefs = 0;
  size_t size = 0;
  pcre2_pattern_info(code.get(), PCRE2_INFO_BACKREFMAX, &backrefs);
  pcre2_pattern_info(code.get(), PCRE2_INFO_SIZE, &size);
  if (backrefs > 0) {
    *error = "backreferences need a backtracking matcher; lathe matches without one";
    return nullptr;
  }
  if (size > kMaxCompiledRegexBytes) {
    *error = "the pattern compiles to " + std::to_string(size) + " bytes; at most " +
             std::to_string(kMaxCompiledRegexBytes) + " are allowed (reduce counted repeats)";
    return nullptr;
  }
  return code;
}

// A compiled pattern, shared: compiling is the costly part of checking a rule, and a run checks
// each case's rule once per model (and a schema's patterns once per string they apply to). Each
// thread keeps its own bounded cache, so nothing is shared between threads.
using SharedCode = std::shared_ptr<const pcre2_code>;
constexpr size_t kMaxCachedPatterns = 64;

SharedCode CachedCompile(std::string_view pattern, bool anchored) {
  thread_local std::map<std::pair<std::string, bool>, SharedCode> cache;
  auto key = std::make_pair(std::string(pattern), anchored);
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  std::string error;
  SharedCode code(Compile(pattern, anchored, &error).release(), CodeDeleter());
  if (cache.size() >= kMaxCachedPatterns) cache.clear();
  cache.emplace(std::move(key), code);
  return code;
}

enum class Match { kYes, kNo, kUndecided };

// Whether the compiled pattern matches subject (at its start; to its end when compiled anchored);
// kUndecided when a bound of the matcher (its workspace, match or depth limits) stopped it.
Match DfaMatches(const pcre2_code* code, std::string_view subject) {
  if (FindInvalidUtf8(subject) != std::string_view::npos) return Match::kNo;  // no pattern matches such bytes
  std::unique_ptr<pcre2_match_data, decltype(&pcre2_match_data_free)> md(pcre2_match_data_create(1, nullptr),
                                                                          &pcre2_match_data_free);
  std::unique_ptr<pcre2_match_context, decltype(&pcre2_match_context_free)> mctx(
      pcre2_match_context_create(nullptr), &pcre2_match_context_free);
  // DFA matching does not backtrack; these bound recursion ((?R), lookarounds) all the same.
  pcre2_set_match_limit(mctx.get(), 1'000'000);
  pcre2_set_depth_limit(mctx.get(), 1000);
  pcre2_set_heap_limit(mctx.get(), 64 * 1024);  // KiB
  std::vector<int> workspace(kDfaWorkspaceInts);
  int rc = pcre2_dfa_match(code, reinterpret_cast<PCRE2_SPTR>(subject.data()), subject.size(), 0, 0, md.get(),
                           mctx.get(), workspace.data(), workspace.size());
  if (rc >= 0) return Match::kYes;  // 0: matched, more matches than the ovector holds
  if (rc == PCRE2_ERROR_NOMATCH || rc == PCRE2_ERROR_PARTIAL) return Match::kNo;
  return Match::kUndecided;  // PCRE2_ERROR_DFA_WSSIZE, _MATCHLIMIT, _DEPTHLIMIT, _HEAPLIMIT, ...
}

bool IsBlankByte(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view TrimBlank(std::string_view s) {
  while (!s.empty() && IsBlankByte(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsBlankByte(s.back())) s.remove_suffix(1);
  return s;
}

const std::set<std::string>& TypeNames() {
  static const std::set<std::string> names{"object", "array", "string", "number", "integer", "boolean", "null"};
  return names;
}

const std::set<std::string>& Annotations() {
  static const std::set<std::string> names{"$schema", "$id",     "$comment", "title",    "description",
                                           "default", "examples", "deprecated", "readOnly", "writeOnly"};
  return names;
}

constexpr const char* kSupportedKeywords =
    "type, enum, const, properties, required, additionalProperties, items, minItems, maxItems, minLength, "
    "maxLength, minimum, maximum, pattern";

bool IsCount(const json& v) { return v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0); }

std::string SchemaProblem(const json& s, size_t depth, const std::string& at) {
  const std::string where = at.empty() ? "the schema" : at;
  if (depth > kMaxSchemaDepth) return where + " nests more than " + std::to_string(kMaxSchemaDepth) + " schemas deep";
  if (s.is_boolean()) return "";
  if (!s.is_object()) return where + " must be an object (or true/false)";
  for (const auto& [key, v] : s.items()) {
    const std::string field = at.empty() ? key : at + "." + key;
    if (Annotations().count(key)) continue;
    if (key == "type") {
      auto ok_name = [](const json& t) { return t.is_string() && TypeNames().count(t.get<std::string>()); };
      bool ok = ok_name(v) || (v.is_array() && !v.empty() && std::all_of(v.begin(), v.end(), ok_name));
      if (!ok) return field + " must be one of object, array, string, number, integer, boolean, null (or a list of them)";
    } else if (key == "enum") {
      if (!v.is_array() || v.empty()) return field + " must be a non-empty array";
    } else if (key == "const") {
    } else if (key == "properties") {
      if (!v.is_object()) return field + " must be an object of schemas";
      for (const auto& [name, sub] : v.items()) {
        if (auto p = SchemaProblem(sub, depth + 1, field + "." + name); !p.empty()) return p;
      }
    } else if (key == "required") {
      if (!v.is_array() || !std::all_of(v.begin(), v.end(), [](const json& r) { return r.is_string(); }))
        return field + " must be an array of property names";
    } else if (key == "additionalProperties") {
      if (!v.is_boolean()) return field + " must be true or false (schemas there are not supported)";
    } else if (key == "items") {
      if (!v.is_object() && !v.is_boolean()) return field + " must be one schema (tuple forms are not supported)";
      if (auto p = SchemaProblem(v, depth + 1, field); !p.empty()) return p;
    } else if (key == "minItems" || key == "maxItems" || key == "minLength" || key == "maxLength") {
      if (!IsCount(v)) return field + " must be a non-negative integer";
    } else if (key == "minimum" || key == "maximum") {
      if (!v.is_number()) return field + " must be a number";
    } else if (key == "pattern") {
      if (!v.is_string()) return field + " must be a string";
      std::string error;
      if (!Compile(v.get_ref<const std::string&>(), /*anchored=*/false, &error)) return field + ": " + error;
    } else {
      return field + ": unsupported keyword (lathe supports " + std::string(kSupportedKeywords) + ")";
    }
  }
  return "";
}

bool HasType(const json& v, const std::string& type) {
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "string") return v.is_string();
  if (type == "boolean") return v.is_boolean();
  if (type == "null") return v.is_null();
  if (type == "number") return v.is_number();
  if (type == "integer") {
    if (v.is_number_integer()) return true;  // signed and unsigned
    if (!v.is_number_float()) return false;
    double d = v.get<double>();
    return std::isfinite(d) && d == std::floor(d);  // JSON Schema: 1.0 is an integer
  }
  return false;
}

// `undecided` is set when a pattern could not be decided (then the result is false).
bool Satisfies(const json& s, const json& v, size_t depth, bool* undecided) {
  if (depth > kMaxSchemaDepth) return false;
  if (s.is_boolean()) return s.get<bool>();
  if (!s.is_object()) return false;
  if (auto t = s.find("type"); t != s.end()) {
    bool any = false;
    if (t->is_string()) any = HasType(v, t->get<std::string>());
    if (t->is_array())
      for (const auto& name : *t) any = any || (name.is_string() && HasType(v, name.get<std::string>()));
    if (!any) return false;
  }
  if (auto e = s.find("enum"); e != s.end()) {
    if (!e->is_array() || std::none_of(e->begin(), e->end(), [&](const json& x) { return x == v; })) return false;
  }
  if (auto c = s.find("const"); c != s.end() && !(*c == v)) return false;
  if (v.is_object()) {
    if (auto r = s.find("required"); r != s.end() && r->is_array()) {
      for (const auto& name : *r)
        if (!name.is_string() || !v.contains(name.get<std::string>())) return false;
    }
    auto props = s.find("properties");
    if (props != s.end() && props->is_object()) {
      for (const auto& [name, sub] : props->items()) {
        if (auto it = v.find(name); it != v.end() && !Satisfies(sub, *it, depth + 1, undecided)) return false;
      }
    }
    if (auto ap = s.find("additionalProperties"); ap != s.end() && ap->is_boolean() && !ap->get<bool>()) {
      for (const auto& item : v.items())
        if (props == s.end() || !props->is_object() || !props->contains(item.key())) return false;
    }
  }
  auto count_at_least = [&](const char* key, size_t n) {
    auto it = s.find(key);
    return it == s.end() || !it->is_number() || static_cast<double>(n) >= it->get<double>();
  };
  auto count_at_most = [&](const char* key, size_t n) {
    auto it = s.find(key);
    return it == s.end() || !it->is_number() || static_cast<double>(n) <= it->get<double>();
  };
  if (v.is_array()) {
    if (!count_at_least("minItems", v.size()) || !count_at_most("maxItems", v.size())) return false;
    if (auto items = s.find("items"); items != s.end()) {
      for (const auto& x : v)
        if (!Satisfies(*items, x, depth + 1, undecided)) return false;
    }
  }
  if (v.is_string()) {
    const std::string& text = v.get_ref<const std::string&>();
    const size_t length = CountCodePoints(text);  // JSON Schema counts characters, not bytes
    if (!count_at_least("minLength", length) || !count_at_most("maxLength", length)) return false;
    if (auto p = s.find("pattern"); p != s.end()) {
      SharedCode code = p->is_string() ? CachedCompile(p->get_ref<const std::string&>(), /*anchored=*/false) : nullptr;
      if (!code) return false;
      const Match m = DfaMatches(code.get(), text);
      if (m == Match::kUndecided) *undecided = true;
      if (m != Match::kYes) return false;
    }
  }
  if (v.is_number()) {
    const double x = v.get<double>();
    if (auto lo = s.find("minimum"); lo != s.end() && lo->is_number() && x < lo->get<double>()) return false;
    if (auto hi = s.find("maximum"); hi != s.end() && hi->is_number() && x > hi->get<double>()) return false;
  }
  return true;
}

}  // namespace

std::string FormatRuleProblem(const FormatRule& rule) {
  switch (rule.kind) {
    case FormatRule::Kind::kNone: return "";
    case FormatRule::Kind::kRegex: {
      std::string error;
      return Compile(rule.regex, /*anchored=*/true, &error) ? "" : error;
    }
    case FormatRule::Kind::kJsonSchema: {
      // The walk stops at kMaxSchemaDepth, so a hostile schema is refused before dump() walks it all.
      if (std::string p = SchemaProblem(rule.schema, 0, ""); !p.empty()) return p;
      const size_t bytes = rule.schema.dump().size();
      if (bytes > kMaxSchemaBytes)
        return "the schema is " + std::to_string(bytes) + " bytes; at most " + std::to_string(kMaxSchemaBytes) +
               " are allowed";
      return "";
    }
  }
  return "unknown format rule";
}

bool SatisfiesFormat(std::string_view answer, const FormatRule& rule) {
  return CheckFormat(answer, rule).value_or(false);
}

std::optional<bool> CheckFormat(std::string_view answer, const FormatRule& rule) {
  // Models put a space before and a newline after an answer more often than not; that is not
  // what a format rule is about.
  const std::string_view text = TrimBlank(answer);
  switch (rule.kind) {
    case FormatRule::Kind::kNone: return true;
    case FormatRule::Kind::kRegex: {
      SharedCode code = CachedCompile(rule.regex, /*anchored=*/true);
      if (!code) return false;
      const Match m = DfaMatches(code.get(), text);
      if (m == Match::kUndecided) return std::nullopt;
      return m == Match::kYes;
    }
    case FormatRule::Kind::kJsonSchema: {
      if (!FormatRuleProblem(rule).empty()) return false;
      // The answer is model output: measured before it is parsed, and a NUL (which nlohmann takes
      // as the end of input) makes it not JSON.
      if (text.find('\0') != std::string_view::npos || !JsonNestingWithin(text, kMaxJsonDepth)) return false;
      json value = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
      if (value.is_discarded()) return false;
      bool undecided = false;
      const bool ok = Satisfies(rule.schema, value, 0, &undecided);
      if (!ok && undecided) return std::nullopt;
      return ok;
    }
  }
  return false;
}

}  // namespace lathe::eval
