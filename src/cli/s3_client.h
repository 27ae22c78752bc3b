// The S3 client behind `lathe data validate|stats|split` with s3:// inputs and outputs: GetObject
// streamed into a local file, PutObject from a local file, HeadObject. It speaks to a `lathe
// serve` (or any S3) at the endpoint BedrockClient uses, path-style (/bucket/key), signed with the
// same keys (client.h: ClientIdentity). The transport is aws::S3Client (aws/s3_client.h), the
// one the server's jobs use for buckets in another service.
//
// Errors read "s3://bucket/key: <Code>: <Message>", the code and message S3's XML error carries.
#pragma once

#include <cstdint>
#include <string>

#include "aws/s3_client.h"
#include "cli/client.h"
#include "core/status.h"
#include "service/s3_uri.h"

namespace lathe::cli {

// A download stops here: the most any `lathe data` command reads of one file (10 GB,
// data/model_limits.h), so a huge object cannot fill the temporary folder's disk.
inline constexpr uint64_t kMaxDownloadBytes = 10ull << 30;

class S3Client {
 public:
  explicit S3Client(const ClientOptions& options);

  // The object's bytes into `path`, which appears whole or not at all.
  Status Download(const service::S3Uri& object, const std::string& path);
  // The local file as the object: one PUT, signed with the file's SHA-256 in
  // x-amz-content-sha256, so the server refuses a body that changed on the way.
  Status Upload(const std::string& path, const service::S3Uri& object);
  // The object's size (HeadObject).
  Result<uint64_t> Head(const service::S3Uri& object);

 private:
  aws::S3Client client_;
};

// The request path of an object, path-style: "/bucket/" + the key percent-encoded as botocore
// encodes it (everything but RFC 3986's unreserved characters and '/').
std::string S3ObjectPath(const service::S3Uri& object);

}  // namespace lathe::cli
