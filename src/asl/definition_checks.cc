// The field readers of the definition validator: types, JSONPath forms, payload templates,
// Retry/Catch and Choice rules, each problem reported in AWS's words at the field's location.
#include <algorithm>
#include <cmath>
#include <limits>

#include "asl/definition_internal.h"
#include "asl/intrinsics.h"
#include "asl/timestamp.h"
#include "core/utf8.h"

namespace lathe::asl::internal {
namespace {

std::string MustBe(std::string_view key, std::string_view type) {
  return "The value for the field '" + std::string(key) + "' must be " + std::string(type);
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// The comparators a Choice rule may use, and what their operand must be.
enum class Operand { kString, kNumber, kBoolean, kTimestamp, kPath };

const std::vector<std::pair<std::string, Operand>>& Comparators() {
  static const auto* kComparators = [] {
    auto* list = new std::vector<std::pair<std::string, Operand>>();
    for (const char* relation : {"Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals"}) {
      list->push_back({std::string("String") + relation, Operand::kString});
      list->push_back({std::string("String") + relation + "Path", Operand::kPath});
      list->push_back({std::string("Numeric") + relation, Operand::kNumber});
      list->push_back({std::string("Numeric") + relation + "Path", Operand::kPath});
      list->push_back({std::string("Timestamp") + relation, Operand::kTimestamp});
      list->push_back({std::string("Timestamp") + relation + "Path", Operand::kPath});
    }
    list->push_back({"StringMatches", Operand::kString});
    list->push_back({"BooleanEquals", Operand::kBoolean});
    list->push_back({"BooleanEqualsPath", Operand::kPath});
    for (const char* test : {"IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp"})
      list->push_back({test, Operand::kBoolean});
    return list;
  }();
  return *kComparators;
}

std::string ComparatorList() {
  std::string out;
  for (const auto& [name, operand] : Comparators()) out += (out.empty() ? "" : ", ") + name;
  return out;
}

}  // namespace

void Checker::Error(std::string code, std::string message, std::string location) {
  ++error_count_;
  if (diagnostics_.size() >= kMaxDiagnostics) return;
  Diagnostic d;
  d.code = std::move(code);
  // Messages quote the definition (a parser's "last read", a name cut at 100 bytes): always
  // valid UTF-8, so the API can put them in JSON.
  d.message = SanitizeUtf8(message);
  d.location = SanitizeUtf8(location);
  diagnostics_.push_back(std::move(d));
}

void Checker::Warn(std::string code, std::string message, std::string location) {
  if (diagnostics_.size() >= kMaxDiagnostics) return;
  Diagnostic d;
  d.severity = "WARNING";
  d.code = std::move(code);
  d.message = SanitizeUtf8(message);
  d.location = SanitizeUtf8(location);
  diagnostics_.push_back(std::move(d));
}

bool LooksLikePath(std::string_view text) {
  return text.substr(0, 2) == "$." || text.substr(0, 2) == "$[" || text.substr(0, 3) == "$$." || text == "$" ||
         LooksLikeIntrinsic(text);
}

bool Checker::CountState(const std::string& location) {
  if (too_many_states_) return false;
  if (++states_ > kMaxStates) {
    too_many_states_ = true;
    Schema("The state machine has more than " + std::to_string(kMaxStates) + " states (all levels together)",
           location);
    return false;
  }
  return true;
}

void Checker::NoteStateName(const std::string& name, const std::string& location) {
  if (!state_names_.insert(name).second) Error("DUPLICATE_STATE_NAME", "Duplicate State name: " + name, location);
  if (name.empty() || name.size() > kMaxStateNameLength)
    Error("INVALID_STATE_NAME",
          "State name '" + name.substr(0, 100) + "' must be 1 to " + std::to_string(kMaxStateNameLength) +
              " characters long",
          location);
}

const std::string* Checker::String(const json& obj, const char* key, const std::string& location) {
  auto it = obj.find(key);
  if (it == obj.end()) return nullptr;
  if (!it->is_string()) {
    Schema(MustBe(key, "a STRING"), Child(location, key));
    return nullptr;
  }
  return &it->get_ref<const std::string&>();
}

const json* Checker::Object(const json& obj, const char* key, const std::string& location) {
  auto it = obj.find(key);
  if (it == obj.end()) return nullptr;
  if (!it->is_object()) {
    Schema(MustBe(key, "an OBJECT"), Child(location, key));
    return nullptr;
  }
  return &*it;
}

const json* Checker::Array(const json& obj, const char* key, const std::string& location) {
  auto it = obj.find(key);
  if (it == obj.end()) return nullptr;
  if (!it->is_array()) {
    Schema(MustBe(key, "an ARRAY"), Child(location, key));
    return nullptr;
  }
  return &*it;
}

std::optional<bool> Checker::Bool(const json& obj, const char* key, const std::string& location) {
  auto it = obj.find(key);
  if (it == obj.end()) return std::nullopt;
  if (!it->is_boolean()) {
    Schema(MustBe(key, "a BOOLEAN"), Child(location, key));
    return std::nullopt;
  }
  return it->get<bool>();
}

std::optional<double> Checker::Number(const json& obj, const char* key, const std::string& location) {
  auto it = obj.find(key);
  if (it == obj.end()) return std::nullopt;
  if (!it->is_number()) {
    Schema(MustBe(key, "a NUMBER"), Child(location, key));
    return std::nullopt;
  }
  return it->get<double>();
}

std::optional<int64_t> Checker::Integer(const json& obj, const char* key, const std::string& location,
                                        int64_t minimum, const char* what, int64_t maximum) {
  auto it = obj.find(key);
  if (it == obj.end()) return std::nullopt;
  if (!it->is_number_integer()) {
    Schema(MustBe(key, what), Child(location, key));
    return std::nullopt;
  }
  int64_t value = it->is_number_unsigned() && it->get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max())
                      ? std::numeric_limits<int64_t>::max()
                      : it->get<int64_t>();
  if (value < minimum) {
    Schema(MustBe(key, what), Child(location, key));
    return std::nullopt;
  }
  if (value > maximum) {
    Schema(MustBe(key, "at most " + std::to_string(maximum)), Child(location, key));
    return std::nullopt;
  }
  return value;
}

std::string Checker::Target(const json& obj, const char* key, const std::string& location) {
  const std::string* name = String(obj, key, location);
  if (!name) return "";
  if (name->empty()) Error(kMissingTarget, "Missing 'Next' target: ", Child(location, key));
  return *name;
}

void Checker::Require(const json& obj, std::initializer_list<const char*> keys, const std::string& location) {
  std::string missing;
  for (const char* key : keys)
    if (!obj.contains(key)) missing += (missing.empty() ? "" : ", ") + std::string(key);
  if (!missing.empty()) Schema("These fields are required: [" + missing + "]", At(location));
}

void Checker::OnlyFields(const json& obj, const std::set<std::string>& allowed, const std::string& location) {
  for (auto it = obj.begin(); it != obj.end(); ++it)
    if (!allowed.count(it.key())) Schema("Field '" + it.key().substr(0, 200) + "' is not supported", At(location));
}

bool Checker::Exclusive(const json& obj, const char* a, const char* b, const std::string& location) {
  if (!obj.contains(a) || !obj.contains(b)) return true;
  Schema(std::string("There should only be one of the following fields: [") + a + ", " + b + "]", Child(location, a));
  return false;
}

std::optional<JsonPath> Checker::Path(const json& obj, const char* key, const std::string& location, bool reference,
                                      bool allow_context) {
  const std::string* text = String(obj, key, location);
  if (!text) return std::nullopt;
  std::string where = Child(location, key);
  if (reference && (text->empty() || (*text)[0] != '$')) {
    Schema("Value is not a Reference Path: Reference path didn't start with '$'", where);
    return std::nullopt;
  }
  auto path = JsonPath::Parse(*text);
  if (!path.ok()) {
    Schema(MustBe(key, "a valid JSONPath"), where);
    return std::nullopt;
  }
  if (reference && !path->is_reference()) {
    Schema("Value is not a Reference Path: wildcards, filters, slices, unions and '..' name more than one node",
           where);
    return std::nullopt;
  }
  if (!allow_context && path->is_context()) {
    Schema(MustBe(key, "a path into the state's input, not the context object ($$)"), where);
    return std::nullopt;
  }
  return std::move(path).value();
}

PathField Checker::PathOrNull(const json& obj, const char* key, const std::string& location, bool reference) {
  PathField field;
  auto it = obj.find(key);
  if (it == obj.end()) return field;
  if (it->is_null()) {
    field.kind = PathField::Kind::kNull;
    return field;
  }
  // ResultPath writes into the input: it can name no place in the context object.
  auto path = Path(obj, key, location, reference, /*allow_context=*/!reference);
  if (path) {
    field.kind = PathField::Kind::kPath;
    field.path = std::move(*path);
  }
  return field;
}

void Checker::CheckTemplateKeys(const json& value, const std::string& location) {
  if (value.is_array()) {
    for (size_t i = 0; i < value.size(); ++i) CheckTemplateKeys(value[i], Element(location, i));
    return;
  }
  if (!value.is_object()) return;
  for (auto it = value.begin(); it != value.end(); ++it) {
    std::string where = Child(location, it.key());
    if (!EndsWith(it.key(), ".$")) {
      if (it->is_string() && LooksLikePath(it->get_ref<const std::string&>()))
        Warn("NO_DOLLAR",
             "The value for the field '" + it.key() +
                 "' looks like a JSONPath or an intrinsic function call, but the field name does not end with '.$'",
             where);
      CheckTemplateKeys(it.value(), where);
      continue;
    }
    bool ok = false;
    if (it->is_string()) {
      const std::string& text = it->get_ref<const std::string&>();
      ok = LooksLikeIntrinsic(text) ? Intrinsic::Parse(text).ok() : JsonPath::Parse(text).ok();
    }
    if (!ok) Schema(MustBe(it.key(), "a valid JSONPath or a valid intrinsic function call"), where);
  }
}

std::optional<PayloadTemplate> Checker::Template(const json& obj, const char* key, const std::string& location) {
  const json* tmpl = Object(obj, key, location);
  if (!tmpl) return std::nullopt;
  std::string where = Child(location, key);
  size_t before = error_count_;
  CheckTemplateKeys(*tmpl, where);
  if (error_count_ != before) return std::nullopt;
  auto parsed = PayloadTemplate::Parse(*tmpl, where);
  if (!parsed.ok()) {
    Schema(parsed.status().message(), where);
    return std::nullopt;
  }
  return std::move(parsed).value();
}

namespace {

// ErrorEquals of a Retrier or Catcher: a non-empty list of names, States.ALL alone in it and
// only in the list's last entry.
std::vector<std::string> ErrorEquals(Checker& c, const json& entry, const std::string& location, bool last) {
  std::vector<std::string> names;
  const json* list = c.Array(entry, "ErrorEquals", location);
  if (!list) return names;
  std::string where = Child(location, "ErrorEquals");
  if (list->empty()) {
    c.Schema("Value cannot be empty", where);
    return names;
  }
  for (size_t i = 0; i < list->size(); ++i) {
    if (!(*list)[i].is_string()) {
      c.Schema("The value for the field 'ErrorEquals' must be an ARRAY of STRINGs", Element(where, i));
      continue;
    }
    names.push_back((*list)[i].get<std::string>());
  }
  bool has_all = std::find(names.begin(), names.end(), kStatesAll) != names.end();
  if (has_all && (names.size() > 1 || !last)) c.Schema("States.ALL must appear alone and at end of list", where);
  return names;
}

}  // namespace

std::vector<Retrier> Checker::Retry(const json& obj, const std::string& location) {
  std::vector<Retrier> out;
  const json* list = Array(obj, "Retry", location);
  if (!list) return out;
  std::string base = Child(location, "Retry");
  static const std::set<std::string> kFields = {"ErrorEquals", "IntervalSeconds", "MaxAttempts",   "BackoffRate",
                                                "MaxDelaySeconds", "JitterStrategy", "Comment"};
  for (size_t i = 0; i < list->size(); ++i) {
    std::string where = Element(base, i);
    const json& entry = (*list)[i];
    if (!entry.is_object()) {
      Schema("The value for the field 'Retry' must be an ARRAY of OBJECTs", where);
      continue;
    }
    OnlyFields(entry, kFields, where);
    Require(entry, {"ErrorEquals"}, where);
    Retrier r;
    r.error_equals = ErrorEquals(*this, entry, where, i + 1 == list->size());
    if (auto v = Seconds(entry, "IntervalSeconds", where, 1, "a positive integer")) r.interval_seconds = double(*v);
    if (auto v = Integer(entry, "MaxAttempts", where, 0, "a non-negative integer"))
      r.max_attempts = int(std::min<int64_t>(*v, 99999999));
    if (auto v = Number(entry, "BackoffRate", where)) {
      if (*v < 1.0 || !std::isfinite(*v))
        Schema(MustBe("BackoffRate", "greater than or equal to 1.0"), Child(where, "BackoffRate"));
      else
        r.backoff_rate = *v;
    }
    if (auto v = Seconds(entry, "MaxDelaySeconds", where, 1, "a positive integer")) r.max_delay_seconds = double(*v);
    if (const std::string* jitter = String(entry, "JitterStrategy", where)) {
      if (*jitter == "FULL" || *jitter == "NONE")
        r.full_jitter = *jitter == "FULL";
      else
        Schema("Value should be one of the following: [NONE, FULL]", Child(where, "JitterStrategy"));
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<Catcher> Checker::Catch(const json& obj, const std::string& location) {
  std::vector<Catcher> out;
  const json* list = Array(obj, "Catch", location);
  if (!list) return out;
  std::string base = Child(location, "Catch");
  static const std::set<std::string> kFields = {"ErrorEquals", "Next", "ResultPath", "Comment"};
  for (size_t i = 0; i < list->size(); ++i) {
    std::string where = Element(base, i);
    const json& entry = (*list)[i];
    if (!entry.is_object()) {
      Schema("The value for the field 'Catch' must be an ARRAY of OBJECTs", where);
      continue;
    }
    OnlyFields(entry, kFields, where);
    Require(entry, {"ErrorEquals", "Next"}, where);
    Catcher c;
    c.error_equals = ErrorEquals(*this, entry, where, i + 1 == list->size());
    c.result_path = PathOrNull(entry, "ResultPath", where, /*reference=*/true);
    c.next = Target(entry, "Next", where);
    out.push_back(std::move(c));
  }
  return out;
}

ChoiceRule Checker::Rule(const json& raw, const std::string& location, bool top, size_t depth) {
  ChoiceRule rule;
  if (!raw.is_object()) {
    Schema("A choice rule must be an OBJECT", location);
    return rule;
  }
  if (depth > kMaxExpressionDepth) {
    Schema("Choice rules nest more than " + std::to_string(kMaxExpressionDepth) + " levels deep", location);
    return rule;
  }
  std::set<std::string> allowed = {"And", "Or", "Not", "Variable", "Comment"};
  if (top) allowed.insert("Next");
  std::vector<std::string> comparators;
  for (const auto& [name, operand] : Comparators()) {
    allowed.insert(name);
    if (raw.contains(name)) comparators.push_back(name);
  }
  OnlyFields(raw, allowed, location);
  if (top) {
    Require(raw, {"Next"}, location);
    rule.next = Target(raw, "Next", location);
  }

  int kinds = int(raw.contains("And")) + int(raw.contains("Or")) + int(raw.contains("Not")) +
              int(raw.contains("Variable"));
  if (kinds != 1) {
    Schema("The object must have only one of the following fields, [And, Or, Not, Variable, Condition]", location);
    return rule;
  }
  for (const char* op : {"And", "Or"}) {
    if (!raw.contains(op)) continue;
    rule.op = op;
    const json* list = Array(raw, op, location);
    if (!list) return rule;
    if (list->empty()) Schema("Value cannot be empty", Child(location, op));
    for (size_t i = 0; i < list->size(); ++i)
      rule.children.push_back(Rule((*list)[i], Element(Child(location, op), i), false, depth + 1));
    if (!comparators.empty()) Schema("Field '" + comparators[0] + "' is not supported", location);
    return rule;
  }
  if (raw.contains("Not")) {
    rule.op = "Not";
    if (const json* inner = Object(raw, "Not", location))
      rule.children.push_back(Rule(*inner, Child(location, "Not"), false, depth + 1));
    if (!comparators.empty()) Schema("Field '" + comparators[0] + "' is not supported", location);
    return rule;
  }

  if (auto variable = Path(raw, "Variable", location, /*reference=*/true)) rule.variable = std::move(*variable);
  if (comparators.size() != 1) {
    Schema("There should only be one of the following fields: [" + ComparatorList() + "]", location);
    return rule;
  }
  rule.op = comparators[0];
  Operand kind = Operand::kString;
  for (const auto& [name, operand] : Comparators())
    if (name == rule.op) kind = operand;
  const json& value = raw[rule.op];
  std::string where = Child(location, rule.op);
  switch (kind) {
    case Operand::kString:
      if (!value.is_string()) Schema(MustBe(rule.op, "a STRING"), where);
      break;
    case Operand::kNumber:
      if (!value.is_number()) Schema(MustBe(rule.op, "a NUMBER"), where);
      break;
    case Operand::kBoolean:
      if (!value.is_boolean()) Schema(MustBe(rule.op, "a BOOLEAN"), where);
      break;
    case Operand::kTimestamp:
      if (!value.is_string())
        Schema(MustBe(rule.op, "a STRING"), where);
      else if (!ParseTimestamp(value.get_ref<const std::string&>()))
        Schema("String does not match RFC3339 timestamp", where);
      break;
    case Operand::kPath:
      if (auto path = Path(raw, rule.op.c_str(), location, /*reference=*/true)) rule.operand_path = std::move(*path);
      return rule;
  }
  rule.operand = value;
  return rule;
}

}  // namespace lathe::asl::internal
