// EventBridge on lathe's endpoint (signing name "events", awsJson 1.1, X-Amz-Target
// "AWSEvents.<Operation>", API version 2015-10-07).
#pragma once

#include <functional>
#include <memory>

#include "aws/rest_json.h"
#include "services/events/backend.h"

namespace lathe::events {

// What IAM must allow per operation (authz.cc).
aws::AccessRequest EventsAccess(const aws::OperationView& op);

// The operation table over `backend`, which outlives the service. `events_put` is called after
// PutEvents has put events in the outbox (the server wakes its dispatcher with it); may be empty.
std::unique_ptr<aws::JsonTargetService> NewEventsService(EventsBackend* backend, std::function<void()> events_put = {});

}  // namespace lathe::events
