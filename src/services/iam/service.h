// IAM on lathe's endpoint (signing name "iam", query protocol, API version 2010-05-08).
#pragma once

#include <memory>

#include "aws/query_protocol.h"
#include "services/iam/backend.h"

namespace lathe::iam {

// What IAM must allow per IAM operation (authz.cc); `backend` looks up paths for ARNs.
aws::AccessRules IamAccessRules(IamBackend* backend);

// The operation table over `backend`, which outlives the service.
std::unique_ptr<aws::QueryService> NewIamService(IamBackend* backend);

}  // namespace lathe::iam
