// Which calls become EventBridge's "AWS API Call via CloudTrail" events (as CloudTrail delivers
// management events that change something) and what they carry.
#include "server/access_control.h"

#include <gtest/gtest.h>

namespace lathe::server {
namespace {

iam::AuditRecord Call(std::string service, std::string operation) {
  iam::AuditRecord r;
  r.time_ms = 1764600000000;
  r.service = std::move(service);
  r.operation = std::move(operation);
  r.action = r.service + ":" + r.operation;
  r.account = "000000000000";
  r.region = "us-east-1";
  r.principal_arn = "arn:aws:iam::000000000000:user/ci";
  return r;
}

TEST(CloudTrailEventTest, ChangesAreEventsReadsAndDataEventsAreNot) {
  std::optional<store::OutboxEvent> e = CloudTrailEvent(Call("iam", "CreateUser"));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->source, "aws.iam");
  EXPECT_EQ(e->detail_type, "AWS API Call via CloudTrail");
  EXPECT_EQ(e->detail["eventName"], "CreateUser");
  EXPECT_EQ(e->detail["eventSource"], "iam.amazonaws.com");
  EXPECT_EQ(e->detail["userIdentity"]["type"], "IAMUser");
  EXPECT_TRUE(CloudTrailEvent(Call("bedrock", "CreateModelCustomizationJob")));
  EXPECT_TRUE(CloudTrailEvent(Call("s3", "DeleteBucket")));
  for (const auto& [service, op] : std::vector<std::pair<std::string, std::string>>{
           {"s3", "GetObject"}, {"s3", "PutObject"}, {"s3", "UploadPart"}, {"s3", "CompleteMultipartUpload"},
           {"bedrock", "InvokeModel"}, {"iam", "ListUsers"}, {"states", "DescribeExecution"}, {"s3", ""}})
    EXPECT_FALSE(CloudTrailEvent(Call(service, op))) << service << " " << op;
}

}  // namespace
}  // namespace lathe::server
