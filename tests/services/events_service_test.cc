// EventBridge through the awsJson 1.1 wire, as botocore sends it: X-Amz-Target routing, the
// shapes in and out, and the error shape ({"__type", "message"}) for bad bodies and members.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "services/events/service.h"
#include "test_util.h"

namespace lathe::events {
namespace {

using lathe::testing::TempDir;
using nlohmann::json;

aws::RequestContext Context() {
  aws::RequestContext ctx;
  ctx.request_id = "11111111-2222-3333-4444-555555555555";
  ctx.region = "ap-south-1";
  ctx.service = "events";
  ctx.caller.account = "123456789012";
  return ctx;
}

class EventsServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = store::MetadataStore::Open(dir_.path() + "/lathe.db");
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
    backend_ = std::make_unique<EventsBackend>(store_.get(), PatternOptions{});
    service_ = NewEventsService(backend_.get(), [this] { ++puts_; });
  }
  // {status, body as JSON}
  std::pair<int, json> Call(const std::string& operation, const std::string& body) {
    http::Request req;
    req.method = "POST";
    req.target = "/";
    req.headers.push_back({"X-Amz-Target", "AWSEvents." + operation});
    http::Response res;
    service_->Serve(Context(), req, body, res);
    const std::string* type = res.header("Content-Type");
    if (res.status == 200) EXPECT_TRUE(type && *type == "application/x-amz-json-1.1");
    return {res.status, json::parse(res.body, nullptr, false)};
  }

  TempDir dir_;
  std::unique_ptr<store::MetadataStore> store_;
  std::unique_ptr<EventsBackend> backend_;
  std::unique_ptr<aws::JsonTargetService> service_;
  int puts_ = 0;
};

TEST_F(EventsServiceTest, TheTutorialsRuleAndTargetsRoundTrip) {
  auto [status, out] = Call("PutRule", R"({"Name": "bedrock-finetuning-trigger", "EventPattern": "{\"source\": [\"aws.s3\"]}",
    "State": "ENABLED", "Description": "Triggers fine-tuning"})");
  ASSERT_EQ(status, 200) << out;
  EXPECT_EQ(out["RuleArn"], "arn:aws:events:ap-south-1:123456789012:rule/bedrock-finetuning-trigger");
  std::tie(status, out) = Call("PutTargets", R"({"Rule": "bedrock-finetuning-trigger", "Targets": [
    {"Id": "1", "Arn": "arn:aws:sns:ap-south-1:123456789012:t",
     "InputTransformer": {"InputPathsMap": {"k": "$.detail.object.key"}, "InputTemplate": "\"New data: <k>\""},
     "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 600},
     "DeadLetterConfig": {"Arn": "arn:aws:sqs:ap-south-1:123456789012:dlq"}}]})");
  ASSERT_EQ(status, 200) << out;
  EXPECT_EQ(out, json({{"FailedEntryCount", 0}, {"FailedEntries", json::array()}}));
  std::tie(status, out) = Call("ListTargetsByRule", R"({"Rule": "bedrock-finetuning-trigger"})");
  ASSERT_EQ(status, 200) << out;
  ASSERT_EQ(out["Targets"].size(), 1u);
  EXPECT_EQ(out["Targets"][0]["InputTransformer"]["InputPathsMap"]["k"], "$.detail.object.key");
  EXPECT_EQ(out["Targets"][0]["RetryPolicy"]["MaximumRetryAttempts"], 3);
  EXPECT_EQ(out["Targets"][0]["DeadLetterConfig"]["Arn"], "arn:aws:sqs:ap-south-1:123456789012:dlq");
  std::tie(status, out) = Call("DescribeRule", R"({"Name": "bedrock-finetuning-trigger"})");
  ASSERT_EQ(status, 200) << out;
  EXPECT_EQ(out["EventBusName"], "default");
  EXPECT_EQ(out["Description"], "Triggers fine-tuning");
  EXPECT_EQ(out["CreatedBy"], "123456789012");
  std::tie(status, out) = Call("ListRules", R"({"NamePrefix": "bedrock", "Limit": 10})");
  ASSERT_EQ(status, 200) << out;
  EXPECT_EQ(out["Rules"].size(), 1u);
  EXPECT_FALSE(out.contains("NextToken"));
}

TEST_F(EventsServiceTest, PutEventsAnswersEveryEntryAndWakesTheDispatcher) {
  auto [status, out] = Call("PutEvents", R"({"Entries": [
    {"Source": "my.app", "DetailType": "t", "Detail": "{}", "Time": 1700000000},
    {"Source": "my.app", "DetailType": "t"}]})");
  ASSERT_EQ(status, 200) << out;
  EXPECT_EQ(out["FailedEntryCount"], 1);
  ASSERT_EQ(out["Entries"].size(), 2u);
  EXPECT_EQ(out["Entries"][0]["EventId"].get<std::string>().size(), 36u);
  EXPECT_EQ(out["Entries"][1]["ErrorCode"], "InvalidArgument");
  EXPECT_EQ(puts_, 1);
  EXPECT_EQ((*store_->EventsAfter(0, 10))[0].time_ms, 1'700'000'000'000);
}

TEST_F(EventsServiceTest, BadBodiesAndMembersGetAwsErrorShapes) {
  auto expect = [&](const std::string& op, const std::string& body, const std::string& code) {
    auto [status, out] = Call(op, body);
    EXPECT_EQ(status, 400) << op << " " << body;
    EXPECT_EQ(out.value("__type", ""), code) << op << " " << body << " -> " << out;
    EXPECT_FALSE(out.value("message", "").empty());
  };
  expect("PutRule", "{not json", "SerializationException");
  expect("PutRule", "[1]", "SerializationException");
  expect("PutRule", R"({"Name": 5, "EventPattern": "{}"})", "SerializationException");
  expect("PutRule", R"({"EventPattern": "{}"})", "ValidationException");
  expect("PutRule", R"({"Name": "r", "EventPattern": "{\"a\": 1}"})", "InvalidEventPatternException");
  expect("PutTargets", R"({"Rule": "r", "Targets": "x"})", "SerializationException");
  expect("PutTargets", R"({"Rule": "r", "Targets": [{"Id": "1"}]})", "ValidationException");
  expect("PutTargets", R"({"Rule": "r", "Targets": [{"Id": "1", "Arn": "arn:aws:sns:x:1:t",
    "RetryPolicy": {"MaximumRetryAttempts": "3"}}]})", "SerializationException");
  expect("ListRules", R"({"Limit": 0})", "ValidationException");
  expect("ListRules", R"({"Limit": 101})", "ValidationException");
  expect("ListRules", R"({"NextToken": "not-a-token"})", "ValidationException");
  expect("PutEvents", R"({})", "ValidationException");
  expect("PutEvents", R"({"Entries": [{"Source": "s", "DetailType": "t", "Detail": "{}", "Time": "yesterday"}]})",
         "SerializationException");
  std::string eleven = R"({"Entries": [)";
  for (int i = 0; i < 11; ++i) eleven += std::string(i ? "," : "") + R"({"Source": "s", "DetailType": "t", "Detail": "{}"})";
  expect("PutEvents", eleven + "]}", "ValidationException");
  expect("TestEventPattern", R"({"EventPattern": "{}"})", "ValidationException");
  expect("CreateEventBus", R"({"Name": "p", "EventSourceName": "aws.partner/x/y"})", "ValidationException");
  expect("NoSuchOperation", "{}", "UnknownOperationException");
  std::string deep(100, '[');
  expect("PutRule", R"({"Name": "r", "EventPattern": ")" + deep + R"("})", "InvalidEventPatternException");
  expect("PutRule", deep, "SerializationException");
}

TEST_F(EventsServiceTest, BusesAndTagsOnTheWire) {
  auto [status, out] = Call("CreateEventBus", R"({"Name": "pipeline", "Description": "d",
    "Tags": [{"Key": "team", "Value": "ml"}]})");
  ASSERT_EQ(status, 200) << out;
  const std::string arn = out["EventBusArn"];
  EXPECT_EQ(arn, "arn:aws:events:ap-south-1:123456789012:event-bus/pipeline");
  std::tie(status, out) = Call("ListEventBuses", "{}");
  ASSERT_EQ(status, 200);
  ASSERT_EQ(out["EventBuses"].size(), 2u);
  EXPECT_EQ(out["EventBuses"][0]["Name"], "default");
  EXPECT_TRUE(out["EventBuses"][1]["CreationTime"].is_number());
  std::tie(status, out) = Call("ListTagsForResource", json({{"ResourceARN", arn}}).dump());
  ASSERT_EQ(status, 200) << out;
  EXPECT_EQ(out["Tags"], json::array({{{"Key", "team"}, {"Value", "ml"}}}));
  std::tie(status, out) = Call("DescribeEventBus", R"({"Name": "nope"})");
  EXPECT_EQ(status, 400);
  EXPECT_EQ(out["__type"], "ResourceNotFoundException");
}

}  // namespace
}  // namespace lathe::events
