// What a target receives: the whole event, Input, InputPath, InputTransformer (AWS's
// "Transforming target input" examples).
#include <gtest/gtest.h>

#include "services/events/input_transform.h"
#include "services/events/names.h"

namespace lathe::events {
namespace {

using nlohmann::json;

json Event() {
  return json::parse(R"({"version":"0","id":"7bf73129-1428-4cd3-a780-95db273d1602","detail-type":"EC2 Instance State-change Notification",
    "source":"aws.ec2","account":"123456789012","time":"2015-11-11T21:29:54Z","region":"us-east-1",
    "resources":["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],
    "detail":{"instance-id":"i-0123456789","state":"RUNNING","count":3,"tags":{"a":"b"}}})");
}

std::string Transform(const Target& t) {
  return TransformInput(t, Event(), "arn:aws:events:us-east-1:123456789012:rule/r", "r", 1'447'277'394'000);
}

TEST(JsonPathTest, DotAndBracketSteps) {
  const json e = Event();
  EXPECT_EQ(*JsonPath::Parse("$.detail.state")->Find(e), "RUNNING");
  EXPECT_EQ(*JsonPath::Parse("$.resources[0]")->Find(e), "arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111");
  EXPECT_EQ(*JsonPath::Parse("$['detail']['instance-id']")->Find(e), "i-0123456789");
  EXPECT_EQ(JsonPath::Parse("$")->Find(e), &e);
  EXPECT_EQ(JsonPath::Parse("$.detail.missing")->Find(e), nullptr);
  EXPECT_EQ(JsonPath::Parse("$.resources[5]")->Find(e), nullptr);
  for (const char* bad : {"", "detail", "$.", "$..a", "$[", "$[x]", "$['a'", "$.a[]"})
    EXPECT_FALSE(JsonPath::Parse(bad)) << bad;
  EXPECT_FALSE(JsonPath::Parse("$." + std::string(300, 'a')));
}

TEST(InputTransformTest, WithoutInputTheWholeEventIsDelivered) {
  Target t;
  EXPECT_EQ(json::parse(Transform(t)), Event());
}

TEST(InputTransformTest, InputIsDeliveredAsItIs) {
  Target t;
  t.input = R"({"fixed": true})";
  EXPECT_EQ(Transform(t), R"({"fixed": true})");
}

TEST(InputTransformTest, InputPathSelectsPartOfTheEvent) {
  Target t;
  t.input_path = "$.detail";
  EXPECT_EQ(json::parse(Transform(t)), Event()["detail"]);
  t.input_path = "$.detail.state";
  EXPECT_EQ(Transform(t), "\"RUNNING\"");
}

TEST(InputTransformTest, JsonTemplatePutsValuesInAsJsonOutsideQuotesAndAsTextInside) {
  Target t;
  t.input_transformer = InputTransformer{{{"instance", "$.detail.instance-id"}, {"state", "$.detail.state"},
                                          {"count", "$.detail.count"}, {"tags", "$.detail.tags"},
                                          {"missing", "$.detail.nothing"}},
                                         R"({"instance": <instance>, "says": "<instance> is in state \"<state>\"",
 "count": <count>, "tags": <tags>, "none": <missing>, "rule": <aws.events.rule-name>, "unknown": "<other>"})"};
  const json out = json::parse(Transform(t));
  EXPECT_EQ(out["instance"], "i-0123456789");
  EXPECT_EQ(out["says"], "i-0123456789 is in state \"RUNNING\"");
  EXPECT_EQ(out["count"], 3);
  EXPECT_EQ(out["tags"], json({{"a", "b"}}));
  EXPECT_TRUE(out["none"].is_null());
  EXPECT_EQ(out["rule"], "r");
  EXPECT_EQ(out["unknown"], "<other>");
}

TEST(InputTransformTest, StringTemplateAndPredefinedVariables) {
  Target t;
  t.input_transformer = InputTransformer{{{"instance", "$.detail.instance-id"}, {"state", "$.detail.state"}},
                                         R"("<instance> is in state <state>")"};
  EXPECT_EQ(Transform(t), R"("i-0123456789 is in state RUNNING")");
  t.input_transformer->input_template = "Rule <aws.events.rule-arn> saw <instance> at <aws.events.event.ingestion-time>";
  EXPECT_EQ(Transform(t), "Rule arn:aws:events:us-east-1:123456789012:rule/r saw i-0123456789 at 2015-11-11T21:29:54Z");
  t.input_transformer->input_template = R"({"event": <aws.events.event>})";
  EXPECT_EQ(json::parse(Transform(t))["event"], Event());
}

TEST(InputTransformTest, ValuesWithQuotesCannotBreakOutOfAJsonString) {
  json e = Event();
  e["detail"]["state"] = "\", \"injected\": \"yes";
  Target t;
  t.input_transformer = InputTransformer{{{"state", "$.detail.state"}}, R"({"s": "<state>"})"};
  const json out = json::parse(TransformInput(t, e, "arn", "r", 0));
  EXPECT_EQ(out.size(), 1u);
  EXPECT_EQ(out["s"], "\", \"injected\": \"yes");
}

TEST(EnvelopeTest, OutboxEventsBecomeAwsEnvelopesWithStableIds) {
  store::OutboxEvent e;
  e.seq = 42;
  e.source = "aws.s3";
  e.detail_type = "Object Created";
  e.account = "123456789012";
  e.region = "ap-south-1";
  e.resources = {"arn:aws:s3:::b"};
  e.detail = {{"bucket", {{"name", "b"}}}};
  e.time_ms = 1'700'000'000'123;
  const json env = Envelope(e);
  EXPECT_EQ(env["version"], "0");
  EXPECT_EQ(env["time"], "2023-11-14T22:13:20Z");
  EXPECT_EQ(env["detail-type"], "Object Created");
  EXPECT_EQ(env["id"].get<std::string>().size(), 36u);
  EXPECT_EQ(Envelope(e)["id"], env["id"]);  // derived from seq: the same on a redelivery
  e.seq = 43;
  EXPECT_NE(Envelope(e)["id"], env["id"]);
  e.id = "given";
  EXPECT_EQ(Envelope(e)["id"], "given");
}

}  // namespace
}  // namespace lathe::events
