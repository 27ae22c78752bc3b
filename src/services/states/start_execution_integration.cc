#include "services/states/start_execution_integration.h"

#include "services/states/names.h"

namespace lathe::states {
namespace {

using json = nlohmann::json;

// A data member of the child's document as JSON (`parsed`) or as the text AWS's .sync gives.
json DataMember(const store::ExecutionRecord& e, const char* key, bool parsed) {
  auto it = e.doc.find(key);
  if (it == e.doc.end() || it->is_null()) return nullptr;
  if (!parsed) return it->is_string() ? *it : json(it->dump());
  if (!it->is_string()) return *it;
  json value = json::parse(it->get<std::string>(), nullptr, false);
  return value.is_discarded() ? *it : value;
}

json Describe(const store::ExecutionRecord& e, bool parsed) {
  json out = {{"ExecutionArn", e.arn}, {"StateMachineArn", e.state_machine_arn}, {"Name", e.name},
              {"Status", e.status},    {"StartDate", e.start_ms}};
  if (e.stop_ms != 0) out["StopDate"] = e.stop_ms;
  json input = DataMember(e, "input", parsed);
  if (!input.is_null()) {
    out["Input"] = input;
    out["InputDetails"] = {{"Included", true}};
  }
  json output = DataMember(e, "output", parsed);
  if (!output.is_null()) {
    out["Output"] = output;
    out["OutputDetails"] = {{"Included", true}};
  }
  for (const auto& [key, wire] : {std::pair<const char*, const char*>{"error", "Error"}, {"cause", "Cause"}}) {
    auto it = e.doc.find(key);
    if (it != e.doc.end() && it->is_string()) out[wire] = *it;
  }
  return out;
}

std::string Field(const json& params, const char* key) {
  auto it = params.find(key);
  return it != params.end() && it->is_string() ? it->get<std::string>() : "";
}

TaskOutcome FromStatus(const Status& s) {
  const std::string code = s.aws_code().empty() ? "States.TaskFailed" : "StepFunctions." + s.aws_code();
  return TaskOutcome::Failure(code, s.message());
}

}  // namespace

bool StartExecutionIntegration::Supports(const std::string& action, const std::string& pattern) const {
  return action == "startExecution" && (pattern.empty() || pattern == "sync" || pattern == "sync:2");
}

TaskOutcome StartExecutionIntegration::Start(const TaskCall& call) {
  if (!call.parameters.is_object())
    return TaskOutcome::Failure("States.Runtime", "states:startExecution needs its parameters as an object");
  StartExecutionInput in;
  in.state_machine_arn = Field(call.parameters, "StateMachineArn");
  in.name = Field(call.parameters, "Name");
  auto input = call.parameters.find("Input");
  if (input != call.parameters.end() && !input->is_null())
    in.input = input->is_string() ? input->get<std::string>() : input->dump();
  in.parent_arn = call.execution_arn;
  Result<ParsedArn> machine = ParseStateMachineArn(in.state_machine_arn);
  if (!machine.ok()) return FromStatus(machine.status());
  Scope scope{call.account.empty() ? machine->account : call.account,
              call.region.empty() ? machine->region : call.region};
  Result<StartExecutionResult> started = backend_->StartExecution(scope, in);
  if (!started.ok()) return FromStatus(started.status());
  return TaskOutcome::Success({{"ExecutionArn", started->execution_arn}, {"StartDate", started->start_ms}});
}

std::optional<TaskOutcome> StartExecutionIntegration::Poll(const TaskCall& call, const json& started) {
  const std::string arn = started.is_object() ? Field(started, "ExecutionArn") : "";
  Result<ParsedArn> parsed = ParseExecutionArn(arn);
  if (!parsed.ok()) return FromStatus(parsed.status());
  Result<store::ExecutionRecord> child = backend_->DescribeExecution(Scope{parsed->account, parsed->region}, arn);
  if (!child.ok()) return FromStatus(child.status());
  if (child->status == "RUNNING") return std::nullopt;
  const bool parsed_data = call.pattern == "sync:2";
  json description = Describe(*child, parsed_data);
  if (child->status == "SUCCEEDED") return TaskOutcome::Success(description);
  return TaskOutcome::Failure("States.TaskFailed", description.dump());
}

void StartExecutionIntegration::Cancel(const TaskCall& call, const json& started) {
  (void)call;
  const std::string arn = started.is_object() ? Field(started, "ExecutionArn") : "";
  Result<ParsedArn> parsed = ParseExecutionArn(arn);
  if (!parsed.ok()) return;
  (void)backend_->StopExecution(Scope{parsed->account, parsed->region}, arn, "States.Aborted",
                                "The parent execution " + call.execution_arn + " stopped.");
}

}  // namespace lathe::states
