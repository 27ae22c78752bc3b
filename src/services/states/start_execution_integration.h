// The "states" TaskIntegration (integration.h): a Task whose Resource is
// arn:aws:states:::states:startExecution starts a child execution through the backend, as
// StartExecution does, with the parent's ARN recorded. Request-response answers
// {"ExecutionArn", "StartDate"}; `.sync` and `.sync:2` wait for the child (Poll reads it) and
// answer AWS's DescribeExecution shape in the service's field names (ExecutionArn, Input,
// InputDetails, Name, Output, OutputDetails, StartDate, StateMachineArn, Status, StopDate):
// Input and Output as JSON text with `.sync`, as JSON with `.sync:2`. A child that fails, times
// out or is aborted fails the state with States.TaskFailed and the child's description as cause.
#pragma once

#include "services/states/backend.h"
#include "services/states/integration.h"

namespace lathe::states {

class StartExecutionIntegration : public TaskIntegration {
 public:
  // `backend` outlives the integration.
  explicit StartExecutionIntegration(StatesBackend* backend) : backend_(backend) {}
  bool Supports(const std::string& action, const std::string& pattern) const override;
  TaskOutcome Start(const TaskCall& call) override;
  std::optional<TaskOutcome> Poll(const TaskCall& call, const nlohmann::json& started) override;
  void Cancel(const TaskCall& call, const nlohmann::json& started) override;

 private:
  StatesBackend* backend_;
};

}  // namespace lathe::states
