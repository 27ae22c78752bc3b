#include "core/arn.h"

#include <gtest/gtest.h>

namespace lathe {
namespace {

TEST(Arn, BuildsAndTakesApartBedrockArns) {
  ArnScope scope{"eu-west-3", "123456789012"};
  const std::string arn = BedrockArn(scope, "custom-model/lathe.default-v1/abc123def456");
  EXPECT_EQ(arn, "arn:aws:bedrock:eu-west-3:123456789012:custom-model/lathe.default-v1/abc123def456");
  EXPECT_EQ(ArnResource(arn), "custom-model/lathe.default-v1/abc123def456");
  EXPECT_EQ(ArnResource("arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-text-express-v1"),
            "foundation-model/amazon.titan-text-express-v1");
  EXPECT_EQ(ArnResource("lathe.default-v1"), "");
  EXPECT_EQ(ArnResource("arn:aws:s3:::bucket"), "");
}

TEST(Arn, IdsAreLowercaseAlphanumericAndDistinct) {
  const std::string a = NewResourceId(), b = NewResourceId();
  EXPECT_EQ(a.size(), 12u);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789"), std::string::npos) << a;
}

TEST(Arn, Iso8601RoundTripsAndAcceptsAwsVariants) {
  const int64_t t = 1795857302123;  // 2026-11-28T...Z with milliseconds
  const std::string s = Iso8601(t);
  EXPECT_EQ(s.size(), 24u);
  EXPECT_EQ(s.back(), 'Z');
  EXPECT_EQ(ParseIso8601(s), t);
  EXPECT_EQ(ParseIso8601("1970-01-01T00:00:01Z"), 1000);
  EXPECT_EQ(ParseIso8601("1970-01-01T00:00:01.5+00:00"), 1500);
  EXPECT_EQ(Iso8601(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(ParseIso8601("yesterday"), -1);
  EXPECT_EQ(ParseIso8601("1970-01-01T00:00:01+02:00"), -1);  // only UTC, rather than a wrong time
}

}  // namespace
}  // namespace lathe

namespace lathe {
namespace {

TEST(Arn, AnyServiceRegionAndAccount) {
  EXPECT_EQ(MakeArn("bedrock", "ap-south-1", "123456789012", "custom-model/x/y"),
            "arn:aws:bedrock:ap-south-1:123456789012:custom-model/x/y");
  EXPECT_EQ(MakeArn("iam", "", "123456789012", "role/R"), "arn:aws:iam::123456789012:role/R");
  EXPECT_EQ(RootArn("000000000000"), "arn:aws:iam::000000000000:root");
  EXPECT_EQ(BedrockArn(ArnScope{"eu-west-3", "111122223333"}, "provisioned-model/p"),
            "arn:aws:bedrock:eu-west-3:111122223333:provisioned-model/p");
}

TEST(Arn, RegionOfAnArnAndScopesInARegion) {
  EXPECT_EQ(ArnRegion("arn:aws:bedrock:ap-south-1:123456789012:model-customization-job/a/b"), "ap-south-1");
  EXPECT_EQ(ArnRegion("arn:aws:bedrock:us-east-1::foundation-model/x"), "us-east-1");
  EXPECT_EQ(ArnRegion("arn:aws:iam::123456789012:role/R"), "");
  EXPECT_EQ(ArnRegion("not an arn"), "");
  EXPECT_EQ(ArnRegion("arn:aws:bedrock"), "");
  EXPECT_EQ(InRegion(ArnScope{"us-east-1", "1"}, "ap-south-1").region, "ap-south-1");
  EXPECT_EQ(InRegion(ArnScope{"us-east-1", "1"}, "").region, "us-east-1");
}

}  // namespace
}  // namespace lathe
