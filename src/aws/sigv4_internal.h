// Pieces shared by sigv4.cc (header and presigned verification, signing), sigv4_s3.cc (S3's
// rules) and aws_chunked.cc (chunk signatures). Not part of the aws layer's interface.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aws/rest_path.h"
#include "aws/sigv4.h"
#include "aws/wire.h"

namespace lathe::api::sigv4 {

inline constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
inline constexpr std::string_view kStreamingSigned = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
inline constexpr std::string_view kStreamingSignedTrailer =
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
inline constexpr std::string_view kStreamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
inline constexpr std::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// ASCII only: the locale-dependent <cctype> functions may accept bytes above 0x7f.
std::string Lower(std::string_view s);
std::vector<std::string> Split(std::string_view s, char sep);
std::string Join(const std::vector<std::string>& parts, std::string_view sep);
// Trims and collapses inner runs of whitespace, like botocore's ' '.join(value.split()).
std::string TrimAll(std::string_view v);
inline int HexValue(char c) { return aws::HexDigit(c); }
bool IsHex64(std::string_view s);
// RFC 3986 encoding with uppercase hex, as SigV4 requires; '/' is kept in paths only.
std::string UriEncode(std::string_view s, bool keep_slash);
// Decodes %XX only: '+' stays '+', since SigV4 clients send a space as %20.
inline std::string PercentDecode(std::string_view s) { return aws::PercentDecode(s, false); }
// Request text echoed in messages: printable ASCII, at most 200 bytes, so invalid UTF-8 is never
// sent back.
inline std::string Printable(std::string_view s) { return aws::Printable(s, 200); }

// The query's pairs, percent-decoded, in order.
std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view query);
// Encoded the SigV4 way and sorted by key, then value; pairs named `skip` are left out (a
// presigned URL's X-Amz-Signature).
std::string CanonicalQuery(const std::vector<std::pair<std::string, std::string>>& pairs,
                           std::string_view skip = {});

// The values of every header of that (lowercase) name, in order received.
std::vector<std::string> HeaderValues(const SignedRequest& r, std::string_view lower_name);

std::string Hmac(std::string_view key, std::string_view msg);
std::string HexOf(std::string_view bytes);  // lowercase
// Constant-time equality of two strings (their lengths are not secret).
bool SecureEquals(std::string_view a, std::string_view b);
// kSigning for the scope {date, region, service, "aws4_request"}.
std::string SigningKey(std::string_view secret, const std::vector<std::string>& scope);

// "20150830T123600Z", or with http_date the form botocore writes into Date (formatdate()).
std::string FormatTime(std::time_t t, bool http_date = false);
// Either form above; an HTTP date may also end in GMT or +0000.
std::optional<std::time_t> ParseTime(const std::string& s);

// What a canonical request is built from, once the rules of the service are applied.
struct CanonicalInput {
  std::string method;
  std::string canonical_uri;
  std::string canonical_query;
  std::vector<std::string> signed_names;  // sorted, lowercase, unique
  std::string payload_hash;
};
std::string CanonicalRequest(const SignedRequest& r, const CanonicalInput& in);
// The hex signature of a canonical request under a scope, and the signing key it used.
std::string SignCanonical(const std::string& canonical_request, const std::string& timestamp,
                          const std::vector<std::string>& scope, const std::string& signing_key);

// botocore's path rules for all services but S3: dot segments removed, then encoded once more.
std::string NormalizedCanonicalUri(std::string_view raw_path);
// S3's: no normalisation; each segment decoded and encoded once (botocore sends keys encoded
// once, so for its requests this is the path as sent; a raw '~' or '%7E' sign alike).
std::string S3CanonicalUri(std::string_view raw_path);

// S3's x-amz-content-sha256 rules for a header-signed request: fills payload, signed hash,
// decoded length and trailer names in `out`, or says why the request is refused.
std::optional<std::pair<AuthError, std::string>> ApplyS3PayloadRules(const SignedRequest& r,
                                                                     const VerifyOptions& options,
                                                                     VerifiedRequest* out);
// S3 refuses x-amz-* headers that are sent but not signed (a proxy could add x-amz-acl).
std::optional<std::string> S3UnsignedAmzHeader(const SignedRequest& r,
                                               const std::vector<std::string>& signed_names);
// S3's messages for a scope that names another service or region.
std::string S3WrongServiceMessage(std::string_view given, std::string_view expected);
std::string S3WrongRegionMessage(std::string_view given, std::string_view expected, bool presigned);

}  // namespace lathe::api::sigv4
