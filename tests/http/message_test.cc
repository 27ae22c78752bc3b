#include "http/message.h"

#include <gtest/gtest.h>

namespace lathe::http {
namespace {

TEST(MessageTest, PathAndQueryStayEncoded) {
  Request r;
  r.target = "/model/arn%3Aaws%2Fx/invoke?a=1&b=%2F";
  EXPECT_EQ(r.path(), "/model/arn%3Aaws%2Fx/invoke");
  EXPECT_EQ(r.query(), "a=1&b=%2F");
  r.target = "/plain";
  EXPECT_EQ(r.query(), "");
}

TEST(MessageTest, HeadersMatchWithoutCase) {
  Request r;
  r.headers = {{"X-Amz-Date", "1"}, {"x-amz-date", "2"}};
  ASSERT_NE(r.header("X-AMZ-DATE"), nullptr);
  EXPECT_EQ(*r.header("x-amz-date"), "1");
  EXPECT_EQ(r.header("X-Amz-Dat"), nullptr);
  Response resp;
  resp.set_header("Content-Type", "a");
  resp.set_header("content-type", "b");
  ASSERT_EQ(resp.headers.size(), 1u);
  EXPECT_EQ(*resp.header("CONTENT-TYPE"), "b");
}

TEST(MessageTest, ReadBodyWithinTheLimit) {
  StringBodyReader reader(std::string(100000, 'x'));
  Result<std::string> body = ReadBody(&reader, 100000);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(body->size(), 100000u);
}

// A reader that does not know its length (a chunked body): ReadBody must count for itself.
class UnknownLengthReader : public StringBodyReader {
 public:
  using StringBodyReader::StringBodyReader;
  int64_t declared_length() const override { return -1; }
  Result<size_t> Read(char* buf, size_t n) override {
    requested += n;
    return StringBodyReader::Read(buf, n);
  }
  size_t requested = 0;
};

TEST(MessageTest, ReadBodyOverTheLimitIsQuotaExceededWithoutReadingOn) {
  UnknownLengthReader reader(std::string(1 << 20, 'x'));
  Result<std::string> body = ReadBody(&reader, 1000);
  ASSERT_FALSE(body.ok());
  EXPECT_EQ(body.status().code(), Status::Code::kQuotaExceeded);
  EXPECT_NE(body.status().message().find("1000 bytes"), std::string::npos);
  EXPECT_LE(reader.requested, 1001u);

  StringBodyReader declared(std::string(1001, 'x'));  // Content-Length says so: refused at once
  EXPECT_EQ(ReadBody(&declared, 1000).status().code(), Status::Code::kQuotaExceeded);
}

}  // namespace
}  // namespace lathe::http
