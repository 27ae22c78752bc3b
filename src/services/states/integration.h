// What a Task state calls: one TaskIntegration per AWS service ("lambda", "sns", "events",
// "bedrock", "states"), registered by the composition root (src/server), so that Step Functions
// never calls another service's backend directly (as EventBridge's TargetDeliverer). The executor
// turns the Task's Resource into a TaskCall (asl::ParseTaskResource), calls Start on a task
// thread, and for `.sync` records Start's answer durably and then calls Poll until the work ends.
#pragma once

#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace lathe::states {

struct TaskCall {
  std::string resource;  // the Task's Resource ARN, as written
  std::string service;   // "lambda", "sns", "events", "bedrock", "states"
  std::string action;    // "invoke", "publish", "putEvents", "createModelCustomizationJob", ...
  std::string pattern;   // "", "sync", "sync:2", "waitForTaskToken"
  // The Task's effective parameters (after InputPath and Parameters): the API request in the
  // service's own field names (FunctionName, Payload; TopicArn, Message; ...). For a bare Lambda
  // function ARN, {"FunctionName": <arn>, "Payload": <effective input>}.
  nlohmann::json parameters;
  std::string task_token;  // waitForTaskToken: the token the callee must hand back
  std::string execution_arn, state_name;
  std::string account, region;
  int64_t timeout_ms = 0;  // the state's TimeoutSeconds (0 = none): Start should not outlive it
};

// An integration's answer: a result (the state's raw result, e.g. lambda:invoke's
// {"ExecutedVersion", "Payload", "StatusCode", ...}) or an error as a Catch sees it
// ("Lambda.Unknown", "SNS.NotFoundException", a function's errorType ...).
struct TaskOutcome {
  bool ok = true;
  nlohmann::json result;
  std::string error, cause;
  static TaskOutcome Success(nlohmann::json r) { return {true, std::move(r), "", ""}; }
  static TaskOutcome Failure(std::string e, std::string c) { return {false, nullptr, std::move(e), std::move(c)}; }
};

class TaskIntegration {
 public:
  virtual ~TaskIntegration() = default;
  // Whether this integration supports the action and pattern (the executor fails the state with
  // States.Runtime naming the resource otherwise; the validator warns).
  virtual bool Supports(const std::string& action, const std::string& pattern) const = 0;
  // The request-response part. Blocking; runs on one of the executor's task threads. For
  // `.sync`, its result is what Poll is given; for waitForTaskToken, the result is ignored and
  // the state waits for SendTask*.
  virtual TaskOutcome Start(const TaskCall& call) = 0;
  // `.sync` only: the outcome once the started work has ended (Bedrock job Completed → its
  // description; Failed/Stopped → an error), nullopt while it runs. `started` is Start's result.
  virtual std::optional<TaskOutcome> Poll(const TaskCall& call, const nlohmann::json& started) {
    (void)call;
    (void)started;
    return TaskOutcome::Failure("States.Runtime", "this integration has no .sync pattern");
  }
  // `.sync` when the execution is stopped or the state times out: stop the started work if the
  // service can (StopModelCustomizationJob, StopExecution); best effort.
  virtual void Cancel(const TaskCall& call, const nlohmann::json& started) {
    (void)call;
    (void)started;
  }
};

// Service name → integration. Filled before the executor starts; read-only afterwards.
class IntegrationRegistry {
 public:
  void Add(const std::string& service, TaskIntegration* integration) { by_service_[service] = integration; }
  TaskIntegration* Find(const std::string& service) const {
    auto it = by_service_.find(service);
    return it == by_service_.end() ? nullptr : it->second;
  }

 private:
  std::map<std::string, TaskIntegration*> by_service_;
};

}  // namespace lathe::states
