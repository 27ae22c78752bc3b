// The socket-free half of lathe's S3 client (s3_client.h): where a bucket lives (S3Endpoint), the
// signed request for one operation, and S3's XML error turned into a Status. Kept apart from the
// libcurl transport so that signing and error parsing are tested in-process, against AWS's
// published examples, without a server.
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

#include "aws/sigv4.h"
#include "core/status.h"

namespace lathe::aws {

// An S3-compatible service (AWS S3, MinIO, Ceph RGW, another lathe) and how to sign for it.
struct S3Endpoint {
  std::string url;                 // "https://s3.eu-west-1.amazonaws.com", no trailing '/'
  std::string region = "us-east-1";
  std::optional<api::Credentials> credentials;  // none: requests go unsigned
  // Path-style addressing puts the bucket in the path (http://host/bucket/key), which MinIO, RGW
  // and lathe expect by default; virtual-hosted (http://bucket.host/key) is AWS's default.
  bool path_style = true;
  std::string ca_bundle;           // a PEM file trusted for https:// ("" = the system's CAs)
  // Appended to "cannot reach the S3 endpoint ..." (the CLI says to start `lathe serve`).
  std::string unreachable_hint;
};

// One operation's request, signed: the URL libcurl opens and the headers it sends as they are.
struct S3HttpRequest {
  std::string url;
  api::SignedRequest signed_request;  // method, path+query, headers incl. Host and Authorization
};

// The request for `method` on `bucket` and `key` ("" for a bucket operation). `query` is already
// encoded ("list-type=2&max-keys=0"); `payload_sha256` is the body's hash (of "" without a body).
// Signed as botocore's S3SigV4Auth signs, at `now`, when the endpoint has credentials; a
// `content_type` other than "" is sent and signed (botocore signs every header it sends).
Result<S3HttpRequest> BuildS3Request(const S3Endpoint& endpoint, std::string_view method, std::string_view bucket,
                                     std::string_view key, std::string_view query, std::string_view payload_sha256,
                                     std::time_t now, std::string_view content_type = "");

// A key as botocore encodes it in a path: everything but RFC 3986's unreserved characters and
// '/' percent-encoded ("my data/100%.jsonl" -> "my%20data/100%25.jsonl"). S3 never normalises keys.
std::string EncodeS3Key(std::string_view key);

// The most bytes of an error answer kept (S3's XML errors are a few hundred bytes).
inline constexpr size_t kMaxS3ErrorBody = 64 * 1024;

// A non-2xx answer as a Status::Aws carrying S3's code and HTTP status, with the message
// "<what>: <Code>: <Message>" (plus the endpoint S3 names in a redirect). A HEAD answer has no
// body: its code is S3's for the status (404 -> `not_found_code`, 403 -> AccessDenied, 301 ->
// PermanentRedirect). Code()-wise: 404 is kNotFound, 5xx kInternal, the rest kInvalidArgument.
Status S3ErrorStatus(long http_status, std::string_view body, const std::string& what,
                     std::string_view not_found_code = "NoSuchKey");

}  // namespace lathe::aws
