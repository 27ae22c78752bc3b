// AWS Signature Version 4, as boto3 and the AWS CLI send it, so that unmodified clients pointed at
// `lathe serve` authenticate as they would against AWS: the Authorization header, presigned URLs
// (query parameters), S3's rules (x-amz-content-sha256, no path normalisation, aws-chunked
// streaming; see aws_chunked.h) and Bedrock API keys (Authorization: Bearer).
// Transport-neutral (no HTTP server here) so it can be tested without a socket and reused by a client.
#pragma once

#include <cstdint>
#include <ctime>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace lathe::api {

struct SignedRequest {
  std::string method;  // "POST"
  // The raw request target as received, NOT decoded: "/model/arn%3Aaws%3A...%2Fabc/invoke?x=1".
  // Clients sign the encoded path encoded once more, so decoding it first loses information.
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;  // as received: any case, may repeat
  std::string_view body;
};

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
};

// The secret for an access key id, or nullopt when the key is unknown.
using SecretLookup = std::function<std::optional<std::string>(const std::string& access_key_id)>;

// Why a request is refused. The AWS error code depends on the service's protocol as well
// (AuthErrorCode below), so the kind is what the verifier decides and the code is derived.
enum class AuthError {
  kMissing,                // no Authorization header and no presigned query parameters
  kUnknownKey,             // access key id (or bearer token) not known
  kBadSignature,           // signature mismatch; scope date mismatch; host not signed
  kStale,                  // X-Amz-Date outside the allowed clock skew
  kExpired,                // presigned URL past X-Amz-Expires, or dated in the future
  kMalformed,              // Authorization header / presigned parameters unusable
  kWrongScope,             // credential scope names another service or a region not served
  kContentSha256Mismatch,  // x-amz-content-sha256 is a hash, but not the body's
  kBadContentSha256,       // S3: x-amz-content-sha256 (or what it needs) missing or invalid
  kHeadersNotSigned,       // S3: x-amz-* headers sent but not signed
};

// Which of AWS's three families of authentication errors a service answers with.
enum class AuthFamily {
  kJson,   // rest-json and json 1.0/1.1 (bedrock, lambda, events, states): *Exception names
  kQuery,  // query protocol (iam, sts, sns, sqs): SignatureDoesNotMatch, InvalidClientTokenId...
  kS3,     // rest-xml S3: SignatureDoesNotMatch, InvalidAccessKeyId, AccessDenied...
};
// The family of a SigV4 signing name ("s3" -> kS3, "iam"/"sts"/"sns" -> kQuery, else kJson).
AuthFamily FamilyOfService(std::string_view signing_name);

struct AwsAuthCode {
  std::string_view code;  // "InvalidSignatureException", "SignatureDoesNotMatch", ...
  int http_status;
};
// The AWS error code and HTTP status for `kind` in `family`. `presigned`: S3 answers malformed
// query parameters with AuthorizationQueryParametersError rather than AuthorizationHeaderMalformed.
AwsAuthCode AuthErrorCode(AuthError kind, AuthFamily family, bool presigned = false);

// What AWS answers: HTTP status, error code, message. The caller sends these as is, because SDKs
// turn error_type into the exception class users catch.
struct AuthFailure {
  AuthError kind;
  int http_status = 0;
  std::string error_type;
  std::string message;
  std::string service;     // the credential scope's service when parsed that far, else ""
  bool presigned = false;  // the request used query parameters rather than the header
};

// A Bedrock API key that `Authorization: Bearer <token>` may present, and whose it is.
struct BearerToken {
  std::string token;
  std::string access_key_id;  // the identity the token acts as
};

struct VerifyOptions {
  int max_skew_seconds = 900;
  // When set, the scope's service must be this signing name ("bedrock" serves both Bedrock and
  // Bedrock Runtime: boto3 signs both as "bedrock").
  std::optional<std::string> expected_service;
  // Regions served; empty accepts any well-formed region (a local server has none to insist on).
  std::vector<std::string> allowed_regions;
  // The error family to answer in; by default that of expected_service, else of the scope's.
  std::optional<AuthFamily> family;
  // S3 only: request.body has not been read (uploads stream). A hash in x-amz-content-sha256 is
  // then returned in signed_payload_hash for the caller to check once the body is in. Other
  // services are read whole (within their bound) before verification.
  bool body_unread = false;
  // Bedrock API keys, accepted only when expected_service is unset or bedrock/bedrock-runtime.
  // Empty: bearer tokens are refused like any malformed Authorization header.
  std::vector<BearerToken> bearer_tokens;
};

// What x-amz-content-sha256 (S3) says about the body.
enum class PayloadMode {
  kHashed,                    // a SHA-256 hex of the whole body (or the body hashed, non-S3)
  kUnsigned,                  // UNSIGNED-PAYLOAD
  kStreamingSigned,           // STREAMING-AWS4-HMAC-SHA256-PAYLOAD: aws-chunked, chunk signatures
  kStreamingSignedTrailer,    // ...-PAYLOAD-TRAILER: also a signed trailer (x-amz-checksum-*)
  kStreamingUnsignedTrailer,  // STREAMING-UNSIGNED-PAYLOAD-TRAILER: aws-chunked, plain trailer
};

// What chunk and trailer signatures are computed from: the request's signing key, time, scope and
// signature (the "seed" of the chain). Secret-derived: keep it only as long as the request.
struct ChunkSigning {
  std::string signing_key;     // HMAC key derived for the scope (32 raw bytes)
  std::string timestamp;       // "20130524T000000Z"
  std::string scope;           // "20130524/us-east-1/s3/aws4_request"
  std::string seed_signature;  // the request's own signature, lowercase hex
};

// A request whose signature (or bearer token) checked out.
struct VerifiedRequest {
  std::string access_key_id;
  std::string region;   // from the credential scope ("" for a bearer token, unless one region)
  std::string service;  // the scope's signing name: the gateway dispatches on it
  std::string date;     // the scope's YYYYMMDD
  std::time_t signed_at = 0;
  // The payload hash the signature covers: a SHA-256 hex, UNSIGNED-PAYLOAD, STREAMING-...
  std::string signed_payload_hash;
  PayloadMode payload = PayloadMode::kHashed;
  // With body_unread and kHashed: the caller must still compare signed_payload_hash with the body.
  bool payload_hash_checked = true;
  bool presigned = false;
  bool bearer = false;
  std::time_t expires_at = 0;              // presigned: signed_at + X-Amz-Expires
  int64_t decoded_content_length = -1;     // streaming: x-amz-decoded-content-length
  std::vector<std::string> trailer_names;  // trailer modes: x-amz-trailer, lowercase
  ChunkSigning chunk_signing;              // for AwsChunkedDecoder (not set for bearer)
};

// The credential scope a request claims, from its Authorization header (when given) or its
// presigned query parameters: who says they signed, for which service and region. Unchecked:
// the gateway dispatches on it, VerifySigV4 then checks it. nullopt when there is none.
struct ClaimedScope {
  std::string access_key_id, date, region, service;
};
std::optional<ClaimedScope> ClaimedCredentialScope(const std::string* authorization, std::string_view query);

// Verifies the Authorization header (botocore's SigV4Auth, or S3SigV4Auth when the scope's
// service is "s3"), or presigned query parameters (X-Amz-Algorithm, ...; SigV4QueryAuth), or a
// bearer token. The signed time must be within max_skew_seconds of now (a presigned URL: not
// expired). x-amz-content-sha256, when sent, is what gets signed; a hex value must match the body.
std::variant<VerifiedRequest, AuthFailure> VerifySigV4(const SignedRequest& request,
                                                       const SecretLookup& lookup, std::time_t now,
                                                       const VerifyOptions& options = {});

// Signs as botocore does, byte for byte: sets X-Amz-Date (or rewrites Date when the request has
// one), signs every header present except hop-by-hop ones and User-Agent, and adds Authorization.
// The caller supplies Host. For service "s3" (S3SigV4Auth) the path is signed as sent and
// X-Amz-Content-SHA256 is added (the body's hash) unless present (e.g. UNSIGNED-PAYLOAD).
// Otherwise no x-amz-content-sha256 is added (botocore adds none for Bedrock); one already
// present is signed in place of the body's hash.
void SignSigV4(SignedRequest* request, std::string_view region, std::string_view service,
               const Credentials& credentials, std::time_t now);

// Presigns as botocore's S3SigV4QueryAuth/SigV4QueryAuth do: appends X-Amz-Algorithm,
// X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders (host) and X-Amz-Signature to
// request->target. The payload is UNSIGNED-PAYLOAD for s3, the body's hash otherwise.
void PresignSigV4(SignedRequest* request, std::string_view region, std::string_view service,
                  const Credentials& credentials, std::time_t now, int expires_seconds);

}  // namespace lathe::api
