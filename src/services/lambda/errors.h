// Lambda's error codes and HTTP statuses, as botocore's lambda/2015-03-31 service-2.json declares
// them (error shapes' "error": {"httpStatusCode"}). Every Lambda error is made here.
#pragma once

#include <string>

#include "core/status.h"

namespace lathe::lambda {

inline Status InvalidParameterValue(std::string m) {
  return Status::Aws("InvalidParameterValueException", 400, std::move(m));
}
inline Status ResourceNotFound(std::string m) {
  return Status::Aws("ResourceNotFoundException", 404, std::move(m), Status::Code::kNotFound);
}
inline Status ResourceConflict(std::string m) {
  return Status::Aws("ResourceConflictException", 409, std::move(m), Status::Code::kAlreadyExists);
}
inline Status RequestTooLarge(std::string m) { return Status::Aws("RequestTooLargeException", 413, std::move(m)); }
inline Status InvalidRequestContent(std::string m) {
  return Status::Aws("InvalidRequestContentException", 400, std::move(m));
}
inline Status CodeStorageExceeded(std::string m) {
  return Status::Aws("CodeStorageExceededException", 400, std::move(m), Status::Code::kQuotaExceeded);
}
inline Status TooManyRequests(std::string m) {
  return Status::Aws("TooManyRequestsException", 429, std::move(m), Status::Code::kThrottled);
}
inline Status InvalidRuntime(std::string m) {
  return Status::Aws("InvalidRuntimeException", 502, std::move(m), Status::Code::kInternal);
}
inline Status ServiceError(std::string m) {
  return Status::Aws("ServiceException", 500, std::move(m), Status::Code::kInternal);
}

// A Status from below (the store, the file system) in Lambda's own words: rest-json's generic
// names are Bedrock's (InternalServerException...), which Lambda does not declare.
inline Status AsLambdaError(const Status& s) {
  if (s.ok() || !s.aws_code().empty()) return s;
  switch (s.code()) {
    case Status::Code::kInvalidArgument: return InvalidParameterValue(s.message());
    case Status::Code::kNotFound: return ResourceNotFound(s.message());
    case Status::Code::kAlreadyExists:
    case Status::Code::kConflict: return ResourceConflict(s.message());
    case Status::Code::kThrottled:
    case Status::Code::kQuotaExceeded: return TooManyRequests(s.message());
    default: return ServiceError(s.message());
  }
}

}  // namespace lathe::lambda
