// SNS's error codes and HTTP statuses, as botocore's sns/2010-03-31 service-2.json declares them
// (error shapes' "error": {"code", "httpStatusCode"}). Every SNS error is made here. AWS words
// most refusals "Invalid parameter: <Name>[ Reason: <why>]"; InvalidParameter() follows that.
#pragma once

#include <string>

#include "core/status.h"

namespace lathe::sns {

inline Status InvalidParameter(std::string m) { return Status::Aws("InvalidParameter", 400, std::move(m)); }
// "Invalid parameter: <name> Reason: <reason>" (or without the reason).
inline Status InvalidParameter(const std::string& name, const std::string& reason) {
  return InvalidParameter("Invalid parameter: " + name + (reason.empty() ? "" : " Reason: " + reason));
}
inline Status ParameterValueInvalid(std::string m) { return Status::Aws("ParameterValueInvalid", 400, std::move(m)); }
inline Status NotFound(std::string m) { return Status::Aws("NotFound", 404, std::move(m), Status::Code::kNotFound); }
inline Status ResourceNotFound(std::string m) {
  return Status::Aws("ResourceNotFound", 404, std::move(m), Status::Code::kNotFound);
}
inline Status AuthorizationError(std::string m) {
  return Status::Aws("AuthorizationError", 403, std::move(m), Status::Code::kInvalidArgument);
}
inline Status TopicLimitExceeded(std::string m) {
  return Status::Aws("TopicLimitExceeded", 403, std::move(m), Status::Code::kQuotaExceeded);
}
inline Status SubscriptionLimitExceeded(std::string m) {
  return Status::Aws("SubscriptionLimitExceeded", 403, std::move(m), Status::Code::kQuotaExceeded);
}
inline Status FilterPolicyLimitExceeded(std::string m) {
  return Status::Aws("FilterPolicyLimitExceeded", 403, std::move(m), Status::Code::kQuotaExceeded);
}
inline Status TagLimitExceeded(std::string m) { return Status::Aws("TagLimitExceeded", 400, std::move(m)); }
inline Status BatchEntryIdsNotDistinct(std::string m) {
  return Status::Aws("BatchEntryIdsNotDistinct", 400, std::move(m));
}
inline Status BatchRequestTooLong(std::string m) { return Status::Aws("BatchRequestTooLong", 400, std::move(m)); }
inline Status EmptyBatchRequest(std::string m) { return Status::Aws("EmptyBatchRequest", 400, std::move(m)); }
inline Status InvalidBatchEntryId(std::string m) { return Status::Aws("InvalidBatchEntryId", 400, std::move(m)); }
inline Status TooManyEntriesInBatchRequest(std::string m) {
  return Status::Aws("TooManyEntriesInBatchRequest", 400, std::move(m));
}
inline Status InternalError(std::string m) {
  return Status::Aws("InternalError", 500, std::move(m), Status::Code::kInternal);
}

}  // namespace lathe::sns
