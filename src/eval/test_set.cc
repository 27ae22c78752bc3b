// Test sets: JSONL read and checked the way `lathe data validate` checks training data (the same
// Problem type, line parsing and error codes where the problem is the same), with every problem
// of every line reported.
#include "eval/test_set.h"

#include <cstdio>
#include <set>
#include <unordered_map>

#include "core/env.h"
#include "core/utf8.h"
#include "data/record.h"
#include "eval/metrics.h"

namespace lathe::eval {
namespace {

using data::Problem;
using data::Severity;
using nlohmann::json;

// A file of a million one-byte bad lines would otherwise hold a million problems: past this many
// the rest are counted in one last problem.
constexpr size_t kMaxProblems = 1000;

std::string TypeName(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return "a number";
    case json::value_t::string: return "a string";
    case json::value_t::array: return "an array";
    case json::value_t::object: return "an object";
    default: return "an unsupported value";
  }
}

bool IsBlank(std::string_view s) {
  for (char c : s)
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != '\f' && c != '\v') return false;
  return true;
}

class Parser {
 public:
  Parser(const std::string& source, TestSet* out) : source_(source), out_(out) {}

  void Run(std::string_view text) {
    if (text.size() > kMaxTestSetBytes) {
      FileError("file-too-large",
                "test set is " + std::to_string(text.size()) + " bytes, over the " +
                    std::to_string(kMaxTestSetBytes) + "-byte limit",
                "split it or sample it down; a test set needs hundreds of cases, not millions");
      return;
    }
    if (const char* utf16 = DetectUtf16(text.substr(0, 64))) {
      Add(Severity::kError, 1, 0, "", "utf16", std::string("the file is ") + utf16 + " text",
          "convert it to UTF-8, e.g. iconv -f UTF-16 -t UTF-8 " + source_ + " > converted.jsonl");
      return;
    }
    uint64_t bom = 0;
    if (text.substr(0, 3) == "\xEF\xBB\xBF") {
      Add(Severity::kWarning, 1, 1, "", "bom", "file starts with a UTF-8 byte-order mark",
          "accepted and ignored; save the file as UTF-8 without BOM to silence this");
      text.remove_prefix(3);
      bom = 3;
    }
    uint64_t number = 0;
    size_t pos = 0;
    while (pos < text.size()) {
      size_t end = text.find('\n', pos);
      if (end == std::string_view::npos) end = text.size();
      std::string_view line = text.substr(pos, end - pos);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      pos = end + 1;
      ++number;
      if (!Line(line, number, number == 1 ? bom : 0)) break;
    }
    if (records_ == 0)
      FileError("empty-test-set", "the test set holds no cases",
                "add one JSON object per line, e.g. {\"prompt\": \"...\", \"referenceResponse\": \"...\"}");
    if (omitted_ > 0)
      out_->problems.push_back(Problem{Severity::kError, source_, 0, 0, "", "too-many-problems",
                                       std::to_string(omitted_) + " more problems not listed",
                                       "fix the ones above first"});
  }

 private:
  void Add(Severity sev, uint64_t line, uint64_t column, std::string field, std::string code, std::string message,
           std::string fix) {
    if (out_->problems.size() >= kMaxProblems) {
      ++omitted_;
      return;
    }
    out_->problems.push_back(Problem{sev, source_, line, column, std::move(field), std::move(code),
                                     std::move(message), std::move(fix)});
  }
  void FileError(std::string code, std::string message, std::string fix) {
    Add(Severity::kError, 0, 0, "", std::move(code), std::move(message), std::move(fix));
  }

  // One line; false to stop reading (too many cases).
  bool Line(std::string_view text, uint64_t number, uint64_t bom) {
    if (text.size() > kMaxLineBytes) {
      ++records_;
      Add(Severity::kError, number, 0, "", "line-too-long",
          "line is " + std::to_string(text.size()) + " bytes, over the " + std::to_string(kMaxLineBytes) +
              "-byte limit for one case",
          "shorten the case: a test case is a question and its reference answer");
      return true;
    }
    if (IsBlank(text)) {
      Add(Severity::kWarning, number, 0, "", "blank-line", "line is blank", "remove it; blank lines are skipped");
      return true;
    }
    if (++records_ > kMaxCases) {
      Add(Severity::kError, number, 0, "", "too-many-cases",
          "more than " + std::to_string(kMaxCases) + " cases; reading stopped here",
          "split the test set or sample it down");
      return false;
    }
    if (size_t bad = FindInvalidUtf8(text); bad != std::string_view::npos) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02X", static_cast<unsigned char>(text[bad]));
      Add(Severity::kError, number, bom + bad + 1, "", "invalid-utf8", std::string("invalid UTF-8 (byte ") + hex + ")",
          "re-save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)");
      return true;
    }
    json record;
    Problem parse_problem;
    // Nesting is measured before the parser sees the line (data::ParseJsonLine, kMaxJsonDepth).
    if (!data::ParseJsonLine(text, &record, &parse_problem, kMaxJsonDepth)) {
      Add(Severity::kError, number, parse_problem.column > 0 ? bom + parse_problem.column : 0, "", parse_problem.code,
          parse_problem.message, parse_problem.fix);
      return true;
    }
    if (!record.is_object()) {
      Add(Severity::kError, number, 0, "", "not-an-object", "expected a JSON object, got " + TypeName(record),
          "write each case as {\"prompt\": \"...\", ...}");
      return true;
    }
    TestCase c;
    c.line = number;
    errors_ = 0;
    Decode(record, number, &c);
    if (errors_ > 0) return true;
    if (auto [it, fresh] = ids_.emplace(c.id, number); !fresh) {
      Add(Severity::kError, number, 0, "id", "duplicate-id",
          "id \"" + SanitizeUtf8(c.id) + "\" is already used on line " + std::to_string(it->second),
          "give every case its own id (or leave id out: the default is line-<N>)");
      return true;
    }
    c.record = std::move(record);
    out_->cases.push_back(std::move(c));
    return true;
  }

  void Error(uint64_t line, std::string field, std::string code, std::string message, std::string fix) {
    ++errors_;
    Add(Severity::kError, line, 0, std::move(field), std::move(code), std::move(message), std::move(fix));
  }

  void WrongType(uint64_t line, const std::string& field, const json& v, const std::string& wanted) {
    Error(line, field, "wrong-type", "expected " + wanted + ", got " + TypeName(v),
          "write " + field + " as " + wanted);
  }

  // A string value of at most max_bytes (0: no bound beyond the line's); nullptr on a problem.
  const std::string* String(uint64_t line, const std::string& field, const json& v, size_t max_bytes,
                            bool allow_blank) {
    if (!v.is_string()) {
      WrongType(line, field, v, "a string");
      return nullptr;
    }
    const std::string& s = v.get_ref<const std::string&>();
    if (max_bytes > 0 && s.size() > max_bytes) {
      Error(line, field, "too-long", std::to_string(s.size()) + " bytes, over the " + std::to_string(max_bytes) +
                                         "-byte limit",
            "shorten it");
      return nullptr;
    }
    if (!allow_blank && IsBlank(s)) {
      Error(line, field, "empty-string", "is empty or only whitespace", "write the text, or remove it");
      return nullptr;
    }
    return &s;
  }

  // Of two spellings of one key, the one present; an error when both are.
  const json* OneOf(const json& r, uint64_t line, const char* key, const char* alias) {
    auto a = r.find(key), b = r.find(alias);
    if (a != r.end() && b != r.end()) {
      Error(line, alias, "duplicate-key", std::string("both \"") + key + "\" and \"" + alias + "\" are given",
            std::string("keep one: \"") + alias + "\" is another name for \"" + key + "\"");
      return nullptr;
    }
    if (a != r.end()) return &*a;
    if (b != r.end()) return &*b;
    return nullptr;
  }

  void Decode(const json& r, uint64_t line, TestCase* c) {
    c->id = "line-" + std::to_string(line);
    if (auto it = r.find("id"); it != r.end()) {
      if (const std::string* id = String(line, "id", *it, kMaxIdBytes, false)) c->id = *id;
    }
    auto prompt = r.find("prompt"), messages = r.find("messages");
    if (prompt != r.end() && messages != r.end()) {
      Error(line, "", "prompt-and-messages", "both \"prompt\" and \"messages\" are given",
            "keep one: \"prompt\" for a single question, \"messages\" for a conversation");
    } else if (prompt == r.end() && messages == r.end()) {
      Error(line, "", "missing-prompt", "neither \"prompt\" nor \"messages\" is given",
            "add \"prompt\": \"the question\" (or \"messages\": [{\"role\": \"user\", \"content\": \"...\"}])");
    } else if (prompt != r.end()) {
      if (const std::string* p = String(line, "prompt", *prompt, 0, false)) c->prompt = *p;
    } else {
      Messages(line, *messages, c);
    }
    if (const json* ref = OneOf(r, line, "referenceResponse", "completion")) {
      const std::string field = r.contains("referenceResponse") ? "referenceResponse" : "completion";
      if (const std::string* s = String(line, field, *ref, 0, true)) c->reference = *s;
    }
    if (const json* kws = OneOf(r, line, "expectedKeywords", "expected_keywords")) {
      Keywords(line, r.contains("expectedKeywords") ? "expectedKeywords" : "expected_keywords", *kws, c);
    }
    if (auto it = r.find("category"); it != r.end()) {
      if (const std::string* s = String(line, "category", *it, kMaxCategoryBytes, true); s && !IsBlank(*s))
        c->category = *s;
    }
    if (auto it = r.find("format"); it != r.end()) Format(line, *it, c);
  }

  void Messages(uint64_t line, const json& v, TestCase* c) {
    if (!v.is_array()) return WrongType(line, "messages", v, "an array of {\"role\", \"content\"} objects");
    if (v.empty())
      return Error(line, "messages", "empty-messages", "the conversation is empty", "add at least one user message");
    if (v.size() > kMaxMessages)
      return Error(line, "messages", "too-many-messages",
                   std::to_string(v.size()) + " messages, over the limit of " + std::to_string(kMaxMessages),
                   "keep the conversation to the turns the question needs");
    for (size_t i = 0; i < v.size(); ++i) {
      const std::string at = "messages[" + std::to_string(i) + "]";
      const json& m = v[i];
      if (!m.is_object()) {
        WrongType(line, at, m, "an object with \"role\" and \"content\"");
        continue;
      }
      text::ChatMessage msg;
      auto role = m.find("role"), content = m.find("content");
      if (role == m.end()) {
        Error(line, at + ".role", "missing-key", "required key \"role\" is missing",
              "add \"role\": \"user\" (or \"system\", \"assistant\")");
      } else if (const std::string* s = String(line, at + ".role", *role, 0, false)) {
        if (*s != "system" && *s != "user" && *s != "assistant")
          Error(line, at + ".role", "bad-role", "role \"" + SanitizeUtf8(*s) + "\" is not system, user or assistant",
                "use one of system, user, assistant");
        msg.role = *s;
      }
      if (content == m.end()) {
        Error(line, at + ".content", "missing-key", "required key \"content\" is missing", "add the message's text");
      } else if (const std::string* s = String(line, at + ".content", *content, 0, false)) {
        msg.content = *s;
      }
      c->messages.push_back(std::move(msg));
    }
    bool roles_known = true;
    for (const auto& m : c->messages)
      roles_known = roles_known && (m.role == "system" || m.role == "user" || m.role == "assistant");
    // The order every chat format renders by (text::CheckConversation, what RenderChat enforces):
    // reported here at the line, not as a failed answer mid-run.
    if (roles_known)
      if (Status order = text::CheckConversation(c->messages); !order.ok())
        Error(line, "messages", "role-order", order.message(),
              "an optional system message first, then user and assistant alternating from a user message");
    if (!c->messages.empty() && c->messages.back().role != "user" && !c->messages.back().role.empty())
      Error(line, "messages[" + std::to_string(v.size() - 1) + "].role", "role-order",
            "the conversation ends with \"" + c->messages.back().role + "\"; the model answers after a user message",
            "end the conversation with the user's question (the reference answer goes in referenceResponse)");
  }

  void Keywords(uint64_t line, const std::string& field, const json& v, TestCase* c) {
    if (!v.is_array()) return WrongType(line, field, v, "an array of strings");
    if (v.size() > kMaxKeywords)
      return Error(line, field, "too-many-keywords",
                   std::to_string(v.size()) + " keywords, over the limit of " + std::to_string(kMaxKeywords),
                   "keep the words a good answer must mention");
    for (size_t i = 0; i < v.size(); ++i) {
      if (const std::string* s = String(line, field + "[" + std::to_string(i) + "]", v[i], kMaxKeywordBytes, false))
        c->keywords.push_back(*s);
    }
  }

  void Format(uint64_t line, const json& v, TestCase* c) {
    const std::string fix = R"(write "format": {"regex": "..."} or "format": {"jsonSchema": {...}})";
    if (!v.is_object()) return WrongType(line, "format", v, "an object");
    auto regex = v.find("regex"), schema = v.find("jsonSchema");
    if (v.size() != 1 || (regex == v.end() && schema == v.end()))
      return Error(line, "format", "bad-format-rule", "a format holds exactly one of \"regex\" and \"jsonSchema\"",
                   fix);
    FormatRule rule;
    if (regex != v.end()) {
      const std::string* s = String(line, "format.regex", *regex, kMaxRegexBytes, true);
      if (!s) return;
      rule.kind = FormatRule::Kind::kRegex;
      rule.regex = *s;
    } else {
      if (!schema->is_object() && !schema->is_boolean())
        return WrongType(line, "format.jsonSchema", *schema, "a JSON Schema object");
      rule.kind = FormatRule::Kind::kJsonSchema;
      rule.schema = *schema;
    }
    if (std::string problem = FormatRuleProblem(rule); !problem.empty()) {
      const std::string field = rule.kind == FormatRule::Kind::kRegex ? "format.regex" : "format.jsonSchema";
      return Error(line, field, "bad-format-rule", SanitizeUtf8(problem),
                   rule.kind == FormatRule::Kind::kRegex
                       ? "write a PCRE2 pattern without backreferences, (*VERBS) or conditionals"
                       : "use the supported JSON Schema keywords (docs/evaluation.md, Test sets)");
    }
    c->format = std::move(rule);
  }

  const std::string& source_;
  TestSet* out_;
  uint64_t records_ = 0;  // non-blank lines
  size_t errors_ = 0;     // in the line being decoded
  size_t omitted_ = 0;
  std::unordered_map<std::string, uint64_t> ids_;
};

}  // namespace

std::string TestCase::DisplayPrompt() const {
  std::string_view text = prompt;
  if (!messages.empty()) {
    text = messages.back().content;
    for (auto it = messages.rbegin(); it != messages.rend(); ++it) {
      if (it->role == "user") {
        text = it->content;
        break;
      }
    }
  }
  // One line: runs of whitespace (newlines included) become one space.
  std::string out;
  out.reserve(text.size());
  bool space = false;
  for (char ch : text) {
    if (ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t' || ch == '\f' || ch == '\v') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(ch);
  }
  return out;
}

bool TestSet::ok() const {
  if (cases.empty()) return false;
  for (const auto& p : problems)
    if (p.severity == Severity::kError) return false;
  return true;
}

std::vector<std::string> TestSet::Categories() const {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& c : cases)
    if (seen.insert(c.category).second) out.push_back(c.category);
  return out;
}

TestSet ParseTestSet(std::string_view text, const std::string& source) {
  TestSet set;
  set.source = source;
  Parser(set.source, &set).Run(text);
  return set;
}

Result<TestSet> ReadTestSet(const std::string& path) {
  Env* env = Env::Default();
  uint64_t size = 0;
  if (Status s = env->GetFileSize(path, &size); !s.ok()) return s;
  if (size > kMaxTestSetBytes)
    return Status::InvalidArgument("test set " + path + " is " + std::to_string(size) + " bytes, over the " +
                                   std::to_string(kMaxTestSetBytes) + "-byte limit");
  std::string text;
  if (Status s = ReadFileToString(env, path, &text); !s.ok()) return s;
  // A file that grew between the size check and the read is caught by ParseTestSet's own check.
  return ParseTestSet(text, path);
}

}  // namespace lathe::eval
