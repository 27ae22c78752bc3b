// lathe's S3 client: the few operations lathe needs of an S3-compatible service (AWS S3, MinIO,
// Ceph RGW, another `lathe serve`), over libcurl, signed with SigV4 as botocore's S3SigV4Auth signs
// (api::SignSigV4, the signer the server's verifier is tested against). Used by the jobs for
// buckets that live in another service (server/external_job_objects.h) and by `lathe data` for
// s3:// files (cli/s3_client.h).
//
// Bodies stream between the socket and a local file: memory stays bounded whatever the object's
// size. Every request is bounded in time (kS3ConnectTimeoutSeconds, kS3StallSeconds,
// kS3HeadTimeoutSeconds); error answers are kept up to kMaxS3ErrorBody. Redirects are never
// followed (S3's 301 names another endpoint: the error says which), only http and https are
// spoken, and nothing here logs a header: the Authorization header stays between lathe and S3.
//
// Errors: Status::Aws with S3's code and HTTP status, the message "s3://bucket/key: <Code>:
// <Message>" (s3_request.h: S3ErrorStatus); an endpoint that cannot be reached is an IOError.
#pragma once

#include <cstdint>
#include <string>

#include "aws/s3_request.h"
#include "core/status.h"

namespace lathe::aws {

// Bounds on one request (docs/serve.md, Limits).
inline constexpr long kS3ConnectTimeoutSeconds = 10;
// A transfer that moves less than a byte a second for this long is abandoned; there is no total
// limit on GET and PUT, whose time grows with the object.
inline constexpr long kS3StallSeconds = 60;
inline constexpr long kS3HeadTimeoutSeconds = 30;  // HEAD and other bodiless requests, in all

// What S3 says of an object: HeadObject's answer, or the GetObject that copied it.
struct S3ObjectHead {
  std::string etag;        // unquoted
  std::string version_id;  // "" when the bucket is not versioned
  uint64_t size = 0;
  int64_t modified_ms = 0;  // Last-Modified; 0 when not sent
};

class S3Client {
 public:
  explicit S3Client(S3Endpoint endpoint) : endpoint_(std::move(endpoint)) {}

  // OK when the bucket exists and the credentials may list it. HEAD answers carry no body, so a
  // 403 is asked again as a ListObjectsV2 of no keys to learn S3's code (SignatureDoesNotMatch,
  // InvalidAccessKeyId, AccessDenied): an operator's mistake is then named.
  Status HeadBucket(const std::string& bucket);
  Result<S3ObjectHead> HeadObject(const std::string& bucket, const std::string& key);
  // The object's bytes into `path`, which appears whole or not at all. An object over
  // `max_bytes` is refused from its Content-Length before a byte is written (InvalidArgument, no
  // AWS code); a body longer than it said stops the transfer at `max_bytes`. `head` (optional)
  // says which version was copied.
  Status GetObject(const std::string& bucket, const std::string& key, const std::string& path, uint64_t max_bytes,
                   S3ObjectHead* head = nullptr);
  // The local file as the object, streamed in one PUT (at most kMaxSinglePutBytes, 5 GiB). x-amz-content-sha256 carries the file's
  // SHA-256 (read once before sending), not UNSIGNED-PAYLOAD: the signature then covers the
  // bytes, so S3 refuses a body changed on the way, even over plain http. `content_type` "" sends
  // none.
  Status PutObject(const std::string& path, const std::string& bucket, const std::string& key,
                   const std::string& content_type = "");

  // Deletes the object; OK when it was not there (S3 answers 204 either way).
  Status DeleteObject(const std::string& bucket, const std::string& key);

  const S3Endpoint& endpoint() const { return endpoint_; }

 private:
  S3Endpoint endpoint_;
};

}  // namespace lathe::aws
