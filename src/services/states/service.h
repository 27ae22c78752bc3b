// Step Functions on lathe's endpoint (signing name "states", awsJson 1.0, X-Amz-Target
// "AWSStepFunctions.<Operation>", API version 2016-11-23).
#pragma once

#include <memory>

#include "aws/rest_json.h"
#include "services/states/backend.h"

namespace lathe::states {

// What IAM must allow per operation (authz.cc).
aws::AccessRequest StatesAccess(const aws::OperationView& op);

// The operation table over `backend`, which outlives the service.
std::unique_ptr<aws::JsonTargetService> NewStatesService(StatesBackend* backend);

}  // namespace lathe::states
