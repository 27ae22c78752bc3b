// The S3 client behind `lathe data validate|stats|split` with s3:// inputs and outputs: GetObject
// streamed into a local file, PutObject from a local file, HeadObject. It speaks to a `lathe
// serve` (or any S3) at the endpoint BedrockClient uses, path-style (/bucket/key), signed with the
// same keys (client.h: ClientIdentity) as botocore's S3SigV4Auth signs.
//
// Bodies stream between the socket and the file: memory stays bounded whatever the object's size.
// Errors read "s3://bucket/key: <Code>: <Message>", the code and message S3's XML error carries.
#pragma once

#include <cstdint>
#include <string>

#include "cli/client.h"
#include "core/status.h"
#include "service/s3_uri.h"

namespace lathe::cli {

// One PUT carries at most 5 GiB (S3's PutObject limit; larger objects need multipart uploads,
// which `lathe data` outputs never approach).
inline constexpr uint64_t kMaxSinglePutBytes = 5ull << 30;
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
  ClientIdentity who_;
};

// The request path of an object, path-style: "/bucket/" + the key percent-encoded as botocore
// encodes it (everything but RFC 3986's unreserved characters and '/').
std::string S3ObjectPath(const service::S3Uri& object);

}  // namespace lathe::cli
