// IAM's error codes and HTTP statuses, as botocore's iam/2010-05-08 service-2.json declares them
// (error shapes' "error": {"code", "httpStatusCode"}). Every IAM error is made here.
#pragma once

#include <string>

#include "aws/query_protocol.h"
#include "core/status.h"

namespace lathe::iam {

inline Status EntityAlreadyExists(std::string m) {
  return Status::Aws("EntityAlreadyExists", 409, std::move(m), Status::Code::kAlreadyExists);
}
inline Status NoSuchEntity(std::string m) {
  return Status::Aws("NoSuchEntity", 404, std::move(m), Status::Code::kNotFound);
}
inline Status DeleteConflict(std::string m) {
  return Status::Aws("DeleteConflict", 409, std::move(m), Status::Code::kConflict);
}
inline Status MalformedPolicyDocument(std::string m) {
  return Status::Aws("MalformedPolicyDocument", 400, std::move(m));
}
inline Status LimitExceeded(std::string m) {
  return Status::Aws("LimitExceeded", 409, std::move(m), Status::Code::kQuotaExceeded);
}
inline Status InvalidInput(std::string m) { return Status::Aws("InvalidInput", 400, std::move(m)); }
inline Status ServiceFailure(std::string m) {
  return Status::Aws("ServiceFailure", 500, std::move(m), Status::Code::kInternal);
}
// A value outside the model's constraints (length, pattern, range): ValidationError, 400.
inline Status ValidationError(std::string m) { return aws::QueryValidationError(std::move(m)); }

}  // namespace lathe::iam
