// Step Functions as an EventBridge target (services/events/target.h): a rule whose target is a
// state machine ARN starts an execution with the event (or the target's transformed input) as
// its input, through the same StartExecution as the API. The execution's name is derived from
// the event id and the rule, so a redelivery after a crash finds the execution it started the
// first time instead of starting a second one. Registered for ARNs of service "states".
#pragma once

#include "services/events/target.h"
#include "services/states/backend.h"

namespace lathe::states {

class StatesTargetDeliverer : public events::TargetDeliverer {
 public:
  // `backend` outlives the deliverer.
  explicit StatesTargetDeliverer(StatesBackend* backend) : backend_(backend) {}
  bool Exists(const std::string& arn) const override;
  // OK once the execution is started (or was, by an earlier delivery of the same event);
  // StateMachineDoesNotExist when the machine is gone, InvalidExecutionInput for input that is
  // not JSON or is over 256 KB.
  Status Deliver(const events::Delivery& delivery) override;

  // The execution name a delivery uses: "<event id>-<8 hex of the rule ARN>", at most 80
  // characters of the name alphabet.
  static std::string ExecutionName(const events::Delivery& delivery);

 private:
  StatesBackend* backend_;
};

}  // namespace lathe::states
