// S3 on lathe's endpoint (signing name "s3", rest-xml, API version 2006-03-01), path-style:
// buckets (S3Backend), objects (S3Objects) and multipart uploads (S3Multipart).
#pragma once

#include <map>
#include <memory>
#include <string>

#include "aws/rest_xml.h"
#include "services/s3/backend.h"
#include "services/s3/multipart.h"
#include "services/s3/objects.h"

namespace lathe::s3 {

// Where a bucket that lathe does not hold lives: its S3 service's endpoint URL and region.
struct ExternalBucketLocation {
  std::string endpoint, region;
};

// What IAM must allow per operation (authz.cc).
aws::AccessRules S3AccessRules();

class S3Service : public aws::RestXmlService {
 public:
  // All outlive the service. `external_buckets`: the buckets that live in another S3 service (the
  // config's "externalBuckets"). Requests naming one are answered 301 PermanentRedirect with
  // x-amz-bucket-region, as S3 answers for a bucket another endpoint serves, rather than served
  // from (or created in) the local store, which would split the bucket in two.
  S3Service(S3Backend* buckets, S3Objects* objects, S3Multipart* multipart,
            std::map<std::string, ExternalBucketLocation> external_buckets = {});
  std::string_view signing_name() const override { return "s3"; }
  // Uploads stream (upload_body.h); DeleteObjects' key list has its own bound; every other
  // request carries at most a small XML document.
  size_t BodyLimit(const http::Request& request) const override;

 protected:
  // S3 names the bucket in its bucket errors (<BucketName>), the key in NoSuchKey (<Key>).
  aws::XmlErrorDetails ErrorDetails(const Status& error, const aws::RestXmlInput& input) const override;

 private:
  std::shared_ptr<const std::map<std::string, ExternalBucketLocation>> external_;
};

}  // namespace lathe::s3
