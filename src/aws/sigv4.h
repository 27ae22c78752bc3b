// AWS Signature Version 4, Authorization-header form: what boto3 and the AWS CLI send, so that
// unmodified clients pointed at `lathe serve` authenticate as they would against Bedrock.
// Transport-neutral (no httplib here) so it can be tested without a socket and reused by a client.
#pragma once

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

enum class AuthError { kMissing, kUnknownKey, kBadSignature, kStale, kMalformed };

// What AWS answers: HTTP status, x-amzn-ErrorType value, message. The caller sends these as is,
// because SDKs turn error_type into the exception class users catch.
struct AuthFailure {
  AuthError kind;
  int http_status;
  std::string error_type;
  std::string message;
};

// Verifies the Authorization header the way AWS does for non-S3 services (botocore's SigV4Auth).
// Any region and service in the credential scope are accepted: boto3 signs both bedrock and
// bedrock-runtime as "bedrock", and a local server has no region to insist on.
// The signed time (X-Amz-Date, else Date) must be within max_skew_seconds of now.
// x-amz-content-sha256, when sent, is what gets signed; a hex value must also match the body.
// Returns the verified access key id.
std::variant<std::string, AuthFailure> VerifySigV4(const SignedRequest& request,
                                                   const SecretLookup& lookup, std::time_t now,
                                                   int max_skew_seconds = 900);

// Signs as botocore does, byte for byte: sets X-Amz-Date (or rewrites Date when the request has
// one), signs every header present except hop-by-hop ones and User-Agent, and adds Authorization.
// The caller supplies Host. No x-amz-content-sha256 is added (botocore adds none for Bedrock);
// one already present is signed in place of the body's hash.
void SignSigV4(SignedRequest* request, std::string_view region, std::string_view service,
               const Credentials& credentials, std::time_t now);

}  // namespace lathe::api
