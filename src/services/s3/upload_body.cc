#include "services/s3/upload_body.h"

#include "aws/s3_upload_body.h"
#include "core/checksum.h"

namespace lathe::s3 {

Status ReadUploadBody(const aws::RestXmlInput& in, ObjectBody* body, std::map<std::string, std::string>* checksums) {
  checksums->clear();
  aws::S3UploadLimits limits;
  limits.max_payload_bytes = kMaxPutObjectBytes;
  Result<std::unique_ptr<aws::S3UploadBody>> upload = aws::S3UploadBody::Open(*in.request, *in.context, limits);
  if (!upload.ok()) return upload.status();
  Result<aws::S3UploadDigests> digests =
      (*upload)->ReadAll([body](std::string_view piece) { return body->Append(piece); });
  if (!digests.ok()) return digests.status();
  if (digests->checksum_algorithm)
    (*checksums)[std::string(ChecksumName(*digests->checksum_algorithm))] = Base64Encode(digests->checksum);
  return Status::Ok();
}

}  // namespace lathe::s3
