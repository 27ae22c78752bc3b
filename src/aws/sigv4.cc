// SigV4 verification (Authorization header and presigned query parameters), bearer tokens, the
// AWS error codes of each protocol family, and botocore-compatible signing. S3's own rules are
// in sigv4_s3.cc, the aws-chunked body in aws_chunked.cc.
#include "aws/sigv4.h"

#include <algorithm>
#include <map>

#include "aws/sigv4_internal.h"
#include "core/sha256.h"

namespace lathe::api {

using namespace sigv4;  // NOLINT: this file is the module the helpers were split from

namespace {

// Region and service names in a credential scope: AWS's are under 20 bytes.
constexpr size_t kMaxScopeNameBytes = 64;
// X-Amz-Expires: AWS's bound, one week.
constexpr int kMaxPresignSeconds = 604800;
// Bedrock API keys are ~100 bytes (long-term) or ~1.5 KiB (short-term, a presigned URL).
constexpr size_t kMaxBearerTokenBytes = 8192;

bool IsScopeName(std::string_view s) {
  return !s.empty() && s.size() <= kMaxScopeNameBytes &&
         std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
         });
}

bool IsBedrock(std::string_view service) {
  return service == "bedrock" || service == "bedrock-runtime";
}

void SortUnique(std::vector<std::string>* v) {
  std::sort(v->begin(), v->end());
  v->erase(std::unique(v->begin(), v->end()), v->end());
}

// What the Authorization header or the presigned query parameters say.
struct AuthParams {
  bool presigned = false;
  std::string algorithm;
  std::string credential;
  std::string signed_headers;
  std::string signature;
  std::string date;          // X-Amz-Date (header or query), else Date
  std::string expires_text;  // presigned only: X-Amz-Expires as sent
  int expires = 0;           // ... and as checked
};

// Builds refusals in the error family the request will be answered in; the family may depend
// on the scope's service, known only once the credential is parsed.
class Refuser {
 public:
  explicit Refuser(const VerifyOptions& options) : options_(options) {}
  void set_service(std::string service) { service_ = std::move(service); }
  void set_presigned(bool presigned) { presigned_ = presigned; }
  AuthFamily family() const {
    if (options_.family) return *options_.family;
    if (options_.expected_service) return FamilyOfService(*options_.expected_service);
    return FamilyOfService(service_);
  }
  AuthFailure operator()(AuthError kind, std::string message) const {
    AwsAuthCode code = AuthErrorCode(kind, family(), presigned_);
    return {kind,
            code.http_status,
            std::string(code.code),
            std::move(message),
            IsScopeName(service_) ? service_ : "",
            presigned_};
  }

 private:
  const VerifyOptions& options_;
  std::string service_;
  bool presigned_ = false;
};

// "AWS4-HMAC-SHA256 Credential=k/d/r/s/aws4_request, SignedHeaders=a;b, Signature=hex" as its
// tokens (the algorithm first) and its name=value parameters: separated by commas and/or
// spaces, as AWS accepts either.
std::vector<std::string> AuthorizationTokens(const std::string& authorization,
                                             std::map<std::string, std::string>* params) {
  std::string header = TrimAll(authorization);
  std::replace(header.begin(), header.end(), ',', ' ');
  std::vector<std::string> tokens = Split(TrimAll(header), ' ');
  for (const std::string& t : tokens) {
    size_t eq = t.find('=');
    if (eq != std::string::npos) (*params)[t.substr(0, eq)] = t.substr(eq + 1);
  }
  return tokens;
}

std::variant<AuthParams, AuthFailure> HeaderParams(const SignedRequest& request,
                                                   const std::string& authorization,
                                                   const Refuser& refuse) {
  std::map<std::string, std::string> params;
  std::vector<std::string> tokens = AuthorizationTokens(authorization, &params);
  std::vector<std::string> dates = HeaderValues(request, "x-amz-date");
  if (dates.empty()) dates = HeaderValues(request, "date");
  std::vector<std::string> missing;
  for (const char* name : {"Credential", "Signature", "SignedHeaders"})
    if (params[name].empty())
      missing.push_back("Authorization header requires '" + std::string(name) + "' parameter.");
  if (dates.empty())
    missing.push_back(
        "Authorization header requires existence of either a 'X-Amz-Date' or a "
        "'Date' header.");
  // Unlike AWS, the header itself is not echoed: a bearer token sent by mistake is a secret.
  if (!missing.empty()) return refuse(AuthError::kMalformed, Join(missing, " "));
  AuthParams out;
  out.algorithm = tokens[0];
  out.credential = params["Credential"];
  out.signed_headers = params["SignedHeaders"];
  out.signature = params["Signature"];
  out.date = TrimAll(dates.front());
  return out;
}

std::variant<AuthParams, AuthFailure> QueryParams(
    const std::vector<std::pair<std::string, std::string>>& query, const Refuser& refuse) {
  std::map<std::string, std::vector<std::string>> found;
  for (const auto& [key, value] : query)
    if (key.rfind("X-Amz-", 0) == 0) found[key].push_back(value);
  std::vector<std::string> problems;
  for (const char* name : {"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature",
                           "X-Amz-SignedHeaders", "X-Amz-Date", "X-Amz-Expires"}) {
    auto it = found.find(name);
    if (it == found.end() || it->second.front().empty())
      problems.push_back("AWS query-string parameters must include '" + std::string(name) + "'.");
    else if (it->second.size() > 1)
      problems.push_back("AWS query-string parameter '" + std::string(name) +
                         "' must appear only once.");
  }
  if (!problems.empty())
    return refuse(AuthError::kMalformed,
                  Join(problems, " ") + " Re-examine the query-string parameters.");
  AuthParams out;
  out.presigned = true;
  out.algorithm = found["X-Amz-Algorithm"].front();
  out.credential = found["X-Amz-Credential"].front();
  out.signed_headers = found["X-Amz-SignedHeaders"].front();
  out.signature = found["X-Amz-Signature"].front();
  out.date = found["X-Amz-Date"].front();
  out.expires_text = found["X-Amz-Expires"].front();
  return out;
}

// X-Amz-Expires: whole seconds, 1 to a week.
std::optional<std::string> CheckExpires(AuthParams* p) {
  const std::string& text = p->expires_text;
  if (text.size() > 9 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return "X-Amz-Expires should be a number of seconds, not '" + Printable(text) + "'.";
  p->expires = std::stoi(text);
  if (p->expires > kMaxPresignSeconds)
    return "X-Amz-Expires must be less than a week (in seconds) that is 604800";
  if (p->expires < 1) return "X-Amz-Expires must be at least 1.";
  return std::nullopt;
}

std::variant<VerifiedRequest, AuthFailure> VerifyBearer(std::string_view token,
                                                        const VerifyOptions& options,
                                                        const Refuser& refuse, std::time_t now) {
  // Compared by SHA-256 digest, every configured token each time: the time taken says neither
  // which token nearly matched nor how long the right one is.
  const std::string given = token.size() <= kMaxBearerTokenBytes ? Sha256Hex(token) : "";
  const BearerToken* match = nullptr;
  for (const BearerToken& t : options.bearer_tokens)
    if (SecureEquals(given, Sha256Hex(t.token)) && !match) match = &t;
  if (!match)
    return refuse(AuthError::kUnknownKey, "The security token included in the request is invalid.");
  VerifiedRequest v;
  v.access_key_id = match->access_key_id;
  v.service = options.expected_service.value_or("bedrock");
  if (options.allowed_regions.size() == 1) v.region = options.allowed_regions.front();
  v.signed_at = now;
  v.bearer = true;
  v.payload = PayloadMode::kUnsigned;
  v.signed_payload_hash = std::string(kUnsignedPayload);
  return v;
}

// The scope's service and region: the one expected, and well formed.
std::optional<AuthFailure> CheckScope(const std::string& service, const std::string& region,
                                      bool presigned, const VerifyOptions& options,
                                      const Refuser& refuse) {
  const bool s3_errors = refuse.family() == AuthFamily::kS3;
  const auto& expected = options.expected_service;
  if (expected ? service != *expected : !IsScopeName(service)) {
    if (s3_errors)
      return refuse(AuthError::kWrongScope, S3WrongServiceMessage(service, expected.value_or("")));
    return refuse(AuthError::kWrongScope,
                  expected ? "Credential should be scoped to correct service: '" + *expected + "'."
                           : "Credential should be scoped to a valid service, not '" +
                                 Printable(service) + "'.");
  }
  const auto& allowed = options.allowed_regions;
  if (IsScopeName(region) &&
      (allowed.empty() || std::find(allowed.begin(), allowed.end(), region) != allowed.end()))
    return std::nullopt;
  if (s3_errors)
    return refuse(AuthError::kWrongScope,
                  S3WrongRegionMessage(region, allowed.empty() ? "" : allowed.front(), presigned));
  return refuse(AuthError::kWrongScope,
                "Credential should be scoped to a valid region, not '" + Printable(region) + "'.");
}

// A header-signed request within the clock skew; a presigned one within its life.
std::optional<AuthFailure> CheckTime(std::time_t signed_at, const AuthParams& p, std::time_t now,
                                     int skew, const Refuser& refuse) {
  if (p.presigned) {
    if (signed_at > now + skew) return refuse(AuthError::kExpired, "Request is not valid yet");
    if (now > signed_at + p.expires) return refuse(AuthError::kExpired, "Request has expired");
    return std::nullopt;
  }
  if (signed_at >= now - skew && signed_at <= now + skew) return std::nullopt;
  if (refuse.family() == AuthFamily::kS3)
    return refuse(AuthError::kStale,
                  "The difference between the request time and the current time is too large.");
  const std::string timestamp = FormatTime(signed_at);
  const std::string minutes = std::to_string(skew / 60) + " min.)";
  if (signed_at < now - skew)
    return refuse(AuthError::kStale, "Signature expired: " + timestamp + " is now earlier than " +
                                         FormatTime(now - skew) + " (" + FormatTime(now) + " - " +
                                         minutes);
  return refuse(AuthError::kStale, "Signature not yet current: " + timestamp +
                                       " is still later than " + FormatTime(now + skew) + " (" +
                                       FormatTime(now) + " + " + minutes);
}

// The payload hash the signature covers, checked against the body where it is a hash.
std::optional<AuthFailure> ResolvePayload(const SignedRequest& request, bool s3, bool presigned,
                                          const VerifyOptions& options, const Refuser& refuse,
                                          VerifiedRequest* v) {
  if (s3 && presigned) {
    // botocore's S3SigV4QueryAuth: a presigned URL never covers the body.
    v->payload = PayloadMode::kUnsigned;
    v->signed_payload_hash = std::string(kUnsignedPayload);
    return std::nullopt;
  }
  if (s3) {
    if (auto refusal = ApplyS3PayloadRules(request, options, v))
      return refuse(refusal->first, refusal->second);
    return std::nullopt;
  }
  // A hex payload hash must be the body's: otherwise the signature covers a body never
  // checked. Other values (UNSIGNED-PAYLOAD) are signed as sent, as AWS does.
  std::vector<std::string> sent = HeaderValues(request, "x-amz-content-sha256");
  const std::string body_hash = Sha256Hex(request.body);
  v->signed_payload_hash = sent.empty() ? body_hash : TrimAll(sent.front());
  if (!IsHex64(v->signed_payload_hash)) {
    v->payload = PayloadMode::kUnsigned;
  } else if (Lower(v->signed_payload_hash) != body_hash) {
    return refuse(AuthError::kContentSha256Mismatch,
                  "The provided 'x-amz-content-sha256' header does not match what was computed.");
  }
  return std::nullopt;
}

}  // namespace

AuthFamily FamilyOfService(std::string_view service) {
  if (service == "s3") return AuthFamily::kS3;
  static constexpr std::string_view kQuery[] = {"iam",
                                                "sts",
                                                "sns",
                                                "sqs",
                                                "ec2",
                                                "rds",
                                                "cloudformation",
                                                "elasticloadbalancing",
                                                "autoscaling",
                                                "monitoring",
                                                "ses",
                                                "elasticache",
                                                "redshift",
                                                "sdb"};
  for (std::string_view q : kQuery)
    if (service == q) return AuthFamily::kQuery;
  return AuthFamily::kJson;
}

AwsAuthCode AuthErrorCode(AuthError kind, AuthFamily family, bool presigned) {
  switch (family) {
    case AuthFamily::kS3:
      switch (kind) {
        case AuthError::kMissing:
          return {"AccessDenied", 403};
        case AuthError::kUnknownKey:
          return {"InvalidAccessKeyId", 403};
        case AuthError::kBadSignature:
          return {"SignatureDoesNotMatch", 403};
        case AuthError::kStale:
          return {"RequestTimeTooSkewed", 403};
        case AuthError::kExpired:
          return {"AccessDenied", 403};
        case AuthError::kMalformed:
        case AuthError::kWrongScope:
          return {presigned ? "AuthorizationQueryParametersError" : "AuthorizationHeaderMalformed",
                  400};
        case AuthError::kContentSha256Mismatch:
          return {"XAmzContentSHA256Mismatch", 400};
        case AuthError::kBadContentSha256:
          return {"InvalidRequest", 400};
        case AuthError::kHeadersNotSigned:
          return {"AccessDenied", 403};
      }
      break;
    case AuthFamily::kQuery:
      switch (kind) {
        case AuthError::kMissing:
          return {"MissingAuthenticationToken", 403};
        case AuthError::kUnknownKey:
          return {"InvalidClientTokenId", 403};
        case AuthError::kStale:
        case AuthError::kExpired:
          return {"RequestExpired", 400};
        case AuthError::kMalformed:
        case AuthError::kBadContentSha256:
          return {"IncompleteSignature", 400};
        default:
          return {"SignatureDoesNotMatch", 403};
      }
    case AuthFamily::kJson:
      switch (kind) {
        case AuthError::kMissing:
          return {"MissingAuthenticationTokenException", 403};
        case AuthError::kUnknownKey:
          return {"UnrecognizedClientException", 403};
        case AuthError::kMalformed:
        case AuthError::kBadContentSha256:
          return {"IncompleteSignatureException", 400};
        default:
          return {"InvalidSignatureException", 403};
      }
  }
  return {"InvalidSignatureException", 403};
}

std::optional<ClaimedScope> ClaimedCredentialScope(const std::string* authorization, std::string_view query) {
  std::string credential;
  if (authorization) {
    std::map<std::string, std::string> params;
    AuthorizationTokens(*authorization, &params);
    credential = params["Credential"];
  } else {
    for (auto& [key, value] : ParseQuery(query))
      if (key == "X-Amz-Credential") credential = value;
  }
  std::vector<std::string> parts = Split(credential, '/');
  if (parts.size() != 5) return std::nullopt;
  return ClaimedScope{parts[0], parts[1], parts[2], parts[3]};
}

std::variant<VerifiedRequest, AuthFailure> VerifySigV4(const SignedRequest& request,
                                                       const SecretLookup& lookup, std::time_t now,
                                                       const VerifyOptions& options) {
  Refuser refuse(options);
  std::string_view target = request.target;
  const size_t q = std::min(target.find('?'), target.size());
  const std::string_view raw_path = target.substr(0, q);
  const auto query = ParseQuery(target.substr(std::min(q + 1, target.size())));
  const bool query_auth = std::any_of(query.begin(), query.end(),
                                      [](const auto& kv) { return kv.first == "X-Amz-Algorithm"; });

  std::vector<std::string> auth = HeaderValues(request, "authorization");
  const bool header_auth = !auth.empty() && !TrimAll(auth.front()).empty();
  if (header_auth && query_auth)
    return refuse(AuthError::kMalformed,
                  "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as "
                  "HTTP header.");
  if (!header_auth && !query_auth)
    return refuse(AuthError::kMissing, refuse.family() == AuthFamily::kS3
                                           ? "Access Denied"
                                           : "Missing Authentication Token");
  if (auth.size() > 1)
    return refuse(AuthError::kMalformed, "Only one Authorization header is allowed.");
  refuse.set_presigned(query_auth);

  if (header_auth) {
    std::string value = TrimAll(auth.front());
    bool bearer = value.size() > 7 && Lower(value.substr(0, 7)) == "bearer ";
    if (bearer && !options.bearer_tokens.empty() &&
        (!options.expected_service || IsBedrock(*options.expected_service) || *options.expected_service == "openai"))
      return VerifyBearer(std::string_view(value).substr(7), options, refuse, now);
  }

  auto parsed =
      header_auth ? HeaderParams(request, auth.front(), refuse) : QueryParams(query, refuse);
  if (auto* f = std::get_if<AuthFailure>(&parsed)) return *f;
  AuthParams& p = std::get<AuthParams>(parsed);

  if (p.algorithm != kAlgorithm)
    return refuse(AuthError::kMalformed,
                  "Unsupported AWS 'algorithm': '" + Printable(p.algorithm) + "'.");
  std::vector<std::string> credential = Split(p.credential, '/');
  if (credential.size() != 5)
    return refuse(AuthError::kMalformed,
                  "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/"
                  "service/term, got '" +
                      Printable(p.credential) + "'");
  const std::string& key_id = credential[0];
  const std::string& region = credential[2];
  const std::string& service = credential[3];
  refuse.set_service(service);
  if (credential[4] != "aws4_request")
    return refuse(AuthError::kMalformed,
                  "Credential should be scoped with a valid terminator: 'aws4_request', not '" +
                      Printable(credential[4]) + "'.");
  const bool s3_errors = refuse.family() == AuthFamily::kS3;
  if (auto f = CheckScope(service, region, p.presigned, options, refuse)) return *f;

  if (p.presigned)
    if (auto problem = CheckExpires(&p)) return refuse(AuthError::kMalformed, *problem);

  std::optional<std::time_t> signed_at = ParseTime(p.date);
  if (!signed_at || (p.presigned && p.date.size() != 16))
    return refuse(AuthError::kMalformed, "Date must be in ISO-8601 'basic format'. Got '" +
                                             Printable(p.date) +
                                             "'. See http://en.wikipedia.org/wiki/ISO_8601");

  std::vector<std::string> names;
  for (const std::string& name : Split(p.signed_headers, ';')) names.push_back(Lower(name));
  SortUnique(&names);
  // Over HTTP/2 the JavaScript SDK signs the pseudo-header ':authority' instead of Host (the
  // transport passes it on as a header); AWS accepts either, as its message says.
  if (!std::binary_search(names.begin(), names.end(), "host") &&
      !std::binary_search(names.begin(), names.end(), ":authority"))
    return refuse(AuthError::kBadSignature,
                  "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  for (const std::string& name : names)
    if (HeaderValues(request, name).empty())
      return refuse(AuthError::kMalformed, "SignedHeaders names '" + Printable(name) +
                                               "', which the request does not carry.");

  std::optional<std::string> secret = lookup(key_id);
  if (!secret)
    return refuse(AuthError::kUnknownKey,
                  s3_errors ? "The AWS Access Key Id you provided does not exist in our records."
                            : "The security token included in the request is invalid.");

  const std::string timestamp = FormatTime(*signed_at);
  if (auto f = CheckTime(*signed_at, p, now, options.max_skew_seconds, refuse)) return *f;
  if (credential[1] != timestamp.substr(0, 8))
    return refuse(AuthError::kBadSignature,
                  "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
                  "from HTTP: '" +
                      Printable(credential[1]) + "' != '" + timestamp.substr(0, 8) + "', from '" +
                      timestamp + "'.");

  VerifiedRequest v;
  const bool s3 = service == "s3";
  if (auto f = ResolvePayload(request, s3, p.presigned, options, refuse, &v)) return *f;
  if (s3)
    if (auto unsigned_header = S3UnsignedAmzHeader(request, names))
      return refuse(AuthError::kHeadersNotSigned,
                    "There were headers present in the request which were not signed: " +
                        Printable(*unsigned_header));

  const std::vector<std::string> scope(credential.begin() + 1, credential.end());
  CanonicalInput in{
      request.method, s3 ? S3CanonicalUri(raw_path) : NormalizedCanonicalUri(raw_path),
      CanonicalQuery(query, p.presigned ? "X-Amz-Signature" : ""), names, v.signed_payload_hash};
  const std::string key = SigningKey(*secret, scope);
  const std::string expected = SignCanonical(CanonicalRequest(request, in), timestamp, scope, key);
  if (!SecureEquals(p.signature, expected))
    return refuse(AuthError::kBadSignature,
                  "The request signature we calculated does not match the signature you provided. "
                  "Check your " +
                      std::string(s3_errors ? "key" : "AWS Secret Access Key") +
                      " and signing method." +
                      (s3_errors ? "" : " Consult the service documentation for details."));

  v.access_key_id = key_id;
  v.region = region;
  v.service = service;
  v.date = credential[1];
  v.signed_at = *signed_at;
  v.presigned = p.presigned;
  if (p.presigned) v.expires_at = *signed_at + p.expires;
  v.chunk_signing = {key, timestamp, Join(scope, "/"), expected};
  return v;
}

namespace {

// botocore's SIGNED_HEADERS_BLACKLIST: headers that proxies and HTTP stacks rewrite.
bool SignedByBotocore(const std::string& lower_name) {
  static const std::vector<std::string> kUnsigned = {"connection",
                                                     "expect",
                                                     "keep-alive",
                                                     "proxy-authenticate",
                                                     "proxy-authorization",
                                                     "te",
                                                     "trailer",
                                                     "transfer-encoding",
                                                     "upgrade",
                                                     "user-agent",
                                                     "x-amzn-trace-id"};
  return std::find(kUnsigned.begin(), kUnsigned.end(), lower_name) == kUnsigned.end();
}

}  // namespace

void SignSigV4(SignedRequest* request, std::string_view region, std::string_view service,
               const Credentials& credentials, std::time_t now) {
  // As botocore: a request that carries Date keeps Date (rewritten); otherwise X-Amz-Date is set.
  bool use_date = !HeaderValues(*request, "date").empty();
  auto& headers = request->headers;
  headers.erase(std::remove_if(headers.begin(), headers.end(),
                               [&](const auto& h) {
                                 std::string n = Lower(h.first);
                                 return n == "authorization" || n == "x-amz-date" ||
                                        (use_date && n == "date");
                               }),
                headers.end());
  headers.emplace_back(use_date ? "Date" : "X-Amz-Date", FormatTime(now, use_date));
  const bool s3 = service == "s3";
  if (s3 && HeaderValues(*request, "x-amz-content-sha256").empty())
    headers.emplace_back("X-Amz-Content-SHA256", Sha256Hex(request->body));

  std::vector<std::string> names;
  for (const auto& h : headers)
    if (SignedByBotocore(Lower(h.first))) names.push_back(Lower(h.first));
  SortUnique(&names);

  const std::string timestamp = FormatTime(now);
  std::vector<std::string> scope = {timestamp.substr(0, 8), std::string(region),
                                    std::string(service), "aws4_request"};
  std::string_view target = request->target;
  size_t q = std::min(target.find('?'), target.size());
  std::vector<std::string> sent = HeaderValues(*request, "x-amz-content-sha256");
  CanonicalInput in{
      request->method,
      s3 ? S3CanonicalUri(target.substr(0, q)) : NormalizedCanonicalUri(target.substr(0, q)),
      CanonicalQuery(ParseQuery(target.substr(std::min(q + 1, target.size())))), names,
      sent.empty() ? Sha256Hex(request->body) : TrimAll(sent.front())};
  std::string signature = SignCanonical(CanonicalRequest(*request, in), timestamp, scope,
                                        SigningKey(credentials.secret_access_key, scope));
  headers.emplace_back("Authorization",
                       std::string(kAlgorithm) + " Credential=" + credentials.access_key_id + "/" +
                           Join(scope, "/") + ", SignedHeaders=" + Join(names, ";") +
                           ", Signature=" + signature);
}

void PresignSigV4(SignedRequest* request, std::string_view region, std::string_view service,
                  const Credentials& credentials, std::time_t now, int expires_seconds) {
  const std::string timestamp = FormatTime(now);
  std::vector<std::string> scope = {timestamp.substr(0, 8), std::string(region),
                                    std::string(service), "aws4_request"};
  std::string& target = request->target;
  size_t q = target.find('?');
  if (q == std::string::npos)
    target += '?';
  else if (q + 1 < target.size())
    target += '&';
  const std::vector<std::pair<std::string, std::string>> params = {
      {"X-Amz-Algorithm", std::string(kAlgorithm)},
      {"X-Amz-Credential", credentials.access_key_id + "/" + Join(scope, "/")},
      {"X-Amz-Date", timestamp},
      {"X-Amz-Expires", std::to_string(expires_seconds)},
      {"X-Amz-SignedHeaders", "host"}};
  for (size_t i = 0; i < params.size(); ++i)
    target += (i ? "&" : "") + params[i].first + "=" + UriEncode(params[i].second, false);

  const bool s3 = service == "s3";
  q = target.find('?');
  std::string_view view = target;
  CanonicalInput in{
      request->method,
      s3 ? S3CanonicalUri(view.substr(0, q)) : NormalizedCanonicalUri(view.substr(0, q)),
      CanonicalQuery(ParseQuery(view.substr(q + 1))),
      {"host"},
      s3 ? std::string(kUnsignedPayload) : Sha256Hex(request->body)};
  std::string signature = SignCanonical(CanonicalRequest(*request, in), timestamp, scope,
                                        SigningKey(credentials.secret_access_key, scope));
  target += "&X-Amz-Signature=" + signature;
}

}  // namespace lathe::api
