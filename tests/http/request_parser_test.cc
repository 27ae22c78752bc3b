#include "http/request_parser.h"

#include <gtest/gtest.h>

#include <string>

namespace lathe::http {
namespace {

using Phase = RequestParser::Phase;

// Feeds `bytes` in pieces of `step` bytes, as a socket might deliver them.
size_t FeedHead(RequestParser* parser, const std::string& bytes, size_t step) {
  size_t consumed = 0;
  while (consumed < bytes.size() && parser->phase() == Phase::kHead) {
    size_t n = std::min(step, bytes.size() - consumed);
    size_t used = parser->ConsumeHead(bytes.data() + consumed, n);
    consumed += used;
    if (used < n) break;
  }
  return consumed;
}

std::string ReadWholeBody(RequestParser* parser, const std::string& bytes, size_t* consumed) {
  std::string body;
  char out[7];  // small on purpose: bodies come out in many pieces
  while (parser->phase() == Phase::kBody && *consumed < bytes.size()) {
    size_t produced = 0;
    *consumed += parser->ConsumeBody(bytes.data() + *consumed, bytes.size() - *consumed, out,
                                     sizeof(out), &produced);
    body.append(out, produced);
  }
  return body;
}

TEST(RequestParserTest, HeadArrivingByteByByteStopsAtItsEnd) {
  RequestParser parser({});
  std::string bytes =
      "PUT /model/a%2Fb/invoke?x=1 HTTP/1.1\r\nHost: h\r\nX-Spaced:   v  \r\nContent-Length: 3\r\n\r\nabcGET";
  size_t consumed = FeedHead(&parser, bytes, 1);
  ASSERT_EQ(parser.phase(), Phase::kBody);
  EXPECT_EQ(bytes.substr(consumed), "abcGET");
  EXPECT_EQ(parser.method(), "PUT");
  EXPECT_EQ(parser.target(), "/model/a%2Fb/invoke?x=1");
  ASSERT_EQ(parser.headers().size(), 3u);
  EXPECT_EQ(parser.headers()[1].name, "X-Spaced");
  EXPECT_EQ(parser.headers()[1].value, "v");
  EXPECT_EQ(parser.content_length(), 3);
  EXPECT_TRUE(parser.keep_alive());
  EXPECT_EQ(ReadWholeBody(&parser, bytes, &consumed), "abc");
  EXPECT_EQ(parser.phase(), Phase::kComplete);
  EXPECT_EQ(bytes.substr(consumed), "GET");  // the pipelined request is left alone
}

TEST(RequestParserTest, RequestWithoutBodyCompletesWithItsHead) {
  RequestParser parser({});
  std::string bytes = "GET / HTTP/1.1\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\n";
  size_t consumed = FeedHead(&parser, bytes, bytes.size());
  EXPECT_EQ(parser.phase(), Phase::kComplete);
  EXPECT_FALSE(parser.keep_alive());
  EXPECT_EQ(bytes.substr(consumed), "GET / HTTP/1.1\r\n");
  parser.Reset();
  EXPECT_FALSE(parser.started());
  EXPECT_EQ(parser.ConsumeHead(bytes.data() + consumed, bytes.size() - consumed), bytes.size() - consumed);
  EXPECT_EQ(parser.phase(), Phase::kHead);
  EXPECT_TRUE(parser.started());
}

TEST(RequestParserTest, ChunkedBodyWithExtensionsAndTrailersIsDecoded) {
  RequestParser parser({});
  std::string bytes =
      "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;name=value\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\nNEXT";
  size_t consumed = FeedHead(&parser, bytes, 3);
  ASSERT_EQ(parser.phase(), Phase::kBody);
  EXPECT_EQ(parser.content_length(), -1);
  EXPECT_EQ(ReadWholeBody(&parser, bytes, &consumed), "hello world");
  EXPECT_EQ(parser.phase(), Phase::kComplete);
  EXPECT_EQ(bytes.substr(consumed), "NEXT");
  EXPECT_EQ(parser.headers().size(), 1u);  // trailers are not headers
}

TEST(RequestParserTest, LongTargetIs414BeforeItIsStored) {
  ParserLimits limits;
  limits.max_request_line_bytes = 100;
  RequestParser parser(limits);
  std::string bytes = "GET /" + std::string(200, 'a');  // the line has not even ended
  FeedHead(&parser, bytes, 10);
  ASSERT_EQ(parser.phase(), Phase::kFailed);
  EXPECT_EQ(parser.error(), TransportError::kUriTooLong);
  EXPECT_LE(parser.target().size(), 100u);
  // Its head is kept, so the answer can be in the protocol of the service it was meant for.
  EXPECT_EQ(parser.target().substr(0, 5), "/aaaa");
}

TEST(RequestParserTest, TooManyHeaderBytesOrFieldsAre431) {
  ParserLimits limits;
  limits.max_header_bytes = 1000;
  limits.max_header_count = 10;
  {
    RequestParser parser(limits);
    FeedHead(&parser, "GET / HTTP/1.1\r\nX-Big: " + std::string(2000, 'v'), 64);
    ASSERT_EQ(parser.phase(), Phase::kFailed);
    EXPECT_EQ(parser.error(), TransportError::kHeadersTooLarge);
    EXPECT_NE(parser.error_message().find("1000 bytes"), std::string::npos) << parser.error_message();
  }
  {
    RequestParser parser(limits);
    std::string bytes = "GET / HTTP/1.1\r\n";
    for (int i = 0; i < 11; ++i) bytes += "X-" + std::to_string(i) + ": 1\r\n";
    FeedHead(&parser, bytes + "\r\n", 5);
    ASSERT_EQ(parser.phase(), Phase::kFailed);
    EXPECT_EQ(parser.error(), TransportError::kHeadersTooLarge);
    EXPECT_NE(parser.error_message().find("10 header fields"), std::string::npos) << parser.error_message();
  }
}

struct BadHead {
  const char* why;
  std::string bytes;
};

class RequestParserRejects : public ::testing::TestWithParam<BadHead> {};

TEST_P(RequestParserRejects, WithBadRequest) {
  RequestParser parser({});
  FeedHead(&parser, GetParam().bytes, 1);
  ASSERT_EQ(parser.phase(), Phase::kFailed) << GetParam().why;
  EXPECT_EQ(parser.error(), TransportError::kBadRequest) << GetParam().why;
  EXPECT_FALSE(parser.error_message().empty());
}

INSTANTIATE_TEST_SUITE_P(
    Smuggling, RequestParserRejects,
    ::testing::Values(
        BadHead{"differing lengths", "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"},
        BadHead{"length and chunked",
                "POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"},
        BadHead{"chunked and length",
                "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n"},
        BadHead{"gzip coding", "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n"},
        BadHead{"gzip then chunked", "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"},
        BadHead{"obsolete folding", "GET / HTTP/1.1\r\nX-A: one\r\n two\r\n\r\n"},
        BadHead{"folding with a tab", "GET / HTTP/1.1\r\nX-A: one\r\n\ttwo\r\n\r\n"},
        BadHead{"NUL in a value", std::string("GET / HTTP/1.1\r\nX-A: a\0b\r\n\r\n", 28)},
        BadHead{"CR in a value", "GET / HTTP/1.1\r\nX-A: a\rb\r\n\r\n"},
        BadHead{"HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"},
        BadHead{"CONNECT", "CONNECT example.com:443 HTTP/1.1\r\n\r\n"},
        BadHead{"negative length", "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"},
        BadHead{"space before the colon", "POST / HTTP/1.1\r\nTransfer-Encoding :chunked\r\n\r\n5\r\n"},
        BadHead{"garbage", "\x01\x02\x03 / HTTP/1.1\r\n\r\n"}));

TEST(RequestParserTest, ChunkLargerThanTheLimitFailsTheBody) {
  ParserLimits limits;
  limits.max_chunk_bytes = 1024;
  RequestParser parser(limits);
  std::string bytes = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n401\r\n";
  size_t consumed = FeedHead(&parser, bytes, bytes.size());
  ReadWholeBody(&parser, bytes, &consumed);
  ASSERT_EQ(parser.phase(), Phase::kFailed);
  EXPECT_NE(parser.error_message().find("1024 bytes"), std::string::npos) << parser.error_message();
}

TEST(RequestParserTest, MalformedChunkFramingFailsTheBody) {
  RequestParser parser({});
  std::string bytes = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
  size_t consumed = FeedHead(&parser, bytes, bytes.size());
  ReadWholeBody(&parser, bytes, &consumed);
  EXPECT_EQ(parser.phase(), Phase::kFailed);
}

TEST(RequestParserTest, ExpectContinueIsSeenOnlyForHttp11) {
  {
    RequestParser parser({});
    FeedHead(&parser, "PUT / HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n", 100);
    EXPECT_TRUE(parser.expects_continue());
  }
  {
    RequestParser parser({});
    FeedHead(&parser, "PUT / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n", 100);
    EXPECT_FALSE(parser.expects_continue());
    EXPECT_FALSE(parser.keep_alive());  // HTTP/1.0 without Connection: keep-alive
    EXPECT_EQ(parser.http_minor(), 0);
  }
}

}  // namespace
}  // namespace lathe::http
