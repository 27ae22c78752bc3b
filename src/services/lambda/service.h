// Lambda on lathe's endpoint (signing name "lambda", rest-json, API version 2015-03-31).
#pragma once

#include <memory>

#include "aws/rest_json.h"
#include "services/lambda/backend.h"

namespace lathe::lambda {

// What IAM must allow per operation (authz.cc).
aws::AccessRequest LambdaAccess(const aws::OperationView& op);

// The operation table over `backend`, which outlives the service.
std::shared_ptr<aws::RestJsonService> NewLambdaService(LambdaBackend* backend);

}  // namespace lathe::lambda
