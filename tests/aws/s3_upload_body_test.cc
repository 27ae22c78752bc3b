// S3 upload bodies read as the gateway hands them over (nothing buffered, signature over the
// headers only): every payload mode, Content-MD5, flexible checksums in a header or a trailer,
// and bodies that are short, long or tampered with. No sockets: the body is a BodyReader.
#include "aws/s3_upload_body.h"

#include <gtest/gtest.h>

#include <random>

#include "aws_streaming_example.h"
#include "core/checksum.h"

namespace lathe::aws {
namespace {

constexpr std::time_t kNow = 1764600000;
const api::Credentials kKey{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"};

// A body that fails after `good` bytes (a client that hangs up), or that declares more than it has.
class ShortBody : public http::BodyReader {
 public:
  ShortBody(std::string data, int64_t declared, bool fail) : data_(std::move(data)), declared_(declared), fail_(fail) {}
  Result<size_t> Read(char* buf, size_t n) override {
    if (pos_ == data_.size() && fail_) return Status::IOError("the client closed the connection");
    size_t k = std::min(n, data_.size() - pos_);
    std::copy_n(data_.data() + pos_, k, buf);
    pos_ += k;
    return k;
  }
  int64_t declared_length() const override { return declared_; }

 private:
  std::string data_;
  int64_t declared_;
  bool fail_;
  size_t pos_ = 0;
};

std::string RandomBytes(size_t n) {
  std::mt19937 rng(42);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

std::string B64(ChecksumAlgorithm a, std::string_view data) { return Base64Encode(ChecksumOf(a, data)); }

// One upload: the request as the gateway passes it, signed (verified over its headers) or not.
struct Upload {
  http::Request request;
  RequestContext context;
  std::unique_ptr<http::BodyReader> reader;

  // headers: besides Host (and what signing adds). `sign`: SigV4 as botocore signs S3 requests
  // (x-amz-content-sha256 is the body's hash unless one is given).
  Upload(std::string body, std::vector<http::Header> headers, bool sign = true,
         std::unique_ptr<http::BodyReader> custom = nullptr) {
    api::SignedRequest sr{"PUT", "/bucket/key", {{"Host", "localhost:9000"}}, body};
    for (const auto& h : headers) sr.headers.emplace_back(h.name, h.value);
    if (sign) {
      api::SignSigV4(&sr, "us-east-1", "s3", kKey, kNow);
      Verify(sr, [](const std::string& id) -> std::optional<std::string> { return kKey.secret_access_key; }, kNow);
    }
    Init(sr, std::move(body), std::move(custom));
  }
  // A request signed elsewhere (AWS's published example).
  Upload(const api::SignedRequest& sr, std::string body, const api::SecretLookup& lookup, std::time_t now) {
    Verify(sr, lookup, now);
    Init(sr, std::move(body), nullptr);
  }
  void Verify(const api::SignedRequest& sr, const api::SecretLookup& lookup, std::time_t now) {
    api::SignedRequest headers_only = sr;
    headers_only.body = {};
    api::VerifyOptions options;
    options.body_unread = true;  // what the gateway does for BodyLimit 0
    auto verdict = api::VerifySigV4(headers_only, lookup, now, options);
    if (auto* f = std::get_if<api::AuthFailure>(&verdict)) {
      ADD_FAILURE() << f->message;
    } else {
      context.signature = std::get<api::VerifiedRequest>(verdict);
    }
  }
  void Init(const api::SignedRequest& sr, std::string body, std::unique_ptr<http::BodyReader> custom) {
    request.method = sr.method;
    request.target = sr.target;
    for (const auto& [n, v] : sr.headers) request.headers.push_back({n, v});
    reader = custom ? std::move(custom) : std::make_unique<http::StringBodyReader>(std::move(body));
    request.body = reader.get();
  }

  // Reads the whole body; the pieces' concatenation in *payload.
  Result<S3UploadDigests> Read(std::string* payload = nullptr, S3UploadLimits limits = {}, size_t* max_piece = nullptr) {
    auto body = S3UploadBody::Open(request, context, limits);
    if (!body.ok()) return body.status();
    std::string sink;
    auto digests = (*body)->ReadAll([&](std::string_view piece) {
      if (max_piece) *max_piece = std::max(*max_piece, piece.size());
      sink.append(piece);
      return Status::Ok();
    });
    if (payload) *payload = std::move(sink);
    return digests;
  }
};

void ExpectError(const Result<S3UploadDigests>& r, const std::string& code, int http, const std::string& words = "") {
  ASSERT_FALSE(r.ok()) << "expected " << code;
  EXPECT_EQ(r.status().aws_code(), code) << r.status().message();
  EXPECT_EQ(r.status().http_status(), http);
  if (!words.empty()) {
    EXPECT_NE(r.status().message().find(words), std::string::npos) << r.status().message();
  }
}

// aws-chunked without signatures, with the checksum in the trailer: what boto3 >= 1.36 sends.
std::string UnsignedChunked(std::string_view data, size_t chunk, const std::string& trailer) {
  std::string out;
  for (size_t i = 0; i < data.size(); i += chunk) {
    std::string_view c = data.substr(i, chunk);
    char size[20];
    std::snprintf(size, sizeof(size), "%zx", c.size());
    out += std::string(size) + "\r\n" + std::string(c) + "\r\n";
  }
  return out + "0\r\n" + trailer + "\r\n\r\n";
}
std::vector<http::Header> TrailerHeaders(size_t decoded, const char* trailer = "x-amz-checksum-crc32") {
  return {{"x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"},
          {"Content-Encoding", "aws-chunked"},
          {"x-amz-decoded-content-length", std::to_string(decoded)},
          {"x-amz-trailer", trailer},
          {"x-amz-sdk-checksum-algorithm", "CRC32"}};
}

TEST(S3UploadBodyTest, AnUnsignedBodyStreamsInBoundedPiecesWithItsMd5) {
  const std::string data = RandomBytes(3 * 1024 * 1024 + 5);
  Upload up(data, {}, /*sign=*/false);
  std::string payload;
  size_t max_piece = 0;
  auto d = up.Read(&payload, {}, &max_piece);
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(payload, data);
  EXPECT_LE(max_piece, size_t{1} << 20);
  EXPECT_EQ(d->size, data.size());
  EXPECT_EQ(d->ETag(), std::string(1, '"').append(HexEncode(ChecksumOf(ChecksumAlgorithm::kMd5, data))).append("\""));
  EXPECT_FALSE(d->checksum_algorithm);
  EXPECT_EQ(d->ChecksumHeader().first, "");
}

TEST(S3UploadBodyTest, TheSignedPayloadHashIsCheckedAtTheEnd) {
  const std::string data = RandomBytes(200000);
  Upload good(data, {});  // botocore's signer puts the body's SHA-256 in x-amz-content-sha256
  ASSERT_TRUE(good.context.signature && !good.context.signature->payload_hash_checked);
  auto d = good.Read();
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(d->size, 200000u);

  Upload bad(data, {{"x-amz-content-sha256", Sha256Hex("something else")}});
  ExpectError(bad.Read(), "XAmzContentSHA256Mismatch", 400, "x-amz-content-sha256");
}

TEST(S3UploadBodyTest, UnsignedPayloadIsTakenAsSent) {
  Upload up("hello", {{"x-amz-content-sha256", "UNSIGNED-PAYLOAD"}});
  std::string payload;
  auto d = up.Read(&payload);
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(payload, "hello");
}

TEST(S3UploadBodyTest, AwsPublishedSignedChunkedExample) {
  const std::string body = api::testing::StreamingExampleBody();
  Upload up(api::testing::StreamingSeedRequest(), body, api::testing::S3DocLookup(), api::testing::kS3DocTime);
  std::string payload;
  auto d = up.Read(&payload, {.piece_bytes = 4096});
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(payload, std::string(66560, 'a'));
  EXPECT_EQ(d->md5, ChecksumOf(ChecksumAlgorithm::kMd5, payload));

  std::string tampered = body;
  tampered[tampered.find("\r\na") + 100] = 'b';
  Upload bad(api::testing::StreamingSeedRequest(), tampered, api::testing::S3DocLookup(), api::testing::kS3DocTime);
  ExpectError(bad.Read(), "SignatureDoesNotMatch", 403);
}

TEST(S3UploadBodyTest, Boto3DefaultUnsignedChunkedWithTrailingCrc32) {
  const std::string data = RandomBytes(150000);
  const std::string crc = B64(ChecksumAlgorithm::kCrc32, data);
  for (bool sign : {true, false}) {
    Upload up(UnsignedChunked(data, 65536, "x-amz-checksum-crc32:" + crc), TrailerHeaders(data.size()), sign);
    std::string payload;
    auto d = up.Read(&payload);
    ASSERT_TRUE(d.ok()) << d.status().message();
    EXPECT_EQ(payload, data);
    EXPECT_EQ(d->checksum_algorithm, ChecksumAlgorithm::kCrc32);
    EXPECT_EQ(d->ChecksumHeader(), std::make_pair(std::string("x-amz-checksum-crc32"), crc));
  }
  Upload wrong(UnsignedChunked(data, 65536, "x-amz-checksum-crc32:" + B64(ChecksumAlgorithm::kCrc32, "other")),
               TrailerHeaders(data.size()));
  ExpectError(wrong.Read(), "BadDigest", 400, "The CRC32 you specified did not match the calculated checksum.");
  Upload malformed(UnsignedChunked(data, 65536, "x-amz-checksum-crc32:notbase64"), TrailerHeaders(data.size()));
  ExpectError(malformed.Read(), "InvalidRequest", 400, "x-amz-checksum-crc32");
}

TEST(S3UploadBodyTest, ChunkedLengthsMustAddUp) {
  const std::string data = RandomBytes(1000);
  const std::string trailer = "x-amz-checksum-crc32:" + B64(ChecksumAlgorithm::kCrc32, data);
  Upload longer(UnsignedChunked(data, 300, trailer), TrailerHeaders(999));
  ExpectError(longer.Read(), "IncompleteBody", 400);
  Upload shorter(UnsignedChunked(data, 300, trailer), TrailerHeaders(1001));
  ExpectError(shorter.Read(), "IncompleteBody", 400);
  std::string cut = UnsignedChunked(data, 300, trailer);
  Upload truncated(cut.substr(0, cut.size() - 40), TrailerHeaders(1000));
  ExpectError(truncated.Read(), "IncompleteBody", 400);
  Upload unknown(UnsignedChunked(data, 300, trailer), TrailerHeaders(1000, "x-amz-meta-foo"));
  ExpectError(unknown.Read(), "InvalidRequest", 400, "x-amz-trailer");
}

TEST(S3UploadBodyTest, ContentMd5GoodBadAndMalformed) {
  const std::string data = "The quick brown fox";
  Upload good(data, {{"Content-MD5", B64(ChecksumAlgorithm::kMd5, data)}});
  EXPECT_TRUE(good.Read().ok());
  Upload bad(data, {{"Content-MD5", B64(ChecksumAlgorithm::kMd5, "other")}});
  ExpectError(bad.Read(), "BadDigest", 400, "Content-MD5");
  for (const char* malformed : {"abc", "not base64 encoded checksum1", "AAAA"}) {  // "AAAA": 3 bytes, not 16
    Upload m(data, {{"Content-MD5", malformed}});
    ExpectError(m.Read(), "InvalidDigest", 400, "Content-MD5");
  }
}

TEST(S3UploadBodyTest, ChecksumHeadersOfEveryAlgorithm) {
  const std::string data = RandomBytes(5000);
  for (ChecksumAlgorithm a : {ChecksumAlgorithm::kCrc32, ChecksumAlgorithm::kCrc32c, ChecksumAlgorithm::kCrc64Nvme,
                              ChecksumAlgorithm::kSha1, ChecksumAlgorithm::kSha256}) {
    const std::string name = "x-amz-checksum-" + std::string(ChecksumName(a));  // any case is the same header
    Upload good(data, {{name, B64(a, data)}, {"x-amz-sdk-checksum-algorithm", std::string(ChecksumName(a))}});
    auto d = good.Read();
    ASSERT_TRUE(d.ok()) << name << ": " << d.status().message();
    EXPECT_EQ(d->checksum_algorithm, a);
    EXPECT_EQ(d->checksum, ChecksumOf(a, data));
    Upload bad(data, {{name, B64(a, "x")}});
    ExpectError(bad.Read(), "BadDigest", 400,
                "The " + std::string(ChecksumName(a)) + " you specified did not match the calculated checksum.");
    Upload malformed(data, {{name, "AAAA"}});
    ExpectError(malformed.Read(), "InvalidRequest", 400, "header is invalid");
  }
}

TEST(S3UploadBodyTest, ChecksumHeadersThatContradictThemselves) {
  const std::string data = "abc";
  Upload two(data, {{"x-amz-checksum-crc32", B64(ChecksumAlgorithm::kCrc32, data)},
                    {"x-amz-checksum-sha1", B64(ChecksumAlgorithm::kSha1, data)}});
  ExpectError(two.Read(), "InvalidRequest", 400, "Multiple checksum Types");
  Upload algorithm_only(data, {{"x-amz-sdk-checksum-algorithm", "CRC32"}});
  ExpectError(algorithm_only.Read(), "InvalidRequest", 400, "no corresponding");
  Upload unknown_algorithm(data, {{"x-amz-sdk-checksum-algorithm", "ADLER32"}});
  ExpectError(unknown_algorithm.Read(), "InvalidRequest", 400, "x-amz-sdk-checksum-algorithm");
  Upload other(data, {{"x-amz-checksum-crc32", B64(ChecksumAlgorithm::kCrc32, data)},
                      {"x-amz-sdk-checksum-algorithm", "SHA256"}});
  ExpectError(other.Read(), "BadDigest", 400);
  Upload unknown_header(data, {{"x-amz-checksum-adler32", "AAAAAA=="}});
  ExpectError(unknown_header.Read(), "InvalidRequest", 400);
}

TEST(S3UploadBodyTest, ABodyThatEndsEarlyIsIncomplete) {
  const std::string data = RandomBytes(10000);
  Upload hung_up(data, {}, false, std::make_unique<ShortBody>(data.substr(0, 4000), 10000, /*fail=*/true));
  ExpectError(hung_up.Read(), "IncompleteBody", 400, "4000 payload bytes");
  Upload short_body(data, {}, false, std::make_unique<ShortBody>(data.substr(0, 4000), 10000, /*fail=*/false));
  ExpectError(short_body.Read(), "IncompleteBody", 400, "Content-Length");
}

TEST(S3UploadBodyTest, TooLargeBeforeOrWhileReading) {
  Upload declared(std::string(100, 'x'), {}, false);
  ExpectError(declared.Read(nullptr, {.max_payload_bytes = 99}), "EntityTooLarge", 400);
  // Length unknown (Transfer-Encoding: chunked): refused once the bound is passed.
  Upload chunked(std::string(100, 'x'), {}, false, std::make_unique<ShortBody>(std::string(100, 'x'), -1, false));
  ExpectError(chunked.Read(nullptr, {.max_payload_bytes = 99, .piece_bytes = 10}), "EntityTooLarge", 400);
  Upload chunked_ok(std::string(100, 'x'), {}, false, std::make_unique<ShortBody>(std::string(100, 'x'), -1, false));
  EXPECT_TRUE(chunked_ok.Read(nullptr, {.max_payload_bytes = 100, .piece_bytes = 10}).ok());
  ExpectError(Upload("", TrailerHeaders(6ull << 30)).Read(), "EntityTooLarge", 400);
}

TEST(S3UploadBodyTest, AnErrorSticksAndNothingIsHandedOutAfterIt) {
  Upload up("abc", {{"Content-MD5", B64(ChecksumAlgorithm::kMd5, "xyz")}});
  auto body = S3UploadBody::Open(up.request, up.context);
  ASSERT_TRUE(body.ok());
  std::string piece;
  ASSERT_TRUE((*body)->Next(&piece).ok());
  EXPECT_EQ(piece, "abc");
  ASSERT_TRUE((*body)->Next(&piece).ok());
  EXPECT_TRUE(piece.empty());
  EXPECT_EQ((*body)->Finish().status().aws_code(), "BadDigest");
  EXPECT_EQ((*body)->Finish().status().aws_code(), "BadDigest");
  EXPECT_EQ((*body)->Next(&piece).aws_code(), "BadDigest");
  EXPECT_TRUE(piece.empty());
}

TEST(S3UploadBodyTest, UnsignedRequestsCannotClaimSignedStreaming) {
  Upload up("x", {{"x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"},
                  {"x-amz-decoded-content-length", "1"}},
            false);
  ExpectError(up.Read(), "InvalidRequest", 400, "signed request");
  Upload hashed("abc", {{"x-amz-content-sha256", Sha256Hex("abd")}}, false);
  ExpectError(hashed.Read(), "XAmzContentSHA256Mismatch", 400);
}

}  // namespace
}  // namespace lathe::aws
