// Bucket notification configurations and the EventBridge events of object changes.
#include <gtest/gtest.h>

#include "services/s3/notifications.h"

namespace lathe::s3 {
namespace {

std::string Doc(const std::string& inner) {
  return "<NotificationConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">" + inner +
         "</NotificationConfiguration>";
}
std::string Topic(const std::string& events, const std::string& filter = "", const std::string& id = "") {
  return "<TopicConfiguration>" + (id.empty() ? "" : "<Id>" + id + "</Id>") +
         "<Topic>arn:aws:sns:us-east-1:123456789012:pipeline</Topic>" + events + filter + "</TopicConfiguration>";
}
std::string Filter(const std::string& prefix, const std::string& suffix) {
  return "<Filter><S3Key><FilterRule><Name>prefix</Name><Value>" + prefix +
         "</Value></FilterRule><FilterRule><Name>Suffix</Name><Value>" + suffix + "</Value></FilterRule></S3Key></Filter>";
}

TEST(NotificationConfiguration, EventBridgeAloneAsTheTutorialSendsIt) {
  // boto3: put_bucket_notification_configuration(..., NotificationConfiguration={"EventBridgeConfiguration": {}})
  Result<NotificationConfiguration> config = ParseNotificationConfiguration(Doc("<EventBridgeConfiguration/>"));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_TRUE(config->eventbridge);
  EXPECT_TRUE(config->targets.empty());
  Result<NotificationConfiguration> off = ParseNotificationConfiguration(Doc(""));
  ASSERT_TRUE(off.ok());
  EXPECT_FALSE(off->eventbridge);
}

TEST(NotificationConfiguration, TargetsWithFiltersRoundTripThroughXmlAndJson) {
  Result<NotificationConfiguration> config = ParseNotificationConfiguration(
      Doc(Topic("<Event>s3:ObjectCreated:*</Event>", Filter("training-data/", ".jsonl"), "new-data") +
          "<CloudFunctionConfiguration><CloudFunction>arn:aws:lambda:us-east-1:123456789012:function:validate"
          "</CloudFunction><Event>s3:ObjectRemoved:*</Event></CloudFunctionConfiguration>"));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ASSERT_EQ(config->targets.size(), 2u);
  EXPECT_EQ(config->targets[0].id, "new-data");
  EXPECT_EQ(config->targets[0].prefix, "training-data/");
  EXPECT_EQ(config->targets[0].suffix, ".jsonl");
  EXPECT_FALSE(config->targets[1].id.empty());  // made up, as AWS does
  std::string xml = NotificationConfigurationXml(*config).body;
  Result<NotificationConfiguration> again = ParseNotificationConfiguration(xml);
  ASSERT_TRUE(again.ok()) << xml;
  EXPECT_EQ(NotificationConfigurationToJson(*again), NotificationConfigurationToJson(*config));
  EXPECT_EQ(NotificationConfigurationToJson(NotificationConfigurationFromJson(NotificationConfigurationToJson(*config))),
            NotificationConfigurationToJson(*config));
}

TEST(NotificationConfiguration, RefusesBadEventsArnsFiltersAndOverlaps) {
  struct Case {
    std::string body, code;
  } cases[] = {
      {Doc(Topic("<Event>s3:ObjectCreated:Everything</Event>")), "InvalidArgument"},
      {Doc("<TopicConfiguration><Topic>arn:aws:sqs:us-east-1:123456789012:q</Topic><Event>s3:ObjectCreated:*</Event>"
           "</TopicConfiguration>"),
       "InvalidArgument"},
      {Doc("<TopicConfiguration><Topic>not-an-arn</Topic><Event>s3:ObjectCreated:*</Event></TopicConfiguration>"),
       "InvalidArgument"},
      {Doc(Topic("")), "MalformedXML"},
      {Doc(Topic("<Event>s3:ObjectCreated:*</Event>",
                 "<Filter><S3Key><FilterRule><Name>middle</Name><Value>x</Value></FilterRule></S3Key></Filter>")),
       "InvalidArgument"},
      {Doc(Topic("<Event>s3:ObjectCreated:*</Event>", Filter("a", "b"), "x") +
           Topic("<Event>s3:ObjectCreated:Put</Event>", Filter("a/b", ""), "y")),
       "InvalidArgument"},
      {Doc(Topic("<Event>s3:ObjectCreated:*</Event>", "", "same") + Topic("<Event>s3:ObjectRemoved:*</Event>", "", "same")),
       "InvalidArgument"},
      {Doc("<QueueConfig/>"), "MalformedXML"},
      {"<Other/>", "MalformedXML"},
      {"<NotificationConfiguration>", "MalformedXML"},
  };
  for (const Case& c : cases) {
    Result<NotificationConfiguration> config = ParseNotificationConfiguration(c.body);
    ASSERT_FALSE(config.ok()) << c.body;
    EXPECT_EQ(config.status().aws_code(), c.code) << c.body << ": " << config.status().ToString();
  }
  // Different events, or filters no key can match both: no overlap.
  EXPECT_TRUE(ParseNotificationConfiguration(Doc(Topic("<Event>s3:ObjectCreated:*</Event>", "", "a") +
                                                 Topic("<Event>s3:ObjectRemoved:*</Event>", "", "b")))
                  .ok());
  EXPECT_TRUE(ParseNotificationConfiguration(Doc(Topic("<Event>s3:ObjectCreated:*</Event>", Filter("a/", ""), "a") +
                                                 Topic("<Event>s3:ObjectCreated:*</Event>", Filter("b/", ""), "b")))
                  .ok());
}

TEST(NotificationConfiguration, BoundedInSizeCountAndDepth) {
  std::string many;
  for (int i = 0; i <= static_cast<int>(kMaxNotificationConfigurations); ++i) {
    const std::string n = std::to_string(i);
    many += Topic("<Event>s3:ObjectCreated:*</Event>", Filter(n + "/", ""), n);
  }
  EXPECT_FALSE(ParseNotificationConfiguration(Doc(many)).ok());
  EXPECT_FALSE(ParseNotificationConfiguration(Doc(std::string(70000, ' '))).ok());
  EXPECT_FALSE(ParseNotificationConfiguration(Doc("<a><b><c><d><e><f><g><h/></g></f></e></d></c></b></a>")).ok());
  const std::string long_id(256, 'i');
  EXPECT_FALSE(ParseNotificationConfiguration(Doc(Topic("<Event>s3:ObjectCreated:*</Event>", "", long_id))).ok());
}

TEST(NotificationConfiguration, MatchingTargetsHonourEventsAndKeyFilters) {
  Result<NotificationConfiguration> config = ParseNotificationConfiguration(
      Doc(Topic("<Event>s3:ObjectCreated:*</Event>", Filter("training-data/", ".jsonl"), "t")));
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(MatchingTargets(*config, "s3:ObjectCreated:Put", "training-data/a.jsonl").size(), 1u);
  EXPECT_EQ(MatchingTargets(*config, "s3:ObjectCreated:CompleteMultipartUpload", "training-data/b.jsonl").size(), 1u);
  EXPECT_TRUE(MatchingTargets(*config, "s3:ObjectCreated:Put", "training-data/a.csv").empty());
  EXPECT_TRUE(MatchingTargets(*config, "s3:ObjectCreated:Put", "other/a.jsonl").empty());
  EXPECT_TRUE(MatchingTargets(*config, "s3:ObjectRemoved:Delete", "training-data/a.jsonl").empty());
}

}  // namespace
}  // namespace lathe::s3
