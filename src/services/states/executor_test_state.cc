// TestState: one state on a given input, outside any execution and without storing anything, as
// AWS's TestState API runs it (Task states call their integration for real; Parallel and Map are
// not supported there, as in AWS). inspectionData lists each step of the input/output processing.
#include <cmath>

#include "asl/errors.h"
#include "asl/payload.h"
#include "core/arn.h"
#include "services/states/executor_internal.h"

namespace lathe::states {

using nlohmann::json;

namespace {

struct Run {
  Executor::TestResult result;
  const asl::State& st;
  json input;

  void Fail(const Status& s) { Fail(asl::ErrorName(s), s.message()); }
  void Fail(const std::string& error, const std::string& cause) {
    result.status = "FAILED";
    result.error = error;
    result.cause = cause;
  }
  // An error in a state that may Retry or Catch it.
  void Error(const std::string& error, const std::string& cause) {
    for (const auto& r : st.retry) {
      bool m = false;
      for (const auto& e : r.error_equals) m = m || asl::ErrorMatches(e, error);
      if (!m) continue;
      if (r.max_attempts > 0) {
        result.status = "RETRIABLE";
        result.error = error;
        result.cause = cause;
        return;
      }
      break;
    }
    for (const auto& c : st.catches) {
      bool m = false;
      for (const auto& e : c.error_equals) m = m || asl::ErrorMatches(e, error);
      if (!m) continue;
      auto out = asl::ApplyResultPath(c.result_path, input, json{{"Error", error}, {"Cause", cause}});
      if (!out.ok()) return Fail(out.status());
      result.status = "CAUGHT_ERROR";
      result.error = error;
      result.cause = cause;
      result.output = Dump(*out);
      result.next_state = c.next;
      return;
    }
    Fail(error, cause);
  }
  void Succeed(const json& out, const std::string& next) {
    result.status = "SUCCEEDED";
    result.output = Dump(out);
    result.next_state = next;
  }
};

}  // namespace

Result<Executor::TestResult> Executor::TestState(const asl::State& state, const std::string& input_text,
                                                 const std::string& account, const std::string& region) {
  json input = json::parse(input_text, nullptr, false);
  if (input.is_discarded()) return Status::InvalidArgument("the input is not JSON");
  if (state.type == asl::StateType::kParallel || state.type == asl::StateType::kMap)
    return Status::InvalidArgument("TestState does not run " + std::string(asl::StateTypeName(state.type)) +
                                   " states");
  Run run{{}, state, input};
  auto& insp = run.result.inspection_data;
  insp["input"] = Dump(input);
  const int64_t now = impl_->Now();
  const json ctx = {
      {"Execution",
       {{"Id", "arn:aws:states:" + region + ":" + account + ":execution:TestState:test"},
        {"Input", input},
        {"Name", "test"},
        {"StartTime", Iso8601(now)}}},
      {"State", {{"Name", state.name}, {"EnteredTime", Iso8601(now)}, {"RetryCount", 0}}},
      {"StateMachine", {{"Id", "arn:aws:states:" + region + ":" + account + ":stateMachine:TestState"}, {"Name", "TestState"}}}};
  const std::string next = state.end ? "" : state.next;

  if (state.type == asl::StateType::kFail) {
    Result<FailOutput> failed = FailStateOutput(state, input, ctx);
    if (!failed.ok()) run.Fail(failed.status());
    else run.Fail(failed->error, failed->cause);
    return run.result;
  }
  auto eff = asl::ApplyInputPath(state.input_path, input, ctx);
  if (!eff.ok()) {
    run.Fail(eff.status());
    return run.result;
  }
  insp["afterInputPath"] = Dump(*eff);
  json result = *eff;
  switch (state.type) {
    case asl::StateType::kChoice: {
      std::string to = state.default_next;
      for (const auto& rule : state.choices) {
        auto holds = asl::Evaluate(rule, *eff, ctx);
        if (!holds.ok()) {
          run.Fail(holds.status());
          return run.result;
        }
        if (*holds) {
          to = rule.next;
          break;
        }
      }
      if (to.empty()) {
        run.Fail(asl::kStatesNoChoiceMatched, "No Matches!");
        return run.result;
      }
      auto out = asl::ApplyInputPath(state.output_path, *eff, ctx);
      if (!out.ok()) run.Fail(out.status());
      else run.Succeed(*out, to);
      return run.result;
    }
    case asl::StateType::kWait:
    case asl::StateType::kSucceed: {
      auto out = asl::ApplyInputPath(state.output_path, *eff, ctx);
      if (!out.ok()) run.Fail(out.status());
      else run.Succeed(*out, next);
      return run.result;
    }
    default:
      break;
  }
  if (state.parameters) {
    auto p = state.parameters->Apply(*eff, ctx);
    if (!p.ok()) {
      run.Error(asl::ErrorName(p.status()), p.status().message());
      return run.result;
    }
    result = *p;
    insp["afterParameters"] = Dump(result);
  }
  if (state.type == asl::StateType::kPass && state.result) result = *state.result;
  if (state.type == asl::StateType::kTask) {
    auto resource = asl::ParseTaskResource(state.resource);
    if (!resource.ok()) {
      run.Fail(asl::kStatesRuntime, resource.status().message());
      return run.result;
    }
    const bool bare = resource->service == "lambda" && resource->action == "function";
    TaskCall call;
    call.resource = state.resource;
    call.service = resource->service;
    call.action = bare ? "invoke" : resource->action;
    call.pattern = resource->pattern;
    call.parameters = bare ? json{{"FunctionName", state.resource}, {"Payload", result}} : result;
    call.state_name = state.name;
    call.account = account;
    call.region = region;
    TaskIntegration* integration = impl_->integrations ? impl_->integrations->Find(call.service) : nullptr;
    if (!integration || !integration->Supports(call.action, call.pattern)) {
      run.Fail(asl::kStatesRuntime, "lathe has no integration for the resource '" + state.resource + "'");
      return run.result;
    }
    TaskOutcome out = integration->Start(call);
    if (!out.ok) {
      run.Error(out.error, out.cause);
      return run.result;
    }
    result = out.result;
    if (bare && result.is_object() && result.contains("Payload")) result = result["Payload"];
    insp["result"] = Dump(result);
  }
  if (state.result_selector) {
    auto r = state.result_selector->Apply(result, ctx);
    if (!r.ok()) {
      run.Error(asl::ErrorName(r.status()), r.status().message());
      return run.result;
    }
    result = *r;
    insp["afterResultSelector"] = Dump(result);
  }
  auto placed = asl::ApplyResultPath(state.result_path, input, result);
  if (!placed.ok()) {
    run.Error(asl::ErrorName(placed.status()), placed.status().message());
    return run.result;
  }
  insp["afterResultPath"] = Dump(*placed);
  auto out = asl::ApplyInputPath(state.output_path, *placed, ctx);
  if (!out.ok()) {
    run.Error(asl::ErrorName(out.status()), out.status().message());
    return run.result;
  }
  run.Succeed(*out, next);
  return run.result;
}

}  // namespace lathe::states
