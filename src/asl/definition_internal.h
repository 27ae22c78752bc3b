// What definition.cc, definition_states.cc and definition_checks.cc share: one Checker collects
// every diagnostic while the tree is built, and a set of field readers each report the problem
// with a field (its type, its form, its range) at the field's location and go on. Locations are
// JSON pointers as AWS writes them: "/States/A/Next", array elements as "/States/C/Choices[0]".
// Not part of the asl layer's interface.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "asl/definition.h"

namespace lathe::asl::internal {

using nlohmann::json;

inline constexpr const char* kSchema = "SCHEMA_VALIDATION_FAILED";
inline constexpr const char* kMissingTarget = "MISSING_TRANSITION_TARGET";
// Diagnostics kept for one definition (ValidateStateMachineDefinition answers at most 100).
inline constexpr size_t kMaxDiagnostics = 1000;
// JSON nesting of a definition text, checked before it is parsed (each Parallel or Map level
// costs 3-4 levels, so this allows some 40 levels of nested states).
inline constexpr int kMaxDefinitionDepth = 160;
// AWS's limit on a state name (and a Map's Label is 40).
inline constexpr size_t kMaxStateNameLength = 80;

inline std::string Child(const std::string& location, std::string_view key) {
  return location + "/" + std::string(key);
}
inline std::string Element(const std::string& location, size_t index) {
  return location + "[" + std::to_string(index) + "]";
}
// Where an object's own problems are reported: the root object has no pointer of its own.
inline std::string At(const std::string& location) { return location.empty() ? "/" : location; }

// A string meant as a path or an intrinsic call ("$.x", "$$.Execution.Id", "States.Format(…)").
bool LooksLikePath(std::string_view text);

class Checker {
 public:
  void Error(std::string code, std::string message, std::string location);
  void Schema(std::string message, const std::string& location) { Error(kSchema, std::move(message), location); }
  // WARNING diagnostics (NO_DOLLAR, NO_PATH, PASS_RESULT_IS_STATIC): reported, never refusing.
  void Warn(std::string code, std::string message, std::string location);
  size_t error_count() const { return error_count_; }
  std::vector<Diagnostic> TakeDiagnostics() { return std::move(diagnostics_); }

  // Every state of every level, counted against kMaxStates; false once over it.
  bool CountState(const std::string& location);
  // State names are unique across the whole definition, branches included.
  void NoteStateName(const std::string& name, const std::string& location);

  // Field readers: nullptr (or nullopt) when the field is absent or has the wrong type, which
  // is then reported as "The value for the field 'X' must be a STRING" at location/X.
  const std::string* String(const json& obj, const char* key, const std::string& location);
  const json* Object(const json& obj, const char* key, const std::string& location);
  const json* Array(const json& obj, const char* key, const std::string& location);
  std::optional<bool> Bool(const json& obj, const char* key, const std::string& location);
  std::optional<double> Number(const json& obj, const char* key, const std::string& location);
  // An integer >= minimum (values past int64 are clamped, as AWS accepts them). A value over
  // `maximum` is reported ("... must be at most N") and read as absent.
  std::optional<int64_t> Integer(const json& obj, const char* key, const std::string& location, int64_t minimum,
                                 const char* what, int64_t maximum = std::numeric_limits<int64_t>::max());
  // A time in seconds (TimeoutSeconds, IntervalSeconds, ...): at most kMaxSeconds, so that its
  // milliseconds, and any time plus them, stay within int64.
  std::optional<int64_t> Seconds(const json& obj, const char* key, const std::string& location, int64_t minimum,
                                 const char* what) {
    return Integer(obj, key, location, minimum, what, kMaxSeconds);
  }

  // A state name (StartAt, Next, Default): "" when absent or not a string; an empty name is
  // reported as the missing target it is (the machine checks the others once all are read).
  std::string Target(const json& obj, const char* key, const std::string& location);
  // "These fields are required: [A, B]" for the absent ones, at the object.
  void Require(const json& obj, std::initializer_list<const char*> keys, const std::string& location);
  // "Field 'X' is not supported" (at the object, as AWS reports it) for every other key.
  void OnlyFields(const json& obj, const std::set<std::string>& allowed, const std::string& location);
  // At most one of two alternative fields; reported at the first.
  bool Exclusive(const json& obj, const char* a, const char* b, const std::string& location);

  // A JSONPath field; `reference` for fields that name one node (ResultPath, ItemsPath, a
  // Choice's Variable, the *Path fields). Context paths ("$$…") only where `allow_context`.
  std::optional<JsonPath> Path(const json& obj, const char* key, const std::string& location, bool reference,
                               bool allow_context = true);
  // InputPath / OutputPath / ResultPath: absent, null or a path.
  PathField PathOrNull(const json& obj, const char* key, const std::string& location, bool reference);
  // Parameters, ResultSelector, ItemSelector: every ".$" key checked where it is.
  std::optional<PayloadTemplate> Template(const json& obj, const char* key, const std::string& location);

  std::vector<Retrier> Retry(const json& obj, const std::string& location);
  std::vector<Catcher> Catch(const json& obj, const std::string& location);
  ChoiceRule Rule(const json& rule, const std::string& location, bool top, size_t depth);

 private:
  void CheckTemplateKeys(const json& value, const std::string& location);
  std::vector<Diagnostic> diagnostics_;
  size_t error_count_ = 0;
  size_t states_ = 0;
  bool too_many_states_ = false;
  std::set<std::string> state_names_;
};

// definition_states.cc: one state of any type (its fields, not its transitions' targets).
State ParseState(Checker& checker, const std::string& name, const json& raw, const std::string& location);
// definition.cc: a States/StartAt block (the top level, a Parallel branch, a Map's processor),
// its states, transitions and reachability. `top` adds the top-level fields and rules.
std::shared_ptr<const StateMachine> ParseMachine(Checker& checker, const json& raw, const std::string& location,
                                                 bool top);

}  // namespace lathe::asl::internal
