// SigV2 presigned URLs for S3 (sigv2_presigned.h). The rules are botocore's HmacV1Auth, which
// is what clients sign with: the sub-resources below, values percent-decoded, sorted by name.
#include "aws/sigv2_presigned.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <map>

#include "aws/sigv4_internal.h"
#include "core/checksum.h"

namespace lathe::api {
namespace {

using namespace sigv4;

// Bounds checked before anything is parsed (the whole target is bounded by the HTTP server).
constexpr size_t kMaxAccessKeyBytes = 128;
constexpr size_t kMaxSignatureBytes = 64;  // base64 of a 20-byte HMAC-SHA1 is 28
constexpr size_t kMaxExpiresDigits = 12;   // epoch seconds; 12 digits cannot overflow time_t

// botocore.auth.HmacV1Auth.QSAOfInterest: the query parameters S3 includes in the resource.
constexpr std::string_view kSubresources[] = {
    "accelerate", "acl", "cors", "defaultObjectAcl", "location", "logging", "partNumber", "policy",
    "requestPayment", "torrent", "versioning", "versionId", "versions", "website", "uploads",
    "uploadId", "response-content-type", "response-content-language", "response-expires",
    "response-cache-control", "response-content-disposition", "response-content-encoding",
    "delete", "lifecycle", "tagging", "restore", "storageClass", "notification", "replication",
    "analytics", "metrics", "inventory", "select", "select-type", "object-lock"};

bool IsSubresource(std::string_view key) {
  return std::find(std::begin(kSubresources), std::end(kSubresources), key) !=
         std::end(kSubresources);
}

// Leading and trailing whitespace only, as botocore's str.strip().
std::string Trim(std::string_view s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  return std::string(s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1));
}

std::string_view QueryOf(std::string_view target) {
  const size_t q = target.find('?');
  return q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
}

// A standard header (content-md5, content-type): the header when sent, else the query parameter
// of that name, which is where botocore's HmacV1QueryAuth moves it.
std::string StandardValue(const SignedRequest& r, const std::vector<std::pair<std::string, std::string>>& query,
                          std::string_view lower_name) {
  std::vector<std::string> values = HeaderValues(r, lower_name);
  if (!values.empty()) return Trim(values.front());
  for (const auto& [key, value] : query)
    if (Lower(key) == lower_name) return Trim(value);
  return "";
}

std::string HmacSha1Base64(std::string_view key, std::string_view message) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), md, &len);
  return Base64Encode(std::string_view(reinterpret_cast<const char*>(md), len));
}

AuthFailure Fail(AuthError kind, std::string message) {
  AwsAuthCode code = AuthErrorCode(kind, AuthFamily::kS3, /*presigned=*/true);
  if (kind == AuthError::kMalformed) code = {"AccessDenied", 403};  // what S3 answers for SigV2
  return AuthFailure{kind, code.http_status, std::string(code.code), std::move(message), "s3", true};
}

}  // namespace

std::optional<std::string> S3PresignedV2AccessKey(std::string_view query) {
  std::string key;
  bool v2 = false;
  for (const auto& [name, value] : ParseQuery(query)) {
    if (name == "X-Amz-Algorithm") return std::nullopt;  // SigV4's
    if (name == "AWSAccessKeyId") key = value;
    v2 = v2 || name == "AWSAccessKeyId" || name == "Signature";
  }
  if (!v2) return std::nullopt;
  return key;
}

std::string S3V2StringToSign(const SignedRequest& request, std::string_view resource_path,
                             std::string_view expires) {
  const std::string_view raw_query = QueryOf(request.target);
  const auto query = ParseQuery(raw_query);
  std::string out = request.method + "\n";
  out += StandardValue(request, query, "content-md5") + "\n";
  out += StandardValue(request, query, "content-type") + "\n";
  out += std::string(expires) + "\n";

  // x-amz-* headers, lowercase, sorted, repeats joined by ','; those botocore moved into the
  // query count when not also sent as headers.
  std::map<std::string, std::vector<std::string>> amz;
  for (const auto& [name, value] : request.headers) {
    std::string lower = Lower(name);
    if (lower.rfind("x-amz-", 0) == 0) amz[lower].push_back(Trim(value));
  }
  std::map<std::string, std::vector<std::string>> from_query;
  for (const auto& [name, value] : query) {
    std::string lower = Lower(name);
    if (lower.rfind("x-amz-", 0) == 0 && !amz.count(lower)) from_query[lower].push_back(Trim(value));
  }
  amz.merge(from_query);
  for (const auto& [name, values] : amz) out += name + ":" + Join(values, ",") + "\n";

  // The resource: the path as sent, then the sub-resources (raw name, decoded value), sorted by
  // name (stable, as Python's sort), "name" alone when sent without '='.
  out += resource_path;
  std::vector<std::pair<std::string, std::optional<std::string>>> subresources;
  for (const std::string& part : Split(raw_query, '&')) {
    const size_t eq = part.find('=');
    std::string name = part.substr(0, eq);
    if (!IsSubresource(name)) continue;
    if (eq == std::string::npos)
      subresources.emplace_back(std::move(name), std::nullopt);
    else
      subresources.emplace_back(std::move(name), PercentDecode(std::string_view(part).substr(eq + 1)));
  }
  std::stable_sort(subresources.begin(), subresources.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (size_t i = 0; i < subresources.size(); ++i) {
    out += i == 0 ? "?" : "&";
    out += subresources[i].first;
    if (subresources[i].second) out += "=" + *subresources[i].second;
  }
  return out;
}

std::variant<VerifiedRequest, AuthFailure> VerifyS3PresignedV2(const SignedRequest& request,
                                                               std::string_view resource_path,
                                                               const SecretLookup& lookup,
                                                               std::time_t now) {
  if (!HeaderValues(request, "authorization").empty())
    return AuthFailure{AuthError::kMalformed, 400, "InvalidArgument",
                       "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
                       "Signature query string parameter or the Authorization header should be specified",
                       "s3", true};
  std::map<std::string, std::vector<std::string>> params;
  for (auto& [name, value] : ParseQuery(QueryOf(request.target)))
    if (name == "AWSAccessKeyId" || name == "Signature" || name == "Expires")
      params[name].push_back(std::move(value));
  for (const char* name : {"AWSAccessKeyId", "Signature", "Expires"}) {
    auto it = params.find(name);
    if (it == params.end() || it->second.size() != 1 || it->second.front().empty())
      return Fail(AuthError::kMalformed,
                  "Query-string authentication requires the Signature, Expires and AWSAccessKeyId "
                  "parameters, each once");
  }
  const std::string& key_id = params["AWSAccessKeyId"].front();
  const std::string& signature = params["Signature"].front();
  const std::string& expires = params["Expires"].front();
  if (key_id.size() > kMaxAccessKeyBytes || signature.size() > kMaxSignatureBytes)
    return Fail(AuthError::kMalformed, "AWSAccessKeyId or Signature is longer than any valid one.");
  if (expires.size() > kMaxExpiresDigits ||
      !std::all_of(expires.begin(), expires.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return Fail(AuthError::kMalformed,
                "Invalid date (should be seconds since epoch): " + Printable(expires));
  const std::time_t expires_at = static_cast<std::time_t>(std::stoll(expires));

  std::optional<std::string> secret = lookup(key_id);
  if (!secret)
    return Fail(AuthError::kUnknownKey,
                "The AWS Access Key Id you provided does not exist in our records.");
  if (now > expires_at) return Fail(AuthError::kExpired, "Request has expired");
  const std::string expected =
      HmacSha1Base64(*secret, S3V2StringToSign(request, resource_path, expires));
  if (!SecureEquals(expected, signature))
    return Fail(AuthError::kBadSignature,
                "The request signature we calculated does not match the signature you provided. "
                "Check your key and signing method.");

  VerifiedRequest v;
  v.access_key_id = key_id;
  v.service = "s3";
  v.signed_at = now;
  v.signed_payload_hash = std::string(kUnsignedPayload);
  v.payload = PayloadMode::kUnsigned;
  v.presigned = true;
  v.expires_at = expires_at;
  return v;
}

void PresignS3V2(SignedRequest* request, const Credentials& credentials, std::time_t expires_at) {
  const std::string expires = std::to_string(expires_at);
  const size_t q = request->target.find('?');
  const std::string path = request->target.substr(0, q);
  const std::string signature = HmacSha1Base64(credentials.secret_access_key,
                                               S3V2StringToSign(*request, path, expires));
  request->target += q == std::string::npos ? "?" : "&";
  request->target += "AWSAccessKeyId=" + UriEncode(credentials.access_key_id, false) +
                     "&Signature=" + UriEncode(signature, false) + "&Expires=" + expires;
}

}  // namespace lathe::api
