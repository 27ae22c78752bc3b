// STS on lathe's endpoint (signing name "sts", query protocol, API version 2011-06-15).
#pragma once

#include <memory>

#include "aws/query_protocol.h"

namespace lathe::sts {

// What IAM must allow per operation (authz.cc).
aws::AccessRequest StsAccess(const aws::OperationView& op);

std::unique_ptr<aws::QueryService> NewStsService();

}  // namespace lathe::sts
