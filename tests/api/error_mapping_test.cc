// Status codes become the HTTP status and x-amzn-ErrorType that Bedrock's service model names.
#include <gtest/gtest.h>

#include "api/bedrock_server.h"
#include "service/resource_json.h"

namespace lathe::api {
namespace {

TEST(ErrorFor, EachStatusCodeIsBedrocksError) {
  struct Case {
    Status status;
    int http;
    std::string type;
  };
  for (const auto& c : std::vector<Case>{
           {Status::InvalidArgument("x"), 400, "ValidationException"},
           {Status::NotFound("x"), 404, "ResourceNotFoundException"},
           {Status::Conflict("x"), 400, "ConflictException"},
           {Status::AlreadyExists("x"), 400, "ConflictException"},
           {Status::Throttled("x"), 429, "ThrottlingException"},
           {Status::QuotaExceeded("3 jobs"), 400, "ServiceQuotaExceededException"},
           // Not by message any more: a QuotaExceeded is ServiceQuotaExceeded whatever it says...
           {Status::QuotaExceeded("Too many tags: at most 200 per resource"), 400, "ServiceQuotaExceededException"},
           // ...and an error the service named itself travels as it is.
           {Status::Aws("TooManyTagsException", 400, "Too many tags", Status::Code::kQuotaExceeded), 400,
            "TooManyTagsException"},
           {Status::Aws("ValidationException", 400, "Invalid nextToken"), 400, "ValidationException"},
           {Status::Aws("ModelNotReadyException", 429, "loading", Status::Code::kThrottled), 429,
            "ModelNotReadyException"},
           {Status::IOError("disk"), 500, "InternalServerException"},
           {Status::Internal("bug"), 500, "InternalServerException"}}) {
    auto [http, type] = ErrorFor(c.status);
    EXPECT_EQ(http, c.http) << c.status.ToString();
    EXPECT_EQ(type, c.type) << c.status.ToString();
  }
}

TEST(ErrorFor, TheTagLimitIsTooManyTagsException) {
  auto [http, type] = ErrorFor(service::CheckTagCount(service::kMaxTags + 1, "tags"));
  EXPECT_EQ(http, 400);
  EXPECT_EQ(type, "TooManyTagsException");
}

TEST(ParseBody, BoundsNestingBeforeParsingAndWantsAnObject) {
  EXPECT_TRUE(ParseBody("")->empty());
  EXPECT_EQ((*ParseBody(R"({"a": 1})"))["a"], 1);
  // 200,000 levels (a 400 KB body) in a member overflowed the parser's stack.
  const std::string deep = std::string(200000, '[') + std::string(200000, ']');
  for (const std::string& body : {R"({"jobTags": )" + deep + "}", R"({"a": {"b": )" + deep + "}}", deep}) {
    auto r = ParseBody(body);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().message(), "The request body is not valid JSON: JSON nests deeper than 64 levels");
    EXPECT_EQ(ErrorFor(r.status()).second, "ValidationException");
  }
  auto array = ParseBody("[1]");
  ASSERT_FALSE(array.ok());
  EXPECT_EQ(array.status().message(), "The request body must be a JSON object (found array)");
  EXPECT_EQ(ErrorFor(ParseBody("{").status()).first, 400);
}

}  // namespace
}  // namespace lathe::api
