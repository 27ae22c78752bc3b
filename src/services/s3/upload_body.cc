#include "services/s3/upload_body.h"

#include "aws/rest_path.h"

namespace lathe::s3 {

bool UploadsBody(const http::Request& request) {
  if (request.method != "PUT" || request.header("x-amz-copy-source")) return false;
  const std::string_view path = request.path();
  const size_t slash = path.find('/', 1);
  if (slash == std::string_view::npos || slash + 1 >= path.size()) return false;  // no key
  return aws::DecodeQuery(request.query()).count("tagging") == 0;
}

Status ReadUploadBody(const aws::RestXmlInput& in, ObjectBody* body, std::map<std::string, std::string>* checksums) {
  // The gateway has read the body within BodyLimit and checked it against the signed payload
  // hash. x-amz-checksum-* values are not recorded until they are verified.
  checksums->clear();
  constexpr size_t kChunk = 1 << 20;
  for (size_t at = 0; at < in.body.size(); at += kChunk)
    LATHE_RETURN_IF_ERROR(body->Append(in.body.substr(at, kChunk)));
  return Status::Ok();
}

}  // namespace lathe::s3
