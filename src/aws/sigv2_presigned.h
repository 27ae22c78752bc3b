// S3's Signature Version 2 query-string authentication (presigned URLs), which boto3's default
// `generate_presigned_url` and the AWS CLI v1's `aws s3 presign` still produce:
//   /bucket/key?AWSAccessKeyId=KEY&Signature=BASE64&Expires=EPOCH
// Signature = base64(HMAC-SHA1(secret, StringToSign)), where StringToSign is
//   VERB \n Content-MD5 \n Content-Type \n Expires \n CanonicalizedAmzHeaders CanonicalizedResource
// (AWS: "Signing and authenticating REST requests", query string request authentication;
// botocore.auth.HmacV1QueryAuth). Only S3 accepts it, and only in the query: the header form
// (`Authorization: AWS key:sig`) stays refused. A presigned URL never covers the body, so an
// upload through one is UNSIGNED-PAYLOAD.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "aws/sigv4.h"

namespace lathe::api {

// Whether the query is SigV2 query-string authentication (AWSAccessKeyId or Signature present,
// no SigV4 X-Amz-Algorithm): then the access key id it names ("" when missing), else nullopt.
// Unchecked: the gateway dispatches such requests to S3 and looks the key up before anything else.
std::optional<std::string> S3PresignedV2AccessKey(std::string_view query);

// The StringToSign for a request. `resource_path` is the path S3 signs: the request's path as
// sent ("/bucket/a%20b"), with "/bucket" in front for virtual-hosted-style requests.
// `expires` is the Expires parameter as sent. Exposed for tests.
std::string S3V2StringToSign(const SignedRequest& request, std::string_view resource_path,
                             std::string_view expires);

// Verifies a SigV2 presigned request (request.target holds the query). Failures carry S3's codes:
// AccessDenied (parameters missing or malformed, or "Request has expired"), InvalidAccessKeyId,
// SignatureDoesNotMatch. On success: service "s3", region empty (the caller's default), payload
// UNSIGNED-PAYLOAD, presigned, expires_at.
std::variant<VerifiedRequest, AuthFailure> VerifyS3PresignedV2(const SignedRequest& request,
                                                               std::string_view resource_path,
                                                               const SecretLookup& lookup,
                                                               std::time_t now);

// Presigns as HmacV1QueryAuth does (for tests and lathe's own clients): appends AWSAccessKeyId,
// Signature and Expires (epoch seconds) to request->target. Headers are left as they are: one
// signed (Content-Type, x-amz-*) must be sent with the request.
void PresignS3V2(SignedRequest* request, const Credentials& credentials, std::time_t expires_at);

}  // namespace lathe::api
