#include "cli/s3_client.h"

#include <cstdlib>

#include "aws/s3_request.h"

namespace lathe::cli {
namespace {

aws::S3Endpoint EndpointOf(const ClientIdentity& who) {
  aws::S3Endpoint endpoint;
  endpoint.url = who.endpoint;
  endpoint.region = who.region;
  endpoint.credentials = who.credentials;
  endpoint.path_style = true;  // as BedrockClient's endpoint is a `lathe serve`
  // An https:// server with its own CA (`lathe serve --tls-self-signed`), trusted as the AWS CLI
  // trusts it: AWS_CA_BUNDLE.
  if (const char* ca = std::getenv("AWS_CA_BUNDLE"); ca && *ca) endpoint.ca_bundle = ca;
  endpoint.unreachable_hint =
      "Is lathe serve running? Start it with `lathe serve`, or point --endpoint or AWS_ENDPOINT_URL at it.";
  return endpoint;
}

}  // namespace

std::string S3ObjectPath(const service::S3Uri& object) {
  return "/" + object.bucket + "/" + aws::EncodeS3Key(object.key);
}

S3Client::S3Client(const ClientOptions& options) : client_(EndpointOf(ResolveClientIdentity(options))) {}

Status S3Client::Download(const service::S3Uri& object, const std::string& path) {
  return client_.GetObject(object.bucket, object.key, path, kMaxDownloadBytes);
}

Status S3Client::Upload(const std::string& path, const service::S3Uri& object) {
  return client_.PutObject(path, object.bucket, object.key);
}

Result<uint64_t> S3Client::Head(const service::S3Uri& object) {
  auto head = client_.HeadObject(object.bucket, object.key);
  if (!head.ok()) return head.status();
  return head->size;
}

}  // namespace lathe::cli
