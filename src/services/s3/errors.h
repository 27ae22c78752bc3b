// S3's error codes and HTTP statuses (Amazon S3 API Reference, "Error responses"; botocore's
// s3/2006-03-01 model declares only a few). Every S3 error is made here.
#pragma once

#include <string>

#include "core/status.h"

namespace lathe::s3 {

inline Status NoSuchBucket(std::string m = "The specified bucket does not exist") {
  return Status::Aws("NoSuchBucket", 404, std::move(m), Status::Code::kNotFound);
}
inline Status BucketAlreadyExists() {
  return Status::Aws("BucketAlreadyExists", 409,
                     "The requested bucket name is not available. The bucket namespace is shared by all users of "
                     "the system. Please select a different name and try again.",
                     Status::Code::kAlreadyExists);
}
inline Status BucketAlreadyOwnedByYou() {
  return Status::Aws("BucketAlreadyOwnedByYou", 409,
                     "Your previous request to create the named bucket succeeded and you already own it.",
                     Status::Code::kAlreadyExists);
}
inline Status BucketNotEmpty() {
  return Status::Aws("BucketNotEmpty", 409, "The bucket you tried to delete is not empty", Status::Code::kConflict);
}
inline Status InvalidBucketName(std::string why) {
  return Status::Aws("InvalidBucketName", 400, "The specified bucket is not valid: " + std::move(why));
}
inline Status InvalidLocationConstraint(std::string m = "The specified location-constraint is not valid") {
  return Status::Aws("InvalidLocationConstraint", 400, std::move(m));
}
inline Status IllegalLocationConstraint(std::string m) {
  return Status::Aws("IllegalLocationConstraintException", 400, std::move(m));
}
inline Status TooManyBuckets(std::string m) {
  return Status::Aws("TooManyBuckets", 400, std::move(m), Status::Code::kQuotaExceeded);
}
inline Status AccessDenied(std::string m = "Access Denied") {
  return Status::Aws("AccessDenied", 403, std::move(m));
}
inline Status InvalidArgument(std::string m) { return Status::Aws("InvalidArgument", 400, std::move(m)); }
inline Status MalformedXml(std::string m) { return Status::Aws("MalformedXML", 400, std::move(m)); }
inline Status NotImplemented(std::string m) {
  return Status::Aws("NotImplemented", 501, std::move(m), Status::Code::kUnsupported);
}
inline Status InternalError(std::string m) {
  return Status::Aws("InternalError", 500, std::move(m), Status::Code::kInternal);
}

}  // namespace lathe::s3
