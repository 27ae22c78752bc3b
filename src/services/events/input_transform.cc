#include "services/events/input_transform.h"

#include <map>

#include "core/json_nesting.h"
#include "services/events/errors.h"
#include "services/events/names.h"

namespace lathe::events {
namespace {

using json = nlohmann::json;

bool Digit(char c) { return c >= '0' && c <= '9'; }

// The template's placeholders, found as "<name>" where name is one the caller knows.
struct Substitution {
  std::map<std::string, const json*> values;  // null pointer: the path found nothing
  bool json_mode = false;
};

bool IsJsonTemplate(std::string_view t) {
  size_t i = 0;
  while (i < t.size() && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r')) ++i;
  return i < t.size() && (t[i] == '{' || t[i] == '[' || t[i] == '"');
}

// The JSON text of a string's content, without its quotes.
std::string EscapedContent(const std::string& s) {
  std::string q = json(s).dump(-1, ' ', false, json::error_handler_t::replace);
  return q.substr(1, q.size() - 2);
}

std::string Dump(const json& v) { return v.dump(-1, ' ', false, json::error_handler_t::replace); }

// Replaces each known <name> in the template; unknown ones stay as they are (AWS leaves them).
std::string Substitute(std::string_view tmpl, const Substitution& sub) {
  std::string out;
  out.reserve(tmpl.size());
  bool in_string = false;
  for (size_t i = 0; i < tmpl.size(); ++i) {
    const char c = tmpl[i];
    if (sub.json_mode && in_string && c == '\\' && i + 1 < tmpl.size()) {
      out += c;
      out += tmpl[++i];
      continue;
    }
    if (sub.json_mode && c == '"') in_string = !in_string;
    if (c == '<') {
      const size_t close = tmpl.find('>', i + 1);
      if (close != std::string_view::npos && close - i - 1 <= 256) {
        auto it = sub.values.find(std::string(tmpl.substr(i + 1, close - i - 1)));
        if (it != sub.values.end()) {
          const json* v = it->second;
          if (!sub.json_mode) {
            out += v == nullptr ? "" : v->is_string() ? v->get<std::string>() : Dump(*v);
          } else if (in_string) {
            out += v == nullptr ? "" : EscapedContent(v->is_string() ? v->get<std::string>() : Dump(*v));
          } else {
            out += v == nullptr ? "null" : Dump(*v);
          }
          i = close;
          continue;
        }
      }
    }
    out += c;
  }
  return out;
}

}  // namespace

std::optional<JsonPath> JsonPath::Parse(std::string_view p) {
  if (p.empty() || p.size() > kMaxJsonPathBytes || p[0] != '$') return std::nullopt;
  JsonPath path;
  size_t i = 1;
  while (i < p.size()) {
    if (p[i] == '.') {
      size_t j = i + 1;
      while (j < p.size() && p[j] != '.' && p[j] != '[') ++j;
      if (j == i + 1) return std::nullopt;
      path.steps_.emplace_back(std::string(p.substr(i + 1, j - i - 1)));
      i = j;
    } else if (p[i] == '[') {
      if (i + 1 < p.size() && (p[i + 1] == '\'' || p[i + 1] == '"')) {
        const char q = p[i + 1];
        const size_t end = p.find(q, i + 2);
        if (end == std::string_view::npos || end + 1 >= p.size() || p[end + 1] != ']' || end == i + 2)
          return std::nullopt;
        path.steps_.emplace_back(std::string(p.substr(i + 2, end - i - 2)));
        i = end + 2;
      } else {
        size_t j = i + 1, n = 0;
        while (j < p.size() && Digit(p[j]) && j - i <= 9) n = n * 10 + static_cast<size_t>(p[j++] - '0');
        if (j == i + 1 || j >= p.size() || p[j] != ']') return std::nullopt;
        path.steps_.emplace_back(n);
        i = j + 1;
      }
    } else {
      return std::nullopt;
    }
  }
  return path;
}

const json* JsonPath::Find(const json& doc) const {
  const json* at = &doc;
  for (const auto& step : steps_) {
    if (const auto* key = std::get_if<std::string>(&step)) {
      if (!at->is_object()) return nullptr;
      auto it = at->find(*key);
      if (it == at->end()) return nullptr;
      at = &*it;
    } else {
      const size_t index = std::get<size_t>(step);
      if (!at->is_array() || index >= at->size()) return nullptr;
      at = &(*at)[index];
    }
  }
  return at;
}

Status CheckTargetInput(const Target& t) {
  const int given = (t.input ? 1 : 0) + (t.input_path ? 1 : 0) + (t.input_transformer ? 1 : 0);
  if (given > 1)
    return ValidationError("Target " + Quoted(t.id) +
                           ": only one of Input, InputPath and InputTransformer may be given.");
  if (t.input) {
    LATHE_RETURN_IF_ERROR(CheckLength(*t.input, "targets.member.input", 0, kMaxInputBytes));
    if (!JsonNestingWithin(*t.input, kMaxRequestJsonDepth) || !json::accept(*t.input))
      return ValidationError("Target " + Quoted(t.id) + " Input is not valid JSON text.");
  }
  if (t.input_path) {
    LATHE_RETURN_IF_ERROR(CheckLength(*t.input_path, "targets.member.inputPath", 0, kMaxJsonPathBytes));
    if (!JsonPath::Parse(*t.input_path))
      return ValidationError("Target " + Quoted(t.id) + " InputPath " + Quoted(*t.input_path) +
                             " is not a valid JSON path.");
  }
  if (t.input_transformer) {
    const InputTransformer& x = *t.input_transformer;
    if (x.input_paths.size() > kMaxInputPaths)
      return ValidationError("Target " + Quoted(t.id) + ": InputPathsMap has more than 100 entries.");
    Substitution sub;
    const json null_value;
    for (const auto& [key, path] : x.input_paths) {
      LATHE_RETURN_IF_ERROR(CheckLength(key, "targets.member.inputTransformer.inputPathsMap.key", 1, 256));
      for (char c : key)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || Digit(c) || c == '_' || c == '-'))
          return ValidationError("Target " + Quoted(t.id) + ": InputPathsMap key " + Quoted(key) +
                                 " may hold only letters, digits, '_' and '-'.");
      if (!JsonPath::Parse(path))
        return ValidationError("Target " + Quoted(t.id) + ": InputPathsMap value " + Quoted(path) + " for key " +
                               Quoted(key) + " is not a valid JSON path.");
      sub.values[key] = nullptr;
    }
    LATHE_RETURN_IF_ERROR(
        CheckLength(x.input_template, "targets.member.inputTransformer.inputTemplate", 1, kMaxInputBytes));
    sub.json_mode = IsJsonTemplate(x.input_template);
    if (sub.json_mode) {
      for (const char* k : {"aws.events.rule-arn", "aws.events.rule-name", "aws.events.event",
                            "aws.events.event.json", "aws.events.event.ingestion-time"})
        sub.values[k] = nullptr;
      // With every placeholder as null (outside quotes) or "" (inside), the template must be JSON.
      const std::string probe = Substitute(x.input_template, sub);
      if (!JsonNestingWithin(probe, kMaxRequestJsonDepth) || !json::accept(probe))
        return ValidationError("Target " + Quoted(t.id) +
                               ": InputTemplate is not valid JSON once its placeholders are filled in.");
    }
  }
  return Status::Ok();
}

std::string TransformInput(const Target& t, const json& envelope, const std::string& rule_arn,
                           const std::string& rule_name, int64_t ingestion_ms) {
  if (t.input) return *t.input;
  if (t.input_path) {
    std::optional<JsonPath> path = JsonPath::Parse(*t.input_path);
    const json* v = path ? path->Find(envelope) : nullptr;
    return v ? Dump(*v) : "null";
  }
  if (!t.input_transformer) return Dump(envelope);
  const InputTransformer& x = *t.input_transformer;
  Substitution sub;
  sub.json_mode = IsJsonTemplate(x.input_template);
  const json arn = rule_arn, name = rule_name, ingestion = EventTime(ingestion_ms);
  sub.values["aws.events.rule-arn"] = &arn;
  sub.values["aws.events.rule-name"] = &name;
  sub.values["aws.events.event"] = &envelope;
  sub.values["aws.events.event.json"] = &envelope;
  sub.values["aws.events.event.ingestion-time"] = &ingestion;
  for (const auto& [key, path_text] : x.input_paths) {
    std::optional<JsonPath> path = JsonPath::Parse(path_text);
    sub.values[key] = path ? path->Find(envelope) : nullptr;
  }
  return Substitute(x.input_template, sub);
}

}  // namespace lathe::events
