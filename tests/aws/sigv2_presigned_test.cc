#include "aws/sigv2_presigned.h"

#include <gtest/gtest.h>

namespace lathe::api {
namespace {

// Vectors from botocore 1.43.11's own botocore.auth.HmacV1QueryAuth (tests/aws/
// sigv2_presign_vectors.py): key AKIDEXAMPLE / the SigV4 suite's secret, time.time() = 1440938160,
// expires 3600, so Expires = 1440941760.
const Credentials kCreds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"};
constexpr std::time_t kNow = 1440938160;
constexpr std::time_t kExpires = 1440941760;

SecretLookup Lookup() {
  return [](const std::string& id) -> std::optional<std::string> {
    if (id == kCreds.access_key_id) return kCreds.secret_access_key;
    return std::nullopt;
  };
}

std::string PathOf(const std::string& target) { return target.substr(0, target.find('?')); }

std::variant<VerifiedRequest, AuthFailure> Verify(const SignedRequest& r, std::time_t now = kNow) {
  return VerifyS3PresignedV2(r, PathOf(r.target), Lookup(), now);
}

std::string Code(const std::variant<VerifiedRequest, AuthFailure>& v) {
  if (auto* f = std::get_if<AuthFailure>(&v)) return f->error_type + " " + std::to_string(f->http_status);
  return "ok";
}

const char* kGet = "/bucket/key?AWSAccessKeyId=AKIDEXAMPLE&Signature=BGf1JSZCw1PvyrPNlgwMZ0QNLEM%3D&Expires=1440941760";
const char* kGetVersion =
    "/bucket/dir/a%20b%2Bc.txt?versionId=v1&response-content-type=text%2Fplain&AWSAccessKeyId=AKIDEXAMPLE&"
    "Signature=lugKWXLgXqUBagNYVUGjyxK4Il4%3D&Expires=1440941760";
const char* kPut =
    "/bucket/up.bin?AWSAccessKeyId=AKIDEXAMPLE&Signature=u6Gfbfp1VKvwtCjXBfHgM40wKng%3D&"
    "content-type=application%2Foctet-stream&Expires=1440941760";

TEST(SigV2Presigned, AcceptsBotocoreUrls) {
  for (const char* target : {kGet, kGetVersion}) {
    auto v = Verify(SignedRequest{"GET", target, {}, ""});
    ASSERT_EQ(Code(v), "ok") << target;
    const auto& ok = std::get<VerifiedRequest>(v);
    EXPECT_EQ(ok.access_key_id, "AKIDEXAMPLE");
    EXPECT_EQ(ok.service, "s3");
    EXPECT_EQ(ok.payload, PayloadMode::kUnsigned);
    EXPECT_TRUE(ok.presigned);
    EXPECT_EQ(ok.expires_at, kExpires);
  }
  // Content-Type moved into the query by botocore: signed whether or not the upload resends it.
  EXPECT_EQ(Code(Verify(SignedRequest{"PUT", kPut, {}, ""})), "ok");
  EXPECT_EQ(Code(Verify(SignedRequest{"PUT", kPut, {{"Content-Type", "application/octet-stream"}}, ""})), "ok");
  EXPECT_EQ(Code(Verify(SignedRequest{"PUT", kPut, {{"Content-Type", "text/plain"}}, ""})),
            "SignatureDoesNotMatch 403");
}

TEST(SigV2Presigned, StringToSignFollowsTheDoc) {
  SignedRequest r{"GET", kGetVersion, {{"X-Amz-Meta-B", " 2 "}, {"x-amz-meta-a", "1"}}, ""};
  EXPECT_EQ(S3V2StringToSign(r, PathOf(r.target), "1440941760"),
            "GET\n\n\n1440941760\nx-amz-meta-a:1\nx-amz-meta-b:2\n"
            "/bucket/dir/a%20b%2Bc.txt?response-content-type=text/plain&versionId=v1");
  SignedRequest uploads{"POST", "/b/k?uploads&x=1", {}, ""};
  EXPECT_EQ(S3V2StringToSign(uploads, "/b/k", "9"), "POST\n\n\n9\n/b/k?uploads");
}

TEST(SigV2Presigned, RoundTripsItsOwnPresign) {
  SignedRequest r{"GET", "/b/k?partNumber=2&uploadId=abc", {}, ""};
  PresignS3V2(&r, kCreds, kExpires);
  EXPECT_EQ(Code(Verify(r)), "ok");
}

TEST(SigV2Presigned, RefusesExpiredTamperedAndUnknown) {
  EXPECT_EQ(Code(Verify(SignedRequest{"GET", kGet, {}, ""}, kExpires + 1)), "AccessDenied 403");
  EXPECT_EQ(std::get<AuthFailure>(Verify(SignedRequest{"GET", kGet, {}, ""}, kExpires + 1)).message,
            "Request has expired");
  EXPECT_EQ(Code(Verify(SignedRequest{"GET", kGet, {}, ""}, kExpires)), "ok");  // the last second
  std::string tampered = kGet;
  tampered.replace(tampered.find("/key"), 4, "/kez");
  EXPECT_EQ(Code(Verify(SignedRequest{"GET", tampered, {}, ""})), "SignatureDoesNotMatch 403");
  EXPECT_EQ(Code(Verify(SignedRequest{"HEAD", kGet, {}, ""})), "SignatureDoesNotMatch 403");
  std::string later = kGet;
  later.replace(later.find("1440941760"), 10, "1440941761");
  EXPECT_EQ(Code(Verify(SignedRequest{"GET", later, {}, ""})), "SignatureDoesNotMatch 403");
  std::string unknown = kGet;
  unknown.replace(unknown.find("AKIDEXAMPLE"), 11, "AKIDUNKNOWN");
  EXPECT_EQ(Code(Verify(SignedRequest{"GET", unknown, {}, ""})), "InvalidAccessKeyId 403");
}

TEST(SigV2Presigned, RefusesMalformedParameters) {
  for (const char* target : {"/b/k?Signature=x&Expires=1", "/b/k?AWSAccessKeyId=AKIDEXAMPLE&Expires=1",
                             "/b/k?AWSAccessKeyId=AKIDEXAMPLE&Signature=x",
                             "/b/k?AWSAccessKeyId=AKIDEXAMPLE&Signature=x&Signature=y&Expires=1",
                             "/b/k?AWSAccessKeyId=AKIDEXAMPLE&Signature=x&Expires=-1",
                             "/b/k?AWSAccessKeyId=AKIDEXAMPLE&Signature=x&Expires=1e9",
                             "/b/k?AWSAccessKeyId=AKIDEXAMPLE&Signature=x&Expires=99999999999999999999"})
    EXPECT_EQ(Code(Verify(SignedRequest{"GET", target, {}, ""})), "AccessDenied 403") << target;
  const std::string long_signature = "/b/k?AWSAccessKeyId=AKIDEXAMPLE&Expires=1&Signature=" + std::string(65, 'A');
  EXPECT_EQ(Code(Verify(SignedRequest{"GET", long_signature, {}, ""})), "AccessDenied 403");
  EXPECT_EQ(Code(Verify(SignedRequest{"GET", kGet, {{"Authorization", "AWS AKIDEXAMPLE:x"}}, ""})),
            "InvalidArgument 400");
}

TEST(SigV2Presigned, RecognisesOnlySigV2Queries) {
  EXPECT_EQ(S3PresignedV2AccessKey("AWSAccessKeyId=AK&Signature=s&Expires=1"), "AK");
  EXPECT_EQ(S3PresignedV2AccessKey("Signature=s"), "");
  EXPECT_FALSE(S3PresignedV2AccessKey("versionId=1"));
  EXPECT_FALSE(S3PresignedV2AccessKey("X-Amz-Algorithm=AWS4-HMAC-SHA256&Signature=s"));
  EXPECT_FALSE(S3PresignedV2AccessKey(""));
}

}  // namespace
}  // namespace lathe::api
