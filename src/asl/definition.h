// A state machine definition, parsed and validated as Step Functions does it: every problem is
// reported (not only the first) with AWS's code and the location of the field, as
// ValidateStateMachineDefinition answers them; CreateStateMachine refuses a definition with any
// ERROR diagnostic. The parsed tree is immutable and shared by every execution that runs it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "asl/choice.h"
#include "asl/intrinsics.h"
#include "asl/json_path.h"
#include "asl/payload.h"

namespace lathe::asl {

enum class StateType { kPass, kTask, kChoice, kWait, kSucceed, kFail, kParallel, kMap };
const char* StateTypeName(StateType type);  // "Pass", "Task", ...

struct Retrier {
  std::vector<std::string> error_equals;
  double interval_seconds = 1;
  int max_attempts = 3;  // 0: never retried
  double backoff_rate = 2.0;
  std::optional<double> max_delay_seconds;
  bool full_jitter = false;  // JitterStrategy "FULL" (default "NONE")
};

struct Catcher {
  std::vector<std::string> error_equals;
  PathField result_path;  // default "$": the error output replaces the input
  std::string next;
};

struct StateMachine;

struct State {
  std::string name;
  StateType type = StateType::kPass;
  std::string comment;
  std::string next;  // "" when end
  bool end = false;
  PathField input_path, output_path, result_path;
  std::optional<PayloadTemplate> parameters;       // Pass, Task, Parallel, Map (legacy for ItemSelector)
  std::optional<PayloadTemplate> result_selector;  // Task, Parallel, Map
  std::optional<nlohmann::json> result;            // Pass
  std::vector<Retrier> retry;                      // Task, Parallel, Map
  std::vector<Catcher> catches;

  // Task
  std::string resource;
  std::optional<int64_t> timeout_seconds, heartbeat_seconds;
  std::optional<JsonPath> timeout_seconds_path, heartbeat_seconds_path;

  // Choice
  std::vector<ChoiceRule> choices;
  std::string default_next;

  // Wait: exactly one of these
  std::optional<double> seconds;
  std::optional<JsonPath> seconds_path;
  std::optional<std::string> timestamp;  // RFC 3339
  std::optional<JsonPath> timestamp_path;

  // Fail. ErrorPath / CausePath are a reference path or an intrinsic call returning a string
  // (AWS allows both); one of each pair at most.
  std::optional<std::string> error, cause;
  std::optional<JsonPath> error_path, cause_path;
  std::optional<Intrinsic> error_intrinsic, cause_intrinsic;

  // Parallel
  std::vector<std::shared_ptr<const StateMachine>> branches;

  // Map (inline mode)
  std::shared_ptr<const StateMachine> item_processor;  // ItemProcessor, or the legacy Iterator
  std::optional<JsonPath> items_path;                  // default "$"
  std::optional<PayloadTemplate> item_selector;        // ItemSelector, or legacy Parameters
  int64_t max_concurrency = 0;                         // 0: no limit (lathe bounds it, docs)
  std::optional<JsonPath> max_concurrency_path;
  std::optional<double> tolerated_failure_percentage;
  std::optional<int64_t> tolerated_failure_count;
  std::optional<JsonPath> tolerated_failure_percentage_path, tolerated_failure_count_path;
};

struct StateMachine {
  std::string comment;
  std::string start_at;
  std::map<std::string, State> states;
  std::optional<int64_t> timeout_seconds;
  const State* Find(const std::string& name) const {
    auto it = states.find(name);
    return it == states.end() ? nullptr : &it->second;
  }
};

// One finding, as ValidateStateMachineDefinition's diagnostics carry it.
struct Diagnostic {
  std::string severity = "ERROR";  // "ERROR" or "WARNING"
  std::string code;                // "SCHEMA_VALIDATION_FAILED", "INVALID_JSON_DESCRIPTION",
                                   // "MISSING_TRANSITION_TARGET" (AWS's code for an unreachable
                                   // state too), "MISSING_END_STATE", ...
  std::string message;
  std::string location;  // JSON pointer of the field: "/States/Validate/Next"
};

struct ParsedDefinition {
  std::shared_ptr<const StateMachine> machine;  // null when any diagnostic is an ERROR
  std::vector<Diagnostic> diagnostics;
};

// `definition` is the JSON text as the API received it (≤ kMaxDefinitionBytes; nesting bounded
// before parsing; state count bounded by kMaxStates).
ParsedDefinition ParseDefinition(std::string_view definition);

// CreateStateMachine's InvalidDefinition message for the errors in `diagnostics`, AWS's form:
// "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The value for the field 'Next'
// must be a STRING at /States/A/Next'" (several joined by ", ").
std::string InvalidDefinitionMessage(const std::vector<Diagnostic>& diagnostics);

// The service and action a Task's Resource names, for the executor's integrations:
// "arn:aws:states:::lambda:invoke" → {"lambda", "invoke", ""}; "…:sns:publish" →
// {"sns", "publish", ""}; "…:bedrock:createModelCustomizationJob.sync" → {"bedrock",
// "createModelCustomizationJob", "sync"}; ".waitForTaskToken" → "waitForTaskToken"; a bare
// function ARN "arn:aws:lambda:r:a:function:name" → {"lambda", "function", ""} (the Payload is
// the state's effective input and the output the function's result, not an Invoke envelope);
// "arn:aws:states:r:a:activity:name" → {"states", "activity", ""}.
struct TaskResource {
  std::string service, action, pattern;
};
Result<TaskResource> ParseTaskResource(std::string_view resource);

}  // namespace lathe::asl
