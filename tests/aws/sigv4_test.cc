#include "aws/sigv4.h"

#include <gtest/gtest.h>

#include <string>

namespace lathe::api {
namespace {

// The AWS SigV4 test suite's fixed inputs
// (https://docs.aws.amazon.com/general/latest/gr/signature-v4-test-suite.html).
const Credentials kSuiteCredentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"};
constexpr std::time_t kSuiteTime = 1440938160;  // 20150830T123600Z
constexpr const char* kSuiteCredential =
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, ";

SecretLookup SuiteLookup() {
  return [](const std::string& id) -> std::optional<std::string> {
    if (id == kSuiteCredentials.access_key_id) return kSuiteCredentials.secret_access_key;
    return std::nullopt;
  };
}

std::string Header(const SignedRequest& r, const std::string& name) {
  for (const auto& [n, v] : r.headers)
    if (n == name) return v;
  return "";
}

void SetHeader(SignedRequest* r, const std::string& name, const std::string& value) {
  for (auto& [n, v] : r->headers)
    if (n == name) v = value;
}

bool Verified(const std::variant<std::string, AuthFailure>& result) {
  return std::holds_alternative<std::string>(result);
}

AuthFailure ExpectFailure(const std::variant<std::string, AuthFailure>& result) {
  EXPECT_TRUE(std::holds_alternative<AuthFailure>(result))
      << "verified as " << std::get<std::string>(result);
  return std::holds_alternative<AuthFailure>(result) ? std::get<AuthFailure>(result)
                                                     : AuthFailure{};
}

struct SuiteVector {
  const char* name;
  SignedRequest unsigned_request;  // without X-Amz-Date: signing adds it
  const char* authorization;       // the suite's .authz file
};

// Each expected Authorization is the suite's published value (cross-checked in several
// independent SigV4 implementations' test fixtures), not computed here.
std::vector<SuiteVector> SuiteVectors() {
  const std::string host = "example.amazonaws.com";
  return {
      {"get-vanilla",
       {"GET", "/", {{"Host", host}}, ""},
       "SignedHeaders=host;x-amz-date, "
       "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
      {"get-vanilla-query-order-key-case",
       {"GET", "/?Param2=value2&Param1=value1", {{"Host", host}}, ""},
       "SignedHeaders=host;x-amz-date, "
       "Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
      {"get-header-key-duplicate",
       {"GET",
        "/",
        {{"Host", host},
         {"My-Header1", "value2"},
         {"My-Header1", "value2"},
         {"My-Header1", "value1"}},
        ""},
       "SignedHeaders=host;my-header1;x-amz-date, "
       "Signature=c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"},
      {"post-x-www-form-urlencoded",
       {"POST", "/", {{"Content-Type", "application/x-www-form-urlencoded"}, {"Host", host}},
        "Param1=value1"},
       "SignedHeaders=content-type;host;x-amz-date, "
       "Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"},
  };
}

TEST(SigV4Test, SignsTheAwsSuiteVectorsExactly) {
  for (SuiteVector v : SuiteVectors()) {
    SignSigV4(&v.unsigned_request, "us-east-1", "service", kSuiteCredentials, kSuiteTime);
    EXPECT_EQ(Header(v.unsigned_request, "X-Amz-Date"), "20150830T123600Z") << v.name;
    EXPECT_EQ(Header(v.unsigned_request, "Authorization"),
              std::string(kSuiteCredential) + v.authorization)
        << v.name;
  }
}

TEST(SigV4Test, VerifiesTheAwsSuiteVectors) {
  for (SuiteVector v : SuiteVectors()) {
    SignedRequest r = v.unsigned_request;
    r.headers.emplace_back("X-Amz-Date", "20150830T123600Z");
    r.headers.emplace_back("Authorization", std::string(kSuiteCredential) + v.authorization);
    auto result = VerifySigV4(r, SuiteLookup(), kSuiteTime);
    ASSERT_TRUE(Verified(result))
        << v.name << ": " << std::get<AuthFailure>(result).message;
    EXPECT_EQ(std::get<std::string>(result), "AKIDEXAMPLE");
  }
}

// A Bedrock Runtime target as boto3 sends it: the model ARN is percent-encoded in the path and
// botocore signs that path encoded once more (%3A -> %253A). Expected value produced by botocore
// 1.43.11 with:
//   import datetime; from unittest import mock
//   from botocore.auth import SigV4Auth; from botocore.awsrequest import AWSRequest
//   from botocore.credentials import Credentials
//   url = ("http://localhost:8080/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012"
//          "%3Aprovisioned-model%2Fabc/invoke")
//   req = AWSRequest(method="POST", url=url, data=b'{"prompt":"hi"}',
//                    headers={"Content-Type": "application/json"})
//   now = datetime.datetime(2015, 8, 30, 12, 36, 0, tzinfo=datetime.timezone.utc)
//   with mock.patch("botocore.auth.get_current_datetime", return_value=now):
//       SigV4Auth(Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
//                 "bedrock", "us-east-1").add_auth(req)
//   print(req.headers["Authorization"])
constexpr const char* kBotocoreArnAuthorization =
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/bedrock/aws4_request, "
    "SignedHeaders=content-type;host;x-amz-date, "
    "Signature=19462ab913ef5125a231c63d79c67a12db430825881053c8f787131596f85ad3";

SignedRequest ArnRequest() {
  return {"POST",
          "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Aprovisioned-model%2Fabc/invoke",
          {{"Content-Type", "application/json"}, {"Host", "localhost:8080"}},
          R"({"prompt":"hi"})"};
}

TEST(SigV4Test, MatchesBotocoreOnAPercentEncodedArnPath) {
  SignedRequest signed_request = ArnRequest();
  SignSigV4(&signed_request, "us-east-1", "bedrock", kSuiteCredentials, kSuiteTime);
  EXPECT_EQ(Header(signed_request, "Authorization"), kBotocoreArnAuthorization);

  SignedRequest received = ArnRequest();
  received.headers.emplace_back("X-Amz-Date", "20150830T123600Z");
  received.headers.emplace_back("Authorization", kBotocoreArnAuthorization);
  auto result = VerifySigV4(received, SuiteLookup(), kSuiteTime);
  ASSERT_TRUE(Verified(result)) << std::get<AuthFailure>(result).message;

  // The server must hand over the raw target: the decoded path signs differently.
  received.target = "/model/arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc/invoke";
  EXPECT_EQ(ExpectFailure(VerifySigV4(received, SuiteLookup(), kSuiteTime)).kind,
            AuthError::kBadSignature);
}

// A request exercising the canonical forms: query encoding and order, repeated keys, header case,
// whitespace runs, repeated headers, dot segments and doubled slashes.
SignedRequest RichRequest() {
  return {"POST",
          "/a/./b//c/../model-customization-jobs?maxResults=10&b=%2Fx&a=2&a=1&flag&sp=a%20b",
          {{"host", "127.0.0.1:8080"},
           {"Content-Type", "application/json"},
           {"X-Custom", "  two   inner\tspaces  "},
           {"x-custom", "second"},
           {"User-Agent", "Boto3/1.40"}},
          R"({"jobName":"j1"})"};
}

const std::time_t kNow = 1767268800;  // 2026-01-01T12:00:00Z

TEST(SigV4Test, RoundTripsAndAcceptsAnyRegionAndService) {
  for (const char* service : {"bedrock", "bedrock-runtime", "s3"}) {
    SignedRequest r = RichRequest();
    SignSigV4(&r, "eu-west-3", service, kSuiteCredentials, kNow);
    auto result = VerifySigV4(r, SuiteLookup(), kNow);
    ASSERT_TRUE(Verified(result)) << std::get<AuthFailure>(result).message;
    EXPECT_EQ(std::get<std::string>(result), "AKIDEXAMPLE");
    // User-Agent is rewritten by proxies, so botocore leaves it unsigned; changing it is harmless.
    EXPECT_EQ(Header(r, "Authorization").find("user-agent"), std::string::npos);
    SetHeader(&r, "User-Agent", "curl/8");
    r.headers.emplace_back("X-Unsigned-Extra", "1");
    EXPECT_TRUE(Verified(VerifySigV4(r, SuiteLookup(), kNow)));
  }
}

// The server canonicalizes the query (decode, then encode the SigV4 way), as AWS does, so a
// client that leaves ':' raw and one that sends %3a agree.
TEST(SigV4Test, CanonicalizesTheQueryEncoding) {
  SignedRequest r{"GET", "/models?arn=a:b&x=%7E&t=1", {{"Host", "localhost"}}, ""};
  SignSigV4(&r, "us-east-1", "bedrock", kSuiteCredentials, kNow);
  for (const char* target : {"/models?arn=a:b&x=%7E&t=1", "/models?t=1&arn=a%3ab&x=~"}) {
    r.target = target;
    EXPECT_TRUE(Verified(VerifySigV4(r, SuiteLookup(), kNow))) << target;
  }
  r.target = "/models?arn=a%253Ab&x=~&t=1";  // a different value, not another spelling
  EXPECT_EQ(ExpectFailure(VerifySigV4(r, SuiteLookup(), kNow)).kind, AuthError::kBadSignature);
}

TEST(SigV4Test, RoundTripsWithADateHeaderAsBotocoreDoes) {
  SignedRequest r = RichRequest();
  r.headers.emplace_back("Date", "Thu, 01 Jan 1970 00:00:00 GMT");
  SignSigV4(&r, "us-east-1", "bedrock", kSuiteCredentials, kSuiteTime);
  EXPECT_EQ(Header(r, "Date"), "Sun, 30 Aug 2015 12:36:00 -0000");  // email.utils.formatdate's form
  EXPECT_EQ(Header(r, "X-Amz-Date"), "");
  EXPECT_TRUE(Verified(VerifySigV4(r, SuiteLookup(), kSuiteTime)));
  EXPECT_EQ(ExpectFailure(VerifySigV4(r, SuiteLookup(), kSuiteTime + 16 * 60)).kind,
            AuthError::kStale);
}

TEST(SigV4Test, RejectsTamperedRequests) {
  const std::string kMismatch =
      "The request signature we calculated does not match the signature you provided. Check your "
      "AWS Secret Access Key and signing method. Consult the service documentation for details.";
  SignedRequest original = RichRequest();
  SignSigV4(&original, "us-east-1", "bedrock", kSuiteCredentials, kNow);
  ASSERT_TRUE(Verified(VerifySigV4(original, SuiteLookup(), kNow)));

  std::string other_body = R"({"jobName":"j2"})";
  std::vector<std::pair<const char*, std::function<void(SignedRequest*)>>> tamperings = {
      {"body", [&](SignedRequest* r) { r->body = other_body; }},
      {"method", [](SignedRequest* r) { r->method = "PUT"; }},
      {"path", [](SignedRequest* r) { r->target.replace(r->target.find("jobs"), 4, "job5"); }},
      {"query value", [](SignedRequest* r) { r->target.replace(r->target.find("10"), 2, "11"); }},
      {"signed header", [](SignedRequest* r) { SetHeader(r, "Content-Type", "text/plain"); }},
      {"repeated header order",
       [](SignedRequest* r) { std::swap(r->headers[2].second, r->headers[3].second); }},
      {"host", [](SignedRequest* r) { SetHeader(r, "host", "evil:8080"); }},
      {"signature", [](SignedRequest* r) {
         std::string& auth = r->headers.back().second;
         auth.back() = auth.back() == '0' ? '1' : '0';
       }},
      {"secret", [](SignedRequest* r) {
         r->headers.pop_back();
         SignSigV4(r, "us-east-1", "bedrock", {"AKIDEXAMPLE", "wrong"}, kNow);
       }},
  };
  for (const auto& [what, tamper] : tamperings) {
    SignedRequest r = original;
    tamper(&r);
    AuthFailure f = ExpectFailure(VerifySigV4(r, SuiteLookup(), kNow));
    EXPECT_EQ(f.kind, AuthError::kBadSignature) << what;
    EXPECT_EQ(f.http_status, 403) << what;
    EXPECT_EQ(f.error_type, "InvalidSignatureException") << what;
    EXPECT_EQ(f.message, kMismatch) << what;
  }
}

TEST(SigV4Test, ChecksAPayloadHashHeaderAgainstTheBody) {
  SignedRequest r = ArnRequest();
  r.headers.emplace_back("x-amz-content-sha256",
                         "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");  // ""
  SignSigV4(&r, "us-east-1", "bedrock", kSuiteCredentials, kNow);
  AuthFailure f = ExpectFailure(VerifySigV4(r, SuiteLookup(), kNow));
  EXPECT_EQ(f.kind, AuthError::kBadSignature);
  EXPECT_EQ(f.message,
            "The provided 'x-amz-content-sha256' header does not match what was computed.");

  r.body = "";  // now the signed hash is the body's
  EXPECT_TRUE(Verified(VerifySigV4(r, SuiteLookup(), kNow)));
}

TEST(SigV4Test, RejectsAnUnknownAccessKey) {
  SignedRequest r = ArnRequest();
  SignSigV4(&r, "us-east-1", "bedrock", {"AKIDUNKNOWN", "x"}, kNow);
  AuthFailure f = ExpectFailure(VerifySigV4(r, SuiteLookup(), kNow));
  EXPECT_EQ(f.kind, AuthError::kUnknownKey);
  EXPECT_EQ(f.http_status, 403);
  EXPECT_EQ(f.error_type, "UnrecognizedClientException");
  EXPECT_EQ(f.message, "The security token included in the request is invalid.");
}

TEST(SigV4Test, RejectsRequestsSignedOutsideTheSkewWindow) {
  SignedRequest r = ArnRequest();
  SignSigV4(&r, "us-east-1", "bedrock", kSuiteCredentials, kSuiteTime);
  for (int minutes : {-15, 0, 15})
    EXPECT_TRUE(Verified(VerifySigV4(r, SuiteLookup(), kSuiteTime + minutes * 60))) << minutes;

  AuthFailure late = ExpectFailure(VerifySigV4(r, SuiteLookup(), kSuiteTime + 16 * 60));
  EXPECT_EQ(late.kind, AuthError::kStale);
  EXPECT_EQ(late.http_status, 403);
  EXPECT_EQ(late.error_type, "InvalidSignatureException");
  EXPECT_EQ(late.message,
            "Signature expired: 20150830T123600Z is now earlier than 20150830T123700Z "
            "(20150830T125200Z - 15 min.)");

  AuthFailure early = ExpectFailure(VerifySigV4(r, SuiteLookup(), kSuiteTime - 16 * 60));
  EXPECT_EQ(early.kind, AuthError::kStale);
  EXPECT_EQ(early.http_status, 403);
  EXPECT_EQ(early.message,
            "Signature not yet current: 20150830T123600Z is still later than 20150830T123500Z "
            "(20150830T122000Z + 15 min.)");
}

TEST(SigV4Test, RejectsAMissingAuthorizationHeader) {
  SignedRequest r = ArnRequest();
  r.headers.emplace_back("X-Amz-Date", "20150830T123600Z");
  for (const char* value : {"", "   "}) {
    SignedRequest with_empty = r;
    if (*value) with_empty.headers.emplace_back("Authorization", value);
    AuthFailure f = ExpectFailure(VerifySigV4(with_empty, SuiteLookup(), kSuiteTime));
    EXPECT_EQ(f.kind, AuthError::kMissing);
    EXPECT_EQ(f.http_status, 403);
    EXPECT_EQ(f.error_type, "MissingAuthenticationTokenException");
    EXPECT_EQ(f.message, "Missing Authentication Token");
  }
}

TEST(SigV4Test, RejectsMalformedAuthorizationHeaders) {
  struct Case {
    const char* authorization;
    const char* x_amz_date;  // nullptr: no date header at all
    std::string message;
  };
  const std::string kSigned =
      "SignedHeaders=host;x-amz-date, "
      "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
  const std::vector<Case> cases = {
      {"Bearer ABSKsecrettoken", "20150830T123600Z",
       "Authorization header requires 'Credential' parameter. Authorization header requires "
       "'Signature' parameter. Authorization header requires 'SignedHeaders' parameter."},
      {"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request", nullptr,
       "Authorization header requires 'Signature' parameter. Authorization header requires "
       "'SignedHeaders' parameter. Authorization header requires existence of either a "
       "'X-Amz-Date' or a 'Date' header."},
      {"AWS4-HMAC-SHA1 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, ",
       "20150830T123600Z", "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA1'."},
      {"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/aws4_request, ",
       "20150830T123600Z",
       "Credential must have exactly 5 slash-delimited elements, e.g. "
       "keyid/date/region/service/term, got 'AKIDEXAMPLE/20150830/us-east-1/aws4_request'"},
      {"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws5_request, ",
       "20150830T123600Z",
       "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'."},
      {kSuiteCredential, "2015-08-30T12:36:00Z",
       "Date must be in ISO-8601 'basic format'. Got '2015-08-30T12:36:00Z'. See "
       "http://en.wikipedia.org/wiki/ISO_8601"},
      {kSuiteCredential, "20150230T123600Z",  // February 30
       "Date must be in ISO-8601 'basic format'. Got '20150230T123600Z'. See "
       "http://en.wikipedia.org/wiki/ISO_8601"},
  };
  for (const Case& c : cases) {
    std::string authorization = c.authorization;
    if (authorization.rfind("AWS4-", 0) == 0 && authorization.back() == ' ')
      authorization += kSigned;
    SignedRequest r{
        "GET", "/", {{"Host", "example.amazonaws.com"}, {"Authorization", authorization}}, ""};
    if (c.x_amz_date) r.headers.emplace_back("X-Amz-Date", c.x_amz_date);
    AuthFailure f = ExpectFailure(VerifySigV4(r, SuiteLookup(), kSuiteTime));
    EXPECT_EQ(f.kind, AuthError::kMalformed) << authorization;
    EXPECT_EQ(f.http_status, 400) << authorization;
    EXPECT_EQ(f.error_type, "IncompleteSignatureException") << authorization;
    EXPECT_EQ(f.message, c.message) << authorization;
    // A bearer token sent by mistake is a secret: it is never echoed back.
    EXPECT_EQ(f.message.find("ABSK"), std::string::npos);
  }
}

TEST(SigV4Test, RejectsACredentialScopeDatedOtherThanTheRequest) {
  SignedRequest r{
      "GET", "/", {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}}, ""};
  r.headers.emplace_back(
      "Authorization",
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150831/us-east-1/service/aws4_request, "
      "SignedHeaders=host;x-amz-date, Signature=00");
  AuthFailure f = ExpectFailure(VerifySigV4(r, SuiteLookup(), kSuiteTime));
  EXPECT_EQ(f.kind, AuthError::kBadSignature);
  EXPECT_EQ(f.message,
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from "
            "HTTP: '20150831' != '20150830', from '20150830T123600Z'.");
}

}  // namespace
}  // namespace lathe::api
