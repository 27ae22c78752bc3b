// EventBridge's error codes, as botocore's events/2015-10-07 service-2.json declares them (awsJson
// 1.1: every client error is HTTP 400, InternalException 500). Every EventBridge error is made here.
#pragma once

#include <string>

#include "aws/json_members.h"
#include "core/status.h"

namespace lathe::events {

inline Status ResourceNotFound(std::string m) {
  return Status::Aws("ResourceNotFoundException", 400, std::move(m), Status::Code::kNotFound);
}
inline Status ValidationError(std::string m) { return Status::Aws("ValidationException", 400, std::move(m)); }
inline Status InvalidEventPattern(std::string m) {
  return Status::Aws("InvalidEventPatternException", 400, std::move(m));
}
inline Status LimitExceeded(std::string m) {
  return Status::Aws("LimitExceededException", 400, std::move(m), Status::Code::kQuotaExceeded);
}
inline Status ResourceAlreadyExists(std::string m) {
  return Status::Aws("ResourceAlreadyExistsException", 400, std::move(m), Status::Code::kAlreadyExists);
}
inline Status ConcurrentModification(std::string m) {
  return Status::Aws("ConcurrentModificationException", 400, std::move(m), Status::Code::kConflict);
}
inline Status InternalError(std::string m) {
  return Status::Aws("InternalException", 500, std::move(m), Status::Code::kInternal);
}
// A member outside the model's constraints (aws/json_members.h).
using aws::ConstraintViolation;

}  // namespace lathe::events
