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
// MalformedXML in S3's words, followed by what was wrong.
inline Status MalformedXmlSchema(const std::string& why) {
  return MalformedXml("The XML you provided was not well-formed or did not validate against our published schema: " +
                      why);
}
inline Status NotImplemented(std::string m) {
  return Status::Aws("NotImplemented", 501, std::move(m), Status::Code::kUnsupported);
}
inline Status InternalError(std::string m) {
  return Status::Aws("InternalError", 500, std::move(m), Status::Code::kInternal);
}

// Objects (Amazon S3 API Reference, "List of error codes").
inline Status NoSuchKey(std::string m = "The specified key does not exist.") {
  return Status::Aws("NoSuchKey", 404, std::move(m), Status::Code::kNotFound);
}
inline Status NoSuchVersion(std::string m = "The specified version does not exist.") {
  return Status::Aws("NoSuchVersion", 404, std::move(m), Status::Code::kNotFound);
}
inline Status InvalidRange(std::string m = "The requested range is not satisfiable") {
  return Status::Aws("InvalidRange", 416, std::move(m));
}
inline Status PreconditionFailed(std::string condition) {
  return Status::Aws("PreconditionFailed", 412,
                     "At least one of the pre-conditions you specified did not hold (" + std::move(condition) + ")",
                     Status::Code::kConflict);
}
inline Status KeyTooLong(std::string m = "Your key is too long") {
  return Status::Aws("KeyTooLongError", 400, std::move(m));
}
inline Status MetadataTooLarge(std::string m = "Your metadata headers exceed the maximum allowed metadata size") {
  return Status::Aws("MetadataTooLarge", 400, std::move(m));
}
inline Status InvalidTag(std::string m) { return Status::Aws("InvalidTag", 400, std::move(m)); }
inline Status BadRequest(std::string m) { return Status::Aws("BadRequest", 400, std::move(m)); }
inline Status InvalidRequest(std::string m) { return Status::Aws("InvalidRequest", 400, std::move(m)); }
inline Status InvalidVersionId() { return InvalidArgument("Invalid version id specified"); }
// GetObject/HeadObject of a version that is a delete marker (S3 answers 405 with
// x-amz-delete-marker: true).
inline Status DeleteMarkerNotAllowed() {
  return Status::Aws("MethodNotAllowed", 405, "The specified method is not allowed against this resource.");
}
inline Status EntityTooLarge(std::string m) { return Status::Aws("EntityTooLarge", 400, std::move(m)); }
inline Status IllegalVersioningConfiguration(std::string m) {
  return Status::Aws("IllegalVersioningConfigurationException", 400, std::move(m));
}

}  // namespace lathe::s3
