// Status codes become the error code and HTTP status each protocol's services declare; a Status
// that names its AWS error (Status::Aws) travels as it is, never mapped by its message.
#include <gtest/gtest.h>

#include "aws/rest_json.h"
#include "aws/wire.h"
#include "service/resource_json.h"

namespace lathe::aws {
namespace {

TEST(ErrorCodeFor, EachStatusCodeIsBedrocksErrorOnRestJson) {
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
           // Not by message: a QuotaExceeded is ServiceQuotaExceeded whatever it says...
           {Status::QuotaExceeded("Too many tags: at most 200 per resource"), 400, "ServiceQuotaExceededException"},
           // ...and an error the service named itself travels as it is.
           {Status::Aws("TooManyTagsException", 400, "Too many tags", Status::Code::kQuotaExceeded), 400,
            "TooManyTagsException"},
           {Status::Aws("ModelNotReadyException", 429, "loading", Status::Code::kThrottled), 429,
            "ModelNotReadyException"},
           {Status::IOError("disk"), 500, "InternalServerException"},
           {Status::Internal("bug"), 500, "InternalServerException"}}) {
    auto [type, http] = ErrorCodeFor(Protocol::kRestJson, c.status);
    EXPECT_EQ(http, c.http) << c.status.ToString();
    EXPECT_EQ(type, c.type) << c.status.ToString();
  }
}

TEST(ErrorCodeFor, TheTagLimitIsTooManyTagsException) {
  auto [type, http] = ErrorCodeFor(Protocol::kRestJson, service::CheckTagCount(service::kMaxTags + 1, "tags"));
  EXPECT_EQ(http, 400);
  EXPECT_EQ(type, "TooManyTagsException");
}

TEST(ErrorCodeFor, OtherProtocolsUseTheirOwnGenericNames) {
  EXPECT_EQ(ErrorCodeFor(Protocol::kQuery, Status::InvalidArgument("x")).first, "ValidationError");
  EXPECT_EQ(ErrorCodeFor(Protocol::kRestXml, Status::InvalidArgument("x")).first, "InvalidArgument");
  EXPECT_EQ(ErrorCodeFor(Protocol::kRestXml, Status::Throttled("x")), std::make_pair(std::string("SlowDown"), 503));
  // An out-of-range HTTP status on a named error is never sent as is.
  EXPECT_EQ(ErrorCodeFor(Protocol::kAwsJson11, Status::Aws("X", 42, "m")).second, 400);
}

TEST(ParseJsonObjectBody, BoundsNestingBeforeParsingAndWantsAnObject) {
  EXPECT_TRUE(ParseJsonObjectBody("")->empty());
  EXPECT_EQ((*ParseJsonObjectBody(R"({"a": 1})"))["a"], 1);
  // 200,000 levels (a 400 KB body) in a member overflowed the parser's stack.
  const std::string deep = std::string(200000, '[') + std::string(200000, ']');
  for (const std::string& body : {R"({"jobTags": )" + deep + "}", R"({"a": {"b": )" + deep + "}}", deep}) {
    auto r = ParseJsonObjectBody(body);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().message(), "The request body is not valid JSON: JSON nests deeper than 64 levels");
    EXPECT_EQ(ErrorCodeFor(Protocol::kRestJson, r.status()).first, "ValidationException");
  }
  auto array = ParseJsonObjectBody("[1]");
  ASSERT_FALSE(array.ok());
  EXPECT_EQ(array.status().message(), "The request body must be a JSON object (found array)");
  EXPECT_EQ(ErrorCodeFor(Protocol::kRestJson, ParseJsonObjectBody("{").status()).second, 400);
}

}  // namespace
}  // namespace lathe::aws
