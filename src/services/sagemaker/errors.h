// SageMaker's error codes for the Model Registry operations, as botocore's sagemaker/2017-07-24
// model declares them (awsJson 1.1: every client error is HTTP 400). SageMaker answers a missing
// or duplicate group or package with its generic ValidationException ("... does not exist"),
// not ResourceNotFound (which none of these operations declares); Conflict and
// ResourceLimitExceeded are the declared ones. Every SageMaker error is made here.
#pragma once

#include <string>

#include "aws/json_members.h"
#include "core/status.h"

namespace lathe::sagemaker {

inline Status ValidationError(std::string m) { return Status::Aws("ValidationException", 400, std::move(m)); }
inline Status DoesNotExist(std::string m) {
  return Status::Aws("ValidationException", 400, std::move(m), Status::Code::kNotFound);
}
inline Status AlreadyExistsError(std::string m) {
  return Status::Aws("ValidationException", 400, std::move(m), Status::Code::kAlreadyExists);
}
inline Status ConflictError(std::string m) {
  return Status::Aws("ConflictException", 400, std::move(m), Status::Code::kConflict);
}
inline Status LimitExceeded(std::string m) {
  return Status::Aws("ResourceLimitExceeded", 400, std::move(m), Status::Code::kQuotaExceeded);
}
inline Status InternalFailure(std::string m) {
  return Status::Aws("InternalFailure", 500, std::move(m), Status::Code::kInternal);
}

// The registry's generic statuses in SageMaker's words.
inline Status FromRegistry(const Status& s) {
  if (s.ok() || !s.aws_code().empty()) return s;
  switch (s.code()) {
    case Status::Code::kInvalidArgument: return ValidationError(s.message());
    case Status::Code::kNotFound: return DoesNotExist(s.message());
    case Status::Code::kAlreadyExists: return AlreadyExistsError(s.message());
    case Status::Code::kConflict: return ConflictError(s.message());
    case Status::Code::kQuotaExceeded: return LimitExceeded(s.message());
    default: return InternalFailure(s.message());
  }
}

}  // namespace lathe::sagemaker
