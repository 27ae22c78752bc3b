// EventBridge as a Step Functions task (services/states/integration.h):
// `arn:aws:states:::events:putEvents` (request-response and .waitForTaskToken) puts the Task's
// Entries through EventsBackend::PutEvents, read by the same parser as the PutEvents operation
// (shapes.h EntryFromWire), so they land in the store's outbox for the dispatcher. As Step
// Functions' optimized integration does: a Detail that is a JSON object is sent as its JSON text
// (and any other non-string value of a string member likewise), the execution's ARN and its state
// machine's ARN are appended to each entry's Resources, and a response with a FailedEntryCount
// above zero fails the task with EventBridge.FailedEntry (the response as the cause). Other errors
// are "EventBridge.<code>" (EventBridge.ValidationException, ...). The result is PutEvents'
// response: {"Entries": [{"EventId"}...], "FailedEntryCount"}.
// The composition root registers it for service "events".
#pragma once

#include <functional>
#include <string>

#include "services/events/backend.h"
#include "services/states/integration.h"

namespace lathe::events {

class EventsTaskIntegration : public states::TaskIntegration {
 public:
  // `backend` outlives the integration. `events_put` is called after events were put in the
  // outbox (the server wakes its dispatcher with it, as for the PutEvents operation); may be empty.
  explicit EventsTaskIntegration(EventsBackend* backend, std::function<void()> events_put = {})
      : backend_(backend), events_put_(std::move(events_put)) {}
  bool Supports(const std::string& action, const std::string& pattern) const override;
  states::TaskOutcome Start(const states::TaskCall& call) override;

 private:
  EventsBackend* backend_;
  std::function<void()> events_put_;
};

// The ARN of the state machine an execution ARN belongs to
// (arn:aws:states:<region>:<account>:execution:<machine>:<name> -> ...:stateMachine:<machine>);
// "" for anything else.
std::string StateMachineArnOfExecution(const std::string& execution_arn);

}  // namespace lathe::events
