// Step Functions' error codes, as botocore's stepfunctions/2016-11-23 service-2.json declares them
// (awsJson 1.0: every one of them is HTTP 400). Every Step Functions API error is made here.
#pragma once

#include <string>

#include "aws/json_members.h"
#include "core/status.h"

namespace lathe::states {

inline Status ApiError(const char* code, std::string m, Status::Code kind = Status::Code::kInvalidArgument) {
  return Status::Aws(code, 400, std::move(m), kind);
}
inline Status InvalidArn(std::string m) { return ApiError("InvalidArn", std::move(m)); }
inline Status InvalidName(std::string m) { return ApiError("InvalidName", std::move(m)); }
inline Status InvalidDefinition(std::string m) { return ApiError("InvalidDefinition", std::move(m)); }
inline Status InvalidExecutionInput(std::string m) { return ApiError("InvalidExecutionInput", std::move(m)); }
inline Status InvalidOutput(std::string m) { return ApiError("InvalidOutput", std::move(m)); }
inline Status InvalidToken(std::string m) { return ApiError("InvalidToken", std::move(m)); }
inline Status ValidationError(std::string m) { return ApiError("ValidationException", std::move(m)); }
inline Status StateMachineAlreadyExists(std::string m) {
  return ApiError("StateMachineAlreadyExists", std::move(m), Status::Code::kAlreadyExists);
}
inline Status StateMachineDoesNotExist(std::string m) {
  return ApiError("StateMachineDoesNotExist", std::move(m), Status::Code::kNotFound);
}
inline Status StateMachineDeleting(std::string m) {
  return ApiError("StateMachineDeleting", std::move(m), Status::Code::kConflict);
}
inline Status StateMachineTypeNotSupported(std::string m) { return ApiError("StateMachineTypeNotSupported", std::move(m)); }
inline Status StateMachineLimitExceeded(std::string m) {
  return ApiError("StateMachineLimitExceeded", std::move(m), Status::Code::kQuotaExceeded);
}
inline Status ExecutionAlreadyExists(std::string m) {
  return ApiError("ExecutionAlreadyExists", std::move(m), Status::Code::kAlreadyExists);
}
inline Status ExecutionDoesNotExist(std::string m) {
  return ApiError("ExecutionDoesNotExist", std::move(m), Status::Code::kNotFound);
}
inline Status ExecutionLimitExceeded(std::string m) {
  return ApiError("ExecutionLimitExceeded", std::move(m), Status::Code::kQuotaExceeded);
}
inline Status TaskDoesNotExist(std::string m) { return ApiError("TaskDoesNotExist", std::move(m), Status::Code::kNotFound); }
inline Status TaskTimedOut(std::string m) { return ApiError("TaskTimedOut", std::move(m), Status::Code::kConflict); }
inline Status ResourceNotFound(std::string m) { return ApiError("ResourceNotFound", std::move(m), Status::Code::kNotFound); }
inline Status TooManyTags(std::string m) { return ApiError("TooManyTags", std::move(m), Status::Code::kQuotaExceeded); }
inline Status SerializationError(std::string m) { return ApiError("SerializationException", std::move(m)); }
// A member outside the model's constraints (aws/json_members.h).
using aws::ConstraintViolation;

}  // namespace lathe::states
