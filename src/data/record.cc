#include "data/record.h"

#include "core/json_nesting.h"
#include "core/utf8.h"

#include <algorithm>
#include <initializer_list>
#include <string>

namespace lathe::data {
namespace {

using nlohmann::json;

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

bool IsBlank(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  });
}

// Collects problems for one record; `ok` turns false at the first error.
class Checker {
 public:
  explicit Checker(std::vector<Problem>* out) : out_(out) {}
  bool ok() const { return ok_; }

  void Error(std::string field, std::string code, std::string message, std::string fix) {
    ok_ = false;
    out_->push_back(Problem{Severity::kError, "", 0, 0, std::move(field), std::move(code),
                            std::move(message), std::move(fix)});
  }

  // Every key of obj must be in allowed.
  void OnlyKeys(const json& obj, const std::string& where, std::initializer_list<const char*> allowed,
                const std::string& format_desc) {
    for (const auto& item : obj.items()) {
      const std::string& key = item.key();
      bool known = std::any_of(allowed.begin(), allowed.end(),
                               [&](const char* a) { return key == a; });
      if (!known) {
        std::string list;
        for (const char* a : allowed) list += std::string(list.empty() ? "" : ", ") + a;
        Error(Join(where, key), "extra-key", "unexpected key \"" + key + "\"",
              "remove it: " + format_desc + " allows only " + list);
      }
    }
  }

  // obj[key] must exist and be a non-blank string; returns it or nullptr.
  const std::string* Text(const json& obj, const std::string& where, const char* key,
                          const std::string& fix_missing) {
    const std::string field = Join(where, key);
    auto it = obj.find(key);
    if (it == obj.end()) {
      Error(field, "missing-key", "required key \"" + std::string(key) + "\" is missing",
            fix_missing);
      return nullptr;
    }
    return StringValue(*it, field);
  }

  const std::string* StringValue(const json& v, const std::string& field) {
    if (!v.is_string()) {
      Error(field, "wrong-type", "expected a string, got " + TypeName(v),
            "write the text as a JSON string in double quotes");
      return nullptr;
    }
    const auto& s = v.get_ref<const std::string&>();
    if (s.empty()) {
      Error(field, "empty-string", "is empty", "give it text, or remove the record");
      return nullptr;
    }
    if (IsBlank(s)) {
      Error(field, "empty-string", "contains only whitespace", "give it text, or remove the record");
      return nullptr;
    }
    return &s;
  }

  static std::string Join(const std::string& where, const std::string& key) {
    return where.empty() ? key : where + "." + key;
  }

 private:
  std::vector<Problem>* out_;
  bool ok_ = true;
};

void DecodePromptCompletion(const json& r, Example* ex, Checker& c) {
  c.OnlyKeys(r, "", {"prompt", "completion"}, "a prompt-completion record");
  const std::string* p = c.Text(r, "", "prompt", "add \"prompt\": the input the model is given");
  const std::string* q =
      c.Text(r, "", "completion", "add \"completion\": the answer the model should learn");
  if (p) ex->turns.push_back({Role::kUser, *p});
  if (q) ex->turns.push_back({Role::kAssistant, *q});
}

void DecodePretraining(const json& r, Example* ex, Checker& c) {
  c.OnlyKeys(r, "", {"input"}, "a continued pre-training record");
  if (const std::string* s = c.Text(r, "", "input", "add \"input\": the text to train on"))
    ex->input = *s;
}

// Role order shared by chat and conversation records: first user, alternating, last assistant.
void CheckTurnOrder(const Example& ex, const std::string& messages_field, size_t index_offset,
                    Checker& c) {
  if (ex.turns.empty()) return;
  for (size_t i = 0; i < ex.turns.size(); ++i) {
    Role want = i % 2 == 0 ? Role::kUser : Role::kAssistant;
    if (ex.turns[i].role != want) {
      std::string field = messages_field + "[" + std::to_string(i + index_offset) + "].role";
      c.Error(field, "role-order",
              std::string("expected \"") + RoleName(want) + "\", got \"" +
                  RoleName(ex.turns[i].role) + "\"",
              "messages must alternate user, assistant, user, ... starting with user");
      return;
    }
  }
  if (ex.turns.back().role != Role::kAssistant) {
    c.Error(messages_field + "[" + std::to_string(ex.turns.size() - 1 + index_offset) + "]",
            "last-not-assistant", "the last message is from the user",
            "end the conversation with the assistant message the model should learn");
  }
}

bool ParseRole(const json& msg, const std::string& field, bool allow_system, Checker& c,
               std::string* role_out) {
  auto it = msg.find("role");
  if (it == msg.end()) {
    c.Error(field + ".role", "missing-key", "required key \"role\" is missing",
            "add \"role\": \"user\" or \"assistant\"");
    return false;
  }
  if (!it->is_string()) {
    c.Error(field + ".role", "wrong-type", "expected a string, got " + TypeName(*it),
            "use \"user\" or \"assistant\"");
    return false;
  }
  const auto& role = it->get_ref<const std::string&>();
  if (role == "user" || role == "assistant" || (allow_system && role == "system")) {
    *role_out = role;
    return true;
  }
  c.Error(field + ".role", "bad-role", "unknown role \"" + role + "\"",
          allow_system ? "use \"user\" or \"assistant\" (\"system\" only as the first message)"
                       : "use \"user\" or \"assistant\"");
  return false;
}

void DecodeChat(const json& r, Example* ex, Checker& c) {
  c.OnlyKeys(r, "", {"system", "messages"}, "a chat record");
  bool has_system = r.contains("system");
  if (has_system) {
    if (const std::string* s = c.StringValue(r["system"], "system")) ex->system = *s;
  }
  auto it = r.find("messages");
  if (!it->is_array()) {
    c.Error("messages", "wrong-type", "expected an array of messages, got " + TypeName(*it),
            "write \"messages\": [{\"role\": \"user\", \"content\": ...}, ...]");
    return;
  }
  const json& msgs = *it;
  size_t first = 0;
  for (size_t i = 0; i < msgs.size(); ++i) {
    const std::string field = "messages[" + std::to_string(i) + "]";
    const json& m = msgs[i];
    if (!m.is_object()) {
      c.Error(field, "wrong-type", "expected a message object, got " + TypeName(m),
              "write {\"role\": \"user\", \"content\": \"...\"}");
      continue;
    }
    c.OnlyKeys(m, field, {"role", "content"}, "a chat message");
    // OpenAI style: a leading system message instead of the top-level "system" key.
    bool system_allowed = i == 0 && !has_system;
    std::string role;
    bool role_ok = ParseRole(m, field, system_allowed, c, &role);
    const std::string* text = c.Text(m, field, "content", "add \"content\": the message text");
    if (!role_ok) continue;
    if (role == "system") {
      if (text) ex->system = *text;
      first = 1;
      continue;
    }
    ex->turns.push_back({role == "user" ? Role::kUser : Role::kAssistant, text ? *text : ""});
  }
  if (ex->turns.size() < 2) {
    c.Error("messages", "too-few-messages",
            "needs at least one user and one assistant message, has " +
                std::to_string(ex->turns.size()),
            "add the user's message and the assistant's answer");
    return;
  }
  CheckTurnOrder(*ex, "messages", first, c);
}

void DecodeConversation(const json& r, Example* ex, Checker& c) {
  c.OnlyKeys(r, "", {"schemaVersion", "system", "messages"}, "a bedrock-conversation-2024 record");
  const json& version = r["schemaVersion"];
  if (!version.is_string() || version.get_ref<const std::string&>() != "bedrock-conversation-2024")
    c.Error("schemaVersion", "bad-schema-version",
            "expected \"bedrock-conversation-2024\", got " + version.dump(),
            "set \"schemaVersion\": \"bedrock-conversation-2024\"");
  // Text of a content-block array: [{"text": "..."}, ...].
  auto blocks_text = [&](const json& blocks, const std::string& field, std::string* out) {
    if (!blocks.is_array() || blocks.empty()) {
      c.Error(field, "wrong-type",
              "expected a non-empty array of content blocks, got " + TypeName(blocks),
              "write [{\"text\": \"...\"}]");
      return;
    }
    for (size_t k = 0; k < blocks.size(); ++k) {
      const std::string bf = field + "[" + std::to_string(k) + "]";
      const json& b = blocks[k];
      if (!b.is_object()) {
        c.Error(bf, "wrong-type", "expected a content block object, got " + TypeName(b),
                "write {\"text\": \"...\"}");
        continue;
      }
      if (!b.contains("text")) {
        std::string kind = b.empty() ? "empty" : b.begin().key();
        c.Error(bf, "unsupported-content", "content block of type \"" + kind + "\"",
                "lathe trains text models: use text blocks {\"text\": \"...\"} only");
        continue;
      }
      c.OnlyKeys(b, bf, {"text"}, "a text content block");
      if (const std::string* s = c.StringValue(b["text"], bf + ".text")) {
        if (!out->empty()) out->push_back('\n');
        *out += *s;
      }
    }
  };
  if (r.contains("system")) blocks_text(r["system"], "system", &ex->system);
  auto it = r.find("messages");
  if (it == r.end()) {
    c.Error("messages", "missing-key", "required key \"messages\" is missing",
            "add \"messages\": [{\"role\": \"user\", \"content\": [{\"text\": \"...\"}]}, ...]");
    return;
  }
  if (!it->is_array()) {
    c.Error("messages", "wrong-type", "expected an array of messages, got " + TypeName(*it),
            "write \"messages\": [{\"role\": \"user\", \"content\": [{\"text\": \"...\"}]}]");
    return;
  }
  for (size_t i = 0; i < it->size(); ++i) {
    const std::string field = "messages[" + std::to_string(i) + "]";
    const json& m = (*it)[i];
    if (!m.is_object()) {
      c.Error(field, "wrong-type", "expected a message object, got " + TypeName(m),
              "write {\"role\": \"user\", \"content\": [{\"text\": \"...\"}]}");
      continue;
    }
    c.OnlyKeys(m, field, {"role", "content"}, "a conversation message");
    std::string role;
    bool role_ok = ParseRole(m, field, false, c, &role);
    std::string text;
    if (!m.contains("content"))
      c.Error(field + ".content", "missing-key", "required key \"content\" is missing",
              "add \"content\": [{\"text\": \"...\"}]");
    else
      blocks_text(m["content"], field + ".content", &text);
    if (role_ok) ex->turns.push_back({role == "user" ? Role::kUser : Role::kAssistant, text});
  }
  if (ex->turns.size() < 2) {
    c.Error("messages", "too-few-messages",
            "needs at least one user and one assistant message, has " +
                std::to_string(ex->turns.size()),
            "add the user's message and the assistant's answer");
    return;
  }
  CheckTurnOrder(*ex, "messages", 0, c);
}

}  // namespace

Format DetectFormat(const json& r) {
  if (!r.is_object()) return Format::kAuto;
  if (r.contains("schemaVersion")) return Format::kConversation;
  if (r.contains("messages")) return Format::kChat;
  if (r.contains("prompt") || r.contains("completion")) return Format::kPromptCompletion;
  if (r.contains("input")) return Format::kPretraining;
  return Format::kAuto;
}

bool DecodeExample(const json& record, Format format, Example* out,
                   std::vector<Problem>* problems) {
  Checker c(problems);
  *out = Example{};
  out->format = format;
  if (!record.is_object()) {
    c.Error("", "not-object", "expected a JSON object, got " + TypeName(record),
            "write one JSON object {...} per line");
    return false;
  }
  switch (format) {
    case Format::kPromptCompletion: DecodePromptCompletion(record, out, c); break;
    case Format::kChat:
      if (!record.contains("messages")) {
        c.Error("messages", "missing-key", "required key \"messages\" is missing",
                "add \"messages\": [{\"role\": \"user\", \"content\": \"...\"}, ...]");
        break;
      }
      DecodeChat(record, out, c);
      break;
    case Format::kConversation:
      if (!record.contains("schemaVersion")) {
        c.Error("schemaVersion", "missing-key", "required key \"schemaVersion\" is missing",
                "add \"schemaVersion\": \"bedrock-conversation-2024\"");
        break;
      }
      DecodeConversation(record, out, c);
      break;
    case Format::kPretraining: DecodePretraining(record, out, c); break;
    case Format::kAuto: {
      std::string keys;
      for (const auto& item : record.items())
        keys += (keys.empty() ? "\"" : ", \"") + item.key() + "\"";
      c.Error("", "unknown-format",
              "the record matches no dataset format (keys: " + (keys.empty() ? "none" : keys) + ")",
              "use {\"prompt\", \"completion\"}, {\"messages\"}, "
              "{\"schemaVersion\": \"bedrock-conversation-2024\", ...} or {\"input\"}");
      break;
    }
  }
  return c.ok();
}

namespace {

// Finds where the parser stops on a line that json::parse rejected with something other than a
// parse_error (a number too large for a double throws out_of_range without a position).
class ErrorPositionSax final : public nlohmann::json_sax<json> {
 public:
  size_t position = 0;
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t pos, const std::string&, const nlohmann::detail::exception&) override {
    position = pos;
    return false;
  }
};

Problem InvalidJson(size_t column, std::string what) {
  return Problem{Severity::kError, "", 0, std::max<size_t>(column, 1), "", "invalid-json",
                 "invalid JSON: " + SanitizeUtf8(what),
                 "each line must be one complete JSON object; check quotes, commas and "
                 "brackets near this column"};
}

}  // namespace

bool ParseJsonLine(std::string_view line, json* out, Problem* problem, int max_depth) {
  if (!JsonNestingWithin(line, max_depth)) {
    *problem = Problem{Severity::kError, "", 0, 0, "", "too-deep",
                       "JSON nests deeper than " + std::to_string(max_depth) + " levels",
                       "dataset records need only a few levels: check the line's structure"};
    return false;
  }
  // nlohmann treats a NUL byte as the end of input and skips a leading BOM, so it would accept
  // `{...}<NUL>junk` and a BOM in the middle of a file. JSON allows neither.
  if (size_t nul = line.find('\0'); nul != std::string_view::npos) {
    *problem = InvalidJson(nul + 1, "NUL byte (0x00); JSON text cannot contain one");
    return false;
  }
  if (line.substr(0, 3) == "\xEF\xBB\xBF") {
    *problem = InvalidJson(1, "byte-order mark (U+FEFF) is allowed only at the start of the file");
    return false;
  }
  try {
    *out = json::parse(line.begin(), line.end());
    return true;
  } catch (const json::parse_error& e) {
    // nlohmann's text: "[json.exception.parse_error.101] parse error at line 1, column 7: syntax
    // error while parsing value - invalid literal; last read: 'tru,'". Keep what follows the
    // position, which the caller reports as a column instead.
    std::string what = e.what();
    if (auto pos = what.find("column "); pos != std::string::npos) {
      if (auto colon = what.find(": ", pos); colon != std::string::npos) what = what.substr(colon + 2);
    }
    *problem = InvalidJson(e.byte, what);
    return false;
  } catch (const json::exception& e) {
    // "[json.exception.out_of_range.406] number overflow parsing '1e999'": drop the prefix and
    // find the position with a second, non-throwing pass.
    std::string what = e.what();
    if (auto end = what.find("] "); what.rfind("[json.exception.", 0) == 0 && end != std::string::npos)
      what = what.substr(end + 2);
    ErrorPositionSax sax;
    json::sax_parse(line.begin(), line.end(), &sax);
    *problem = InvalidJson(sax.position, what);
    return false;
  }
}

}  // namespace lathe::data
