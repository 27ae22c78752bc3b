#include "services/states/event_target.h"

#include <spdlog/spdlog.h>

#include "core/sha256.h"
#include "services/states/names.h"

namespace lathe::states {

bool StatesTargetDeliverer::Exists(const std::string& arn) const { return backend_->StateMachineExists(arn); }

std::string StatesTargetDeliverer::ExecutionName(const events::Delivery& delivery) {
  std::string id;
  for (char c : delivery.event_id.substr(0, 64)) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    id += ok ? c : '_';
  }
  if (id.empty()) id = "event";
  // Two rules may send the same event to the same machine: each starts its own execution.
  return id + "-" + Sha256Hex(delivery.rule_arn + "\n" + delivery.target_arn).substr(0, 8);
}

Status StatesTargetDeliverer::Deliver(const events::Delivery& delivery) {
  Result<ParsedArn> machine = ParseStateMachineArn(delivery.target_arn);
  if (!machine.ok()) return machine.status();
  StartExecutionInput in;
  in.state_machine_arn = delivery.target_arn;
  in.name = ExecutionName(delivery);
  in.input = delivery.input;
  // The machine's own account and region: rules deliver within one account, and the ARN says where.
  Scope scope{machine->account, machine->region};
  Result<StartExecutionResult> started = backend_->StartExecution(scope, in);
  if (!started.ok()) {
    // An execution of this name exists: this event was delivered before (a redelivery after a
    // crash, or a retry after a lost answer). It has done its work already.
    if (started.status().aws_code() == "ExecutionAlreadyExists") {
      spdlog::info("states: event {} from {} had already started {}", delivery.event_id, delivery.rule_arn, in.name);
      return Status::Ok();
    }
    return started.status();
  }
  spdlog::info("states: event {} from {} started {}", delivery.event_id, delivery.rule_arn, started->execution_arn);
  return Status::Ok();
}

}  // namespace lathe::states
