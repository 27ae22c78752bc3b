// S3 on lathe's endpoint (signing name "s3", rest-xml, API version 2006-03-01), path-style:
// buckets (S3Backend), objects (S3Objects) and multipart uploads (S3Multipart).
#pragma once

#include "aws/rest_xml.h"
#include "services/s3/backend.h"
#include "services/s3/multipart.h"
#include "services/s3/objects.h"

namespace lathe::s3 {

// What IAM must allow per operation (authz.cc).
aws::AccessRules S3AccessRules();

class S3Service : public aws::RestXmlService {
 public:
  // All outlive the service.
  S3Service(S3Backend* buckets, S3Objects* objects, S3Multipart* multipart);
  std::string_view signing_name() const override { return "s3"; }
  // Uploads stream (upload_body.h); DeleteObjects' key list has its own bound; every other
  // request carries at most a small XML document.
  size_t BodyLimit(const http::Request& request) const override;

 protected:
  // S3 names the bucket in its bucket errors (<BucketName>), the key in NoSuchKey (<Key>).
  aws::XmlErrorDetails ErrorDetails(const Status& error, const aws::RestXmlInput& input) const override;
};

}  // namespace lathe::s3
