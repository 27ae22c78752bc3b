// lathe's S3 client without a socket (aws/s3_request.h): the requests it signs, checked against
// AWS's published SigV4 example for a GET with a query string and against the server's own
// verifier, and S3's XML errors turned into Status::Aws.
#include "aws/s3_request.h"

#include <gtest/gtest.h>

#include "aws/aws_streaming_example.h"
#include "aws/sigv4.h"

namespace lathe::aws {
namespace {

using api::SignedRequest;
using api::testing::kS3DocCredentials;
using api::testing::kS3DocTime;

constexpr const char* kEmptySha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

std::string Header(const SignedRequest& r, const std::string& name) {
  for (const auto& [n, v] : r.headers)
    if (n == name) return v;
  return "";
}

S3Endpoint DocEndpoint(bool path_style) {
  S3Endpoint e;
  e.url = "https://s3.amazonaws.com";
  e.region = "us-east-1";
  e.credentials = kS3DocCredentials;
  e.path_style = path_style;
  return e;
}

// "GET Bucket (List Objects)" of AWS's single-chunk examples
// (docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html): virtual-hosted
// examplebucket, query max-keys=2&prefix=J, and the signature AWS printed.
TEST(S3RequestTest, SignsAwsListObjectsExampleVirtualHosted) {
  auto r = BuildS3Request(DocEndpoint(false), "GET", "examplebucket", "", "max-keys=2&prefix=J", kEmptySha, kS3DocTime);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->url, "https://examplebucket.s3.amazonaws.com/?max-keys=2&prefix=J");
  EXPECT_EQ(Header(r->signed_request, "Host"), "examplebucket.s3.amazonaws.com");
  EXPECT_EQ(Header(r->signed_request, "X-Amz-Date"), "20130524T000000Z");
  EXPECT_EQ(Header(r->signed_request, "Authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
            "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

// Path-style puts the bucket in the path, keys encoded as botocore encodes them; what is signed
// verifies on lathe's own server side (the verifier `lathe serve` uses for S3).
TEST(S3RequestTest, PathStyleRequestsVerifyWithTheServersVerifier) {
  S3Endpoint e = DocEndpoint(true);
  e.url = "http://127.0.0.1:9000/base/";
  auto r = BuildS3Request(e, "PUT", "bucket", "my data/100%.jsonl", "", kEmptySha, kS3DocTime, "text/csv");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->url, "http://127.0.0.1:9000/base/bucket/my%20data/100%25.jsonl");
  EXPECT_EQ(Header(r->signed_request, "Host"), "127.0.0.1:9000");
  EXPECT_NE(Header(r->signed_request, "Authorization").find("content-type;host;x-amz-content-sha256;x-amz-date"),
            std::string::npos);
  auto lookup = [](const std::string& id) -> std::optional<std::string> {
    if (id == kS3DocCredentials.access_key_id) return kS3DocCredentials.secret_access_key;
    return std::nullopt;
  };
  auto verified = api::VerifySigV4(r->signed_request, lookup, kS3DocTime);
  ASSERT_TRUE(std::holds_alternative<api::VerifiedRequest>(verified))
      << std::get<api::AuthFailure>(verified).message;
  EXPECT_EQ(std::get<api::VerifiedRequest>(verified).service, "s3");

  // The wrong secret does not verify: the remote answers SignatureDoesNotMatch.
  e.credentials = api::Credentials{kS3DocCredentials.access_key_id, "wrong"};
  auto wrong = BuildS3Request(e, "GET", "bucket", "k", "", kEmptySha, kS3DocTime);
  auto refused = api::VerifySigV4(wrong->signed_request, lookup, kS3DocTime);
  ASSERT_TRUE(std::holds_alternative<api::AuthFailure>(refused));
  EXPECT_EQ(std::get<api::AuthFailure>(refused).error_type, "SignatureDoesNotMatch");
}

TEST(S3RequestTest, UnsignedWithoutCredentialsAndRefusesOtherSchemes) {
  S3Endpoint e;
  e.url = "http://localhost:8080";
  auto r = BuildS3Request(e, "HEAD", "b", "", "", kEmptySha, kS3DocTime);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->url, "http://localhost:8080/b");
  EXPECT_EQ(Header(r->signed_request, "Authorization"), "");
  for (const char* url : {"ftp://host", "file:///etc/passwd", "host:9000", "http://"}) {
    e.url = url;
    EXPECT_FALSE(BuildS3Request(e, "GET", "b", "k", "", kEmptySha, kS3DocTime).ok()) << url;
  }
}

TEST(S3RequestTest, ErrorXmlBecomesAwsStatusWithS3sCode) {
  Status s = S3ErrorStatus(403,
                           "<?xml version=\"1.0\"?><Error><Code>SignatureDoesNotMatch</Code><Message>The request "
                           "signature we calculated does not match</Message><RequestId>1</RequestId></Error>",
                           "s3://b/k");
  EXPECT_EQ(s.aws_code(), "SignatureDoesNotMatch");
  EXPECT_EQ(s.http_status(), 403);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "s3://b/k: SignatureDoesNotMatch: The request signature we calculated does not match");

  s = S3ErrorStatus(404, "<Error><Code>NoSuchBucket</Code><Message>gone</Message></Error>", "s3://b/");
  EXPECT_EQ(s.aws_code(), "NoSuchBucket");
  EXPECT_EQ(s.code(), Status::Code::kNotFound);

  // A redirect names where S3 says the bucket lives.
  s = S3ErrorStatus(301, "<Error><Code>PermanentRedirect</Code><Message>use it</Message>"
                         "<Endpoint>b.s3.eu-west-1.amazonaws.com</Endpoint></Error>", "s3://b/k");
  EXPECT_EQ(s.aws_code(), "PermanentRedirect");
  EXPECT_NE(s.message().find("b.s3.eu-west-1.amazonaws.com"), std::string::npos) << s.message();
}

TEST(S3RequestTest, BodilessAndHostileAnswersStillSaySomethingBounded) {
  // HEAD: no body; the code S3 means by the status.
  EXPECT_EQ(S3ErrorStatus(404, "", "s3://b/", "NoSuchBucket").aws_code(), "NoSuchBucket");
  EXPECT_EQ(S3ErrorStatus(404, "", "s3://b/k").aws_code(), "NoSuchKey");
  EXPECT_EQ(S3ErrorStatus(403, "", "s3://b/k").aws_code(), "AccessDenied");
  EXPECT_EQ(S3ErrorStatus(503, "", "s3://b/k").code(), Status::Code::kInternal);
  // Not XML (a proxy's HTML page): quoted, printable, short.
  Status html = S3ErrorStatus(502, "<html>\x01\x02 bad gateway" + std::string(5000, 'x'), "s3://b/k");
  EXPECT_EQ(html.aws_code(), "InternalError");
  EXPECT_LT(html.message().size(), 400u);
  for (char c : html.message()) EXPECT_TRUE(c >= 0x20 && c < 0x7f);
  // Deeply nested or oversized XML is not parsed (bounded before pugixml sees it).
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "<a>";
  EXPECT_EQ(S3ErrorStatus(400, deep, "s3://b/k").aws_code(), "BadRequest");
  // A hostile code is bounded and printable too.
  Status odd = S3ErrorStatus(400, "<Error><Code>" + std::string(500, 'C') + "\x07</Code></Error>", "s3://b/k");
  EXPECT_LE(odd.aws_code().size(), 64u);
}

TEST(S3RequestTest, EncodesKeysAsBotocore) {
  EXPECT_EQ(EncodeS3Key("a+b=c&d?e#f"), "a%2Bb%3Dc%26d%3Fe%23f");
  EXPECT_EQ(EncodeS3Key("été/x~_.-"), "%C3%A9t%C3%A9/x~_.-");
  EXPECT_EQ(EncodeS3Key("../a//b"), "../a//b");
}

}  // namespace
}  // namespace lathe::aws
