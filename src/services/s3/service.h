// S3 on lathe's endpoint (signing name "s3", rest-xml, API version 2006-03-01), path-style or
// virtual-hosted (bucket.localhost:PORT).
// So far the bucket operations; objects come later (and with them streaming bodies).
#pragma once

#include "aws/rest_xml.h"
#include "services/s3/backend.h"

namespace lathe::s3 {

class S3Service : public aws::RestXmlService {
 public:
  // `backend` outlives the service.
  explicit S3Service(S3Backend* backend);
  std::string_view signing_name() const override { return "s3"; }
  // 0 for the operations added with RequestBody::kStreamed (PutObject, UploadPart: they read
  // their bodies through aws::S3UploadBody); the rest carry at most a small XML document.
  size_t BodyLimit(const http::Request& request) const override;

 protected:
  // S3 names the bucket in its bucket errors (<BucketName>).
  aws::XmlErrorDetails ErrorDetails(const Status& error, const aws::RestXmlInput& input) const override;
};

}  // namespace lathe::s3
