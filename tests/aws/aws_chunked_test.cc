#include "aws/aws_chunked.h"

#include <gtest/gtest.h>

#include <string>

#include "aws_streaming_example.h"
#include "core/sha256.h"

namespace lathe::api {
namespace {

using testing::kStreamingChunkSignatures;

// The request's signing context, as VerifySigV4 returns it for that seed request.
ChunkSigning AwsExampleSigning() {
  const SignedRequest seed = testing::StreamingSeedRequest();
  const SecretLookup lookup = testing::S3DocLookup();
  VerifyOptions options;
  options.body_unread = true;
  auto verdict = VerifySigV4(seed, lookup, testing::kS3DocTime, options);
  EXPECT_TRUE(std::holds_alternative<VerifiedRequest>(verdict));
  return std::holds_alternative<VerifiedRequest>(verdict)
             ? std::get<VerifiedRequest>(verdict).chunk_signing
             : ChunkSigning{};
}

std::string AwsExampleBody() { return testing::StreamingExampleBody(); }

AwsChunkedDecoder AwsExampleDecoder(AwsChunkedLimits limits = {}, int64_t length = 66560) {
  return AwsChunkedDecoder(PayloadMode::kStreamingSigned, AwsExampleSigning(), length, {}, limits);
}

// Feeds `body` in pieces of `step` bytes; the first error, or Finish()'s verdict.
Status Decode(AwsChunkedDecoder& decoder, std::string_view body, size_t step,
              std::string* payload) {
  for (size_t at = 0; at < body.size(); at += step)
    LATHE_RETURN_IF_ERROR(decoder.Feed(body.substr(at, step), payload));
  return decoder.Finish();
}

TEST(AwsChunkedTest, ChunkSignaturesMatchAwsExample) {
  ChunkSigning signing = AwsExampleSigning();
  ASSERT_EQ(signing.seed_signature, testing::kStreamingSeedSignature);
  std::string s1 = AwsChunkSignature(signing, testing::kStreamingSeedSignature, Sha256Hex(std::string(65536, 'a')));
  std::string s2 = AwsChunkSignature(signing, s1, Sha256Hex(std::string(1024, 'a')));
  std::string s3 = AwsChunkSignature(signing, s2, Sha256Hex(""));
  EXPECT_EQ(s1, kStreamingChunkSignatures[0]);
  EXPECT_EQ(s2, kStreamingChunkSignatures[1]);
  EXPECT_EQ(s3, kStreamingChunkSignatures[2]);
}

TEST(AwsChunkedTest, DecodesTheAwsExampleWhateverTheSplit) {
  const std::string body = AwsExampleBody();
  ASSERT_EQ(body.size(), 66824u);  // the example's Content-Length
  for (size_t step : {body.size(), size_t{1}, size_t{7}, size_t{4096}, size_t{65536 + 90}}) {
    AwsChunkedDecoder decoder = AwsExampleDecoder();
    std::string payload;
    Status s = Decode(decoder, body, step, &payload);
    ASSERT_TRUE(s.ok()) << "step " << step << ": " << s.message();
    EXPECT_TRUE(decoder.done());
    EXPECT_EQ(payload, std::string(66560, 'a')) << step;
    EXPECT_EQ(decoder.payload_bytes(), 66560u);
  }
}

void ExpectRefused(const Status& s, const std::string& code, int http, const std::string& words) {
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.aws_code(), code) << s.message();
  EXPECT_EQ(s.http_status(), http) << s.message();
  EXPECT_NE(s.message().find(words), std::string::npos) << s.message();
}

TEST(AwsChunkedTest, RefusesATamperedChunk) {
  std::string body = AwsExampleBody();
  body[body.find("\r\n") + 2 + 1000] = 'b';  // one payload byte of the first chunk
  AwsChunkedDecoder decoder = AwsExampleDecoder();
  std::string payload;
  ExpectRefused(Decode(decoder, body, 4096, &payload), "SignatureDoesNotMatch", 403,
                "chunk signature we calculated does not match");
  // Failed for good: more bytes do not revive it.
  EXPECT_FALSE(decoder.Feed("0;chunk-signature=", &payload).ok());
  EXPECT_FALSE(decoder.Finish().ok());
}

TEST(AwsChunkedTest, RefusesReorderedOrMissingSignatures) {
  // The second chunk's signature on the first: chaining makes order part of the signature.
  std::string swapped = AwsExampleBody();
  swapped.replace(swapped.find(kStreamingChunkSignatures[0]), 64, kStreamingChunkSignatures[1]);
  AwsChunkedDecoder decoder = AwsExampleDecoder();
  std::string payload;
  ExpectRefused(Decode(decoder, swapped, 66824, &payload), "SignatureDoesNotMatch", 403,
                "does not match");

  AwsChunkedDecoder unsigned_chunk = AwsExampleDecoder();
  ExpectRefused(unsigned_chunk.Feed("10000\r\n", &payload), "SignatureDoesNotMatch", 403,
                "no chunk-signature");
}

TEST(AwsChunkedTest, RefusesAChunkOverTheBound) {
  AwsChunkedLimits limits;
  limits.max_chunk_bytes = 1024;
  AwsChunkedDecoder decoder = AwsExampleDecoder(limits);
  std::string payload;
  ExpectRefused(Decode(decoder, AwsExampleBody(), 100, &payload), "InvalidRequest", 400,
                "a chunk of 65536 bytes is over the bound of 1024 bytes");
  EXPECT_TRUE(payload.empty());  // refused at the size line, before any data

  // A size line never ended is refused once over its bound, not buffered without end.
  AwsChunkedDecoder endless = AwsExampleDecoder();
  Status s;
  for (int i = 0; i < 100 && s.ok(); ++i) s = endless.Feed(std::string(100, '1'), &payload);
  ExpectRefused(s, "InvalidRequest", 400, "longer than 4096 bytes");

  AwsChunkedDecoder huge = AwsExampleDecoder();
  ExpectRefused(
      huge.Feed("fffffffffffffffffffffff;chunk-signature=" + std::string(64, '0') + "\r\n",
                &payload),
      "InvalidRequest", 400, "is not hex");
}

TEST(AwsChunkedTest, RefusesABodyThatEndsEarlyOrRunsOn) {
  const std::string body = AwsExampleBody();
  std::string payload;
  AwsChunkedDecoder cut = AwsExampleDecoder();
  ExpectRefused(Decode(cut, body.substr(0, body.size() - 90), 1000, &payload), "IncompleteBody",
                400, "ended before its final chunk");

  AwsChunkedDecoder no_final_crlf = AwsExampleDecoder();
  ExpectRefused(Decode(no_final_crlf, body.substr(0, body.size() - 2), 1000, &payload),
                "IncompleteBody", 400, "ended inside its trailer");

  AwsChunkedDecoder extra = AwsExampleDecoder();
  ExpectRefused(Decode(extra, body + "x", 1000, &payload), "InvalidRequest", 400,
                "bytes after the end");

  AwsChunkedDecoder short_length = AwsExampleDecoder({}, 66559);
  ExpectRefused(Decode(short_length, body, 1000, &payload), "IncompleteBody", 400,
                "more payload than x-amz-decoded-content-length");
  AwsChunkedDecoder long_length = AwsExampleDecoder({}, 66561);
  ExpectRefused(Decode(long_length, body, 1000, &payload), "IncompleteBody", 400,
                "but x-amz-decoded-content-length says 66561");

  std::string no_crlf = body;
  no_crlf.replace(no_crlf.find("\r\n400;"), 2, "XY");  // data runs into the next size line
  AwsChunkedDecoder framing = AwsExampleDecoder();
  ExpectRefused(Decode(framing, no_crlf, 1000, &payload), "InvalidRequest", 400,
                "not followed by CRLF");
}

// A STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER body over `chunks`, signed with `signing`.
std::string SignedTrailerBody(const ChunkSigning& signing, const std::vector<std::string>& chunks,
                              const std::string& crc32) {
  std::string body, previous = signing.seed_signature;
  for (const std::string& chunk : chunks) {
    previous = AwsChunkSignature(signing, previous, Sha256Hex(chunk));
    char size[32];
    std::snprintf(size, sizeof size, "%zx", chunk.size());
    body += std::string(size) + ";chunk-signature=" + previous + "\r\n" + chunk + "\r\n";
  }
  previous = AwsChunkSignature(signing, previous, Sha256Hex(""));
  body += "0;chunk-signature=" + previous + "\r\n";
  body += "x-amz-checksum-crc32:" + crc32 + "\r\n";
  body += "x-amz-trailer-signature:" +
          AwsTrailerSignature(signing, previous, {{"x-amz-checksum-crc32", crc32}}) + "\r\n\r\n";
  return body;
}

AwsChunkedDecoder TrailerDecoder(const ChunkSigning& signing, AwsChunkedLimits limits = {}) {
  return AwsChunkedDecoder(PayloadMode::kStreamingSignedTrailer, signing, 9,
                           {"x-amz-checksum-crc32"}, limits);
}

TEST(AwsChunkedTest, ChecksASignedTrailer) {
  const ChunkSigning signing = AwsExampleSigning();
  const std::string good = SignedTrailerBody(signing, {"abcde", "fghi"}, "AAAAAA==");
  std::string payload;
  AwsChunkedDecoder decoder = TrailerDecoder(signing);
  Status s = Decode(decoder, good, 3, &payload);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(payload, "abcdefghi");
  ASSERT_EQ(decoder.trailers().size(), 1u);
  EXPECT_EQ(decoder.trailers()[0],
            (std::pair<std::string, std::string>{"x-amz-checksum-crc32", "AAAAAA=="}));

  std::string tampered = good;
  tampered.replace(tampered.find("AAAAAA=="), 8, "BBBBBB==");  // the checksum, not its signature
  AwsChunkedDecoder t = TrailerDecoder(signing);
  ExpectRefused(Decode(t, tampered, 64, &payload), "SignatureDoesNotMatch", 403,
                "trailer signature we calculated does not match");

  std::string unsigned_trailer = good.substr(0, good.find("x-amz-trailer-signature:")) + "\r\n";
  AwsChunkedDecoder u = TrailerDecoder(signing);
  ExpectRefused(Decode(u, unsigned_trailer, 64, &payload), "SignatureDoesNotMatch", 403,
                "no x-amz-trailer-signature");

  std::string other_name = good;
  other_name.replace(other_name.find("x-amz-checksum-crc32:"), 20, "x-amz-checksum-sha1x");
  AwsChunkedDecoder o = TrailerDecoder(signing);
  ExpectRefused(Decode(o, other_name, 64, &payload), "InvalidRequest", 400,
                "was not announced in x-amz-trailer");
}

TEST(AwsChunkedTest, RefusesATruncatedOrOversizedTrailer) {
  const ChunkSigning signing = AwsExampleSigning();
  const std::string good = SignedTrailerBody(signing, {"abcdefghi"}, "AAAAAA==");
  std::string payload;
  // Cut inside the trailer: the checksum line is there, its signature and the end are not.
  const std::string truncated = good.substr(0, good.find("x-amz-trailer-signature:") + 10);
  AwsChunkedDecoder cut = TrailerDecoder(signing);
  ExpectRefused(Decode(cut, truncated, 64, &payload), "IncompleteBody", 400,
                "ended inside its trailer");

  AwsChunkedLimits small;
  small.max_trailer_bytes = 64;
  AwsChunkedDecoder bounded = TrailerDecoder(signing, small);
  ExpectRefused(Decode(bounded, good, 64, &payload), "InvalidRequest", 400,
                "trailer is longer than 64 bytes");

  // The announced trailer never sent.
  std::string missing = good.substr(0, good.find("x-amz-checksum-crc32:")) + "\r\n";
  AwsChunkedDecoder m = TrailerDecoder(signing);
  ExpectRefused(Decode(m, missing, 64, &payload), "IncompleteBody", 400,
                "lacks 'x-amz-checksum-crc32'");
}

TEST(AwsChunkedTest, DecodesUnsignedChunksWithATrailer) {
  AwsChunkedDecoder decoder(PayloadMode::kStreamingUnsignedTrailer, {}, 7,
                            {"x-amz-checksum-crc32"});
  std::string payload;
  Status s = Decode(decoder, "3\r\nabc\r\n4\r\ndefg\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n",
                    5, &payload);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(payload, "abcdefg");

  AwsChunkedDecoder with_signature(PayloadMode::kStreamingUnsignedTrailer, {}, 3,
                                   {"x-amz-checksum-crc32"});
  ExpectRefused(with_signature.Feed("3;chunk-signature=" + std::string(64, '0') + "\r\n", &payload),
                "InvalidRequest", 400, "unsigned chunk carries an extension");
}

TEST(AwsChunkedTest, RefusesANonStreamingRequest) {
  AwsChunkedDecoder decoder(PayloadMode::kUnsigned, {}, 0, {});
  std::string payload;
  EXPECT_FALSE(decoder.Feed("", &payload).ok());
  EXPECT_FALSE(decoder.Finish().ok());
}

}  // namespace
}  // namespace lathe::api
