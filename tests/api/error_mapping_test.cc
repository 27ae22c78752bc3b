// Status codes become the HTTP status and x-amzn-ErrorType that Bedrock's service model names.
#include <gtest/gtest.h>

#include "api/bedrock_server.h"

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
           {Status::QuotaExceeded("Too many tags: at most 200 per resource"), 400, "TooManyTagsException"},
           {Status::IOError("disk"), 500, "InternalServerException"},
           {Status::Internal("bug"), 500, "InternalServerException"}}) {
    auto [http, type] = ErrorFor(c.status);
    EXPECT_EQ(http, c.http) << c.status.ToString();
    EXPECT_EQ(type, c.type) << c.status.ToString();
  }
}

}  // namespace
}  // namespace lathe::api
