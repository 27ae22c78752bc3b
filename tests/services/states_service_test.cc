// Step Functions through the awsJson 1.0 wire, as botocore sends it: X-Amz-Target routing, the
// shapes in and out (timestamps as epoch seconds), and the error shape for wrong member types,
// missing members, oversize and hostile values.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "services/states/service.h"
#include "test_util.h"

namespace lathe::states {
namespace {

using lathe::testing::TempDir;
using nlohmann::json;

const char* kDefinition = R"({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": 7, "ResultPath": "$.seven", "End": true}}})";

aws::RequestContext Context() {
  aws::RequestContext ctx;
  ctx.request_id = "11111111-2222-3333-4444-555555555555";
  ctx.region = "us-west-2";
  ctx.service = "states";
  ctx.caller.account = "111122223333";
  return ctx;
}

class StatesServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = store::MetadataStore::Open(dir_.path() + "/lathe.db");
    ASSERT_TRUE(db.ok());
    db_ = std::move(*db);
    auto executions = store::ExecutionStore::Open(db_.get());
    ASSERT_TRUE(executions.ok());
    executions_ = std::move(*executions);
    executor_ = std::make_unique<Executor>(executions_.get(), &integrations_, &clock_, ExecutorOptions{});
    backend_ = std::make_unique<StatesBackend>(db_.get(), executions_.get(), executor_.get(), &clock_);
    service_ = NewStatesService(backend_.get());
    ASSERT_TRUE(executor_->Start().ok());
  }
  void TearDown() override { executor_->Stop(); }

  std::pair<int, json> Call(const std::string& operation, const json& body) { return CallRaw(operation, body.dump()); }
  std::pair<int, json> CallRaw(const std::string& operation, const std::string& body) {
    http::Request req;
    req.method = "POST";
    req.target = "/";
    req.headers.push_back({"X-Amz-Target", "AWSStepFunctions." + operation});
    req.headers.push_back({"Content-Type", "application/x-amz-json-1.0"});
    http::Response res;
    service_->Serve(Context(), req, body, res);
    const std::string* type = res.header("Content-Type");
    EXPECT_TRUE(type && *type == "application/x-amz-json-1.0");
    return {res.status, json::parse(res.body, nullptr, false)};
  }
  static std::string Type(const json& error) {
    std::string t = error.value("__type", "");
    const size_t hash = t.rfind('#');
    return hash == std::string::npos ? t : t.substr(hash + 1);
  }
  std::string CreateMachine(const std::string& name) {
    auto [status, out] = Call("CreateStateMachine", {{"name", name},
                                                     {"definition", kDefinition},
                                                     {"roleArn", "arn:aws:iam::111122223333:role/r"}});
    EXPECT_EQ(status, 200) << out;
    return out.value("stateMachineArn", "");
  }

  TempDir dir_;
  events::SystemClock clock_;
  std::unique_ptr<store::MetadataStore> db_;
  std::unique_ptr<store::ExecutionStore> executions_;
  IntegrationRegistry integrations_;
  std::unique_ptr<Executor> executor_;
  std::unique_ptr<StatesBackend> backend_;
  std::unique_ptr<aws::JsonTargetService> service_;
};

TEST_F(StatesServiceTest, TheSignatureOfTheService) {
  EXPECT_EQ(service_->signing_name(), "states");
  EXPECT_EQ(service_->protocol(), aws::Protocol::kAwsJson10);
  auto [status, out] = Call("NoSuchOperation", json::object());
  EXPECT_EQ(status, 400);
  EXPECT_FALSE(Type(out).empty());
}

TEST_F(StatesServiceTest, MachinesAndExecutionsRoundTripWithEpochSecondTimestamps) {
  const std::string arn = CreateMachine("wire");
  EXPECT_EQ(arn, "arn:aws:states:us-west-2:111122223333:stateMachine:wire");
  auto [status, out] = Call("DescribeStateMachine", {{"stateMachineArn", arn}});
  ASSERT_EQ(status, 200) << out;
  EXPECT_EQ(out["name"], "wire");
  EXPECT_EQ(out["definition"], kDefinition);
  EXPECT_EQ(out["type"], "STANDARD");
  EXPECT_EQ(out["status"], "ACTIVE");
  ASSERT_TRUE(out["creationDate"].is_number());
  EXPECT_NEAR(out["creationDate"].get<double>(), NowMillis() / 1000.0, 60);

  std::tie(status, out) = Call("ListStateMachines", {{"maxResults", 10}});
  ASSERT_EQ(status, 200) << out;
  ASSERT_EQ(out["stateMachines"].size(), 1u);
  EXPECT_EQ(out["stateMachines"][0]["stateMachineArn"], arn);

  std::tie(status, out) = Call("StartExecution", {{"stateMachineArn", arn}, {"name", "x1"}, {"input", R"({"a": 1})"}});
  ASSERT_EQ(status, 200) << out;
  const std::string execution = out["executionArn"];
  EXPECT_TRUE(out["startDate"].is_number());
  for (int i = 0; i < 500; ++i) {
    std::tie(status, out) = Call("DescribeExecution", {{"executionArn", execution}});
    if (out.value("status", "") != "RUNNING") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(status, 200) << out;
  EXPECT_EQ(out["status"], "SUCCEEDED");
  EXPECT_EQ(json::parse(out["output"].get<std::string>()), json({{"a", 1}, {"seven", 7}}));
  EXPECT_EQ(json::parse(out["input"].get<std::string>()), json({{"a", 1}}));
  EXPECT_TRUE(out["stopDate"].is_number());
  std::tie(status, out) = Call("DescribeExecution", {{"executionArn", execution}, {"includedData", "METADATA_ONLY"}});
  ASSERT_EQ(status, 200);
  EXPECT_FALSE(out.contains("input"));
  EXPECT_FALSE(out.contains("output"));

  std::tie(status, out) = Call("GetExecutionHistory", {{"executionArn", execution}, {"maxResults", 1}});
  ASSERT_EQ(status, 200) << out;
  ASSERT_EQ(out["events"].size(), 1u);
  EXPECT_EQ(out["events"][0]["type"], "ExecutionStarted");
  EXPECT_EQ(out["events"][0]["id"], 1);
  EXPECT_EQ(out["events"][0]["previousEventId"], 0);
  EXPECT_TRUE(out["events"][0]["timestamp"].is_number());
  ASSERT_TRUE(out["events"][0].contains("executionStartedEventDetails")) << out;
  EXPECT_TRUE(out["events"][0]["executionStartedEventDetails"]["input"].is_string());
  EXPECT_TRUE(out.contains("nextToken"));
  std::tie(status, out) = Call("GetExecutionHistory",
                               {{"executionArn", execution}, {"reverseOrder", true}, {"includeExecutionData", false}});
  ASSERT_EQ(status, 200) << out;
  EXPECT_EQ(out["events"][0]["type"], "ExecutionSucceeded");
  EXPECT_FALSE(out["events"][0]["executionSucceededEventDetails"].contains("output")) << out["events"][0];

  std::tie(status, out) = Call("ListExecutions", {{"stateMachineArn", arn}, {"statusFilter", "SUCCEEDED"}});
  ASSERT_EQ(status, 200) << out;
  ASSERT_EQ(out["executions"].size(), 1u);
  EXPECT_EQ(out["executions"][0]["name"], "x1");

  std::tie(status, out) = Call("DescribeStateMachineForExecution", {{"executionArn", execution}});
  ASSERT_EQ(status, 200) << out;
  EXPECT_EQ(out["definition"], kDefinition);
  EXPECT_TRUE(out["updateDate"].is_number());

  std::tie(status, out) = Call("TagResource", {{"resourceArn", arn}, {"tags", {{{"key", "k"}, {"value", "v"}}}}});
  ASSERT_EQ(status, 200) << out;
  std::tie(status, out) = Call("ListTagsForResource", {{"resourceArn", arn}});
  ASSERT_EQ(status, 200) << out;
  EXPECT_EQ(out["tags"], json::array({{{"key", "k"}, {"value", "v"}}}));
  std::tie(status, out) = Call("UntagResource", {{"resourceArn", arn}, {"tagKeys", {"k"}}});
  ASSERT_EQ(status, 200) << out;

  std::tie(status, out) = Call("UpdateStateMachine", {{"stateMachineArn", arn}, {"roleArn", "arn:aws:iam::111122223333:role/s"}});
  ASSERT_EQ(status, 200) << out;
  EXPECT_TRUE(out["updateDate"].is_number());
  std::tie(status, out) = Call("DeleteStateMachine", {{"stateMachineArn", arn}});
  ASSERT_EQ(status, 200) << out;
  std::tie(status, out) = Call("DescribeStateMachine", {{"stateMachineArn", arn}});
  EXPECT_EQ(status, 400);
  EXPECT_EQ(Type(out), "StateMachineDoesNotExist");
}

TEST_F(StatesServiceTest, ValidateAnswersResultAndDiagnostics) {
  auto [status, out] = Call("ValidateStateMachineDefinition", {{"definition", kDefinition}});
  ASSERT_EQ(status, 200) << out;
  EXPECT_EQ(out["result"], "OK");
  EXPECT_EQ(out["diagnostics"], json::array());
  EXPECT_EQ(out["truncated"], false);
  std::tie(status, out) = Call("ValidateStateMachineDefinition",
                               {{"definition", R"({"StartAt": "A", "States": {"A": {"Type": "Pass"}}})"}});
  ASSERT_EQ(status, 200) << out;
  EXPECT_EQ(out["result"], "FAIL");
  ASSERT_FALSE(out["diagnostics"].empty());
  EXPECT_EQ(out["diagnostics"][0]["severity"], "ERROR");
  EXPECT_FALSE(out["diagnostics"][0]["code"].get<std::string>().empty());
  std::tie(status, out) = Call("ValidateStateMachineDefinition", {{"definition", kDefinition}, {"maxResults", 500}});
  EXPECT_EQ(Type(out), "ValidationException");
}

TEST_F(StatesServiceTest, BadInputIsAnsweredWithAwsErrors) {
  const std::string arn = CreateMachine("bad-input");
  struct Case {
    const char* op;
    json body;
    const char* type;
  };
  const std::string long_arn(300, 'a');
  const std::vector<Case> cases = {
      {"CreateStateMachine", {{"name", 5}, {"definition", kDefinition}, {"roleArn", "arn:aws:iam::1:role/r"}},
       "SerializationException"},
      {"CreateStateMachine", {{"definition", kDefinition}, {"roleArn", "arn:aws:iam::1:role/r"}}, "ValidationException"},
      {"CreateStateMachine", {{"name", "a;b"}, {"definition", kDefinition}, {"roleArn", "arn:aws:iam::1:role/r"}},
       "InvalidName"},
      {"CreateStateMachine", {{"name", "e"}, {"definition", kDefinition}, {"roleArn", "arn:aws:iam::1:role/r"},
                              {"type", "EXPRESS"}}, "StateMachineTypeNotSupported"},
      {"CreateStateMachine", {{"name", "d"}, {"definition", "{\"StartAt\": 3}"}, {"roleArn", "arn:aws:iam::1:role/r"}},
       "InvalidDefinition"},
      {"CreateStateMachine", {{"name", "t"}, {"definition", kDefinition}, {"roleArn", "arn:aws:iam::1:role/r"},
                              {"tags", "not a list"}}, "SerializationException"},
      {"ValidateStateMachineDefinition", {{"definition", json::array()}}, "SerializationException"},
      {"DescribeStateMachine", {{"stateMachineArn", long_arn}}, "InvalidArn"},
      {"DescribeStateMachine", json::object(), "ValidationException"},
      {"ListStateMachines", {{"maxResults", "ten"}}, "SerializationException"},
      {"ListStateMachines", {{"maxResults", 5000}}, "ValidationException"},
      {"ListStateMachines", {{"nextToken", "forged"}}, "InvalidToken"},
      {"ListStateMachines", {{"nextToken", std::string(2000, 'x')}}, "ValidationException"},
      {"UpdateStateMachine", {{"stateMachineArn", arn}}, "MissingRequiredParameter"},
      {"UpdateStateMachine", {{"stateMachineArn", arn}, {"definition", "[]"}}, "InvalidDefinition"},
      {"DeleteStateMachine", {{"stateMachineArn", "arn:aws:states:us-west-2:111122223333:execution:a:b"}}, "InvalidArn"},
      {"StartExecution", {{"stateMachineArn", arn}, {"input", json::object()}}, "SerializationException"},
      {"StartExecution", {{"stateMachineArn", arn}, {"input", "{"}}, "InvalidExecutionInput"},
      {"StartExecution", {{"stateMachineArn", arn}, {"input", std::string(300 * 1024, ' ')}}, "ValidationException"},
      {"StartExecution", {{"stateMachineArn", arn}, {"name", "../../etc"}}, "InvalidName"},
      {"StartExecution", {{"stateMachineArn", arn}, {"name", ""}}, "ValidationException"},
      {"StartExecution", {{"stateMachineArn", arn}, {"traceHeader", std::string(300, 'h')}}, "ValidationException"},
      {"DescribeExecution", {{"executionArn", arn}}, "InvalidArn"},
      {"DescribeExecution", {{"executionArn", "arn:aws:states:us-west-2:111122223333:execution:bad-input:none"}},
       "ExecutionDoesNotExist"},
      {"DescribeExecution", {{"executionArn", "arn:aws:states:us-west-2:111122223333:execution:bad-input:none"},
                             {"includedData", "SOME"}}, "ValidationException"},
      {"ListExecutions", {{"stateMachineArn", arn}, {"statusFilter", "DONE"}}, "ValidationException"},
      {"ListExecutions", {{"stateMachineArn", arn}, {"nextToken", "eyJ4IjoxfQ"}}, "InvalidToken"},
      {"ListExecutions", {{"stateMachineArn", "arn:aws:states:us-west-2:111122223333:stateMachine:none"}},
       "StateMachineDoesNotExist"},
      {"StopExecution", {{"executionArn", "arn:aws:states:us-west-2:111122223333:execution:bad-input:none"}},
       "ExecutionDoesNotExist"},
      {"StopExecution", {{"executionArn", "x"}, {"cause", 42}}, "SerializationException"},
      {"GetExecutionHistory", {{"executionArn", "arn:aws:states:us-west-2:111122223333:execution:bad-input:none"}},
       "ExecutionDoesNotExist"},
      {"GetExecutionHistory", {{"executionArn", "x"}, {"reverseOrder", "yes"}}, "SerializationException"},
      {"DescribeStateMachineForExecution", {{"executionArn", "nonsense"}}, "InvalidArn"},
      {"TestState", {{"definition", "{\"Type\": \"Nope\"}"}}, "InvalidDefinition"},
      {"TestState", {{"definition", "{\"Type\": \"Pass\", \"End\": true}"}, {"input", "{"}}, "InvalidExecutionInput"},
      {"TestState", json::object(), "ValidationException"},
      {"SendTaskSuccess", {{"taskToken", "forged"}, {"output", "{}"}}, "TaskDoesNotExist"},
      {"SendTaskSuccess", {{"taskToken", "forged"}}, "ValidationException"},
      {"SendTaskSuccess", {{"taskToken", "forged"}, {"output", "nope"}}, "InvalidOutput"},
      {"SendTaskFailure", {{"taskToken", std::string(4096, 'x')}}, "ValidationException"},
      {"SendTaskHeartbeat", {{"taskToken", "AAAAAAAAAAAAAAAA"}}, "TaskDoesNotExist"},
      {"TagResource", {{"resourceArn", arn}}, "ValidationException"},
      {"TagResource", {{"resourceArn", "arn:aws:states:us-west-2:111122223333:stateMachine:none"},
                       {"tags", json::array()}}, "ResourceNotFound"},
      {"UntagResource", {{"resourceArn", arn}, {"tagKeys", {1, 2}}}, "SerializationException"},
      {"ListTagsForResource", {{"resourceArn", "arn:aws:iam::1:role/x"}}, "InvalidArn"},
  };
  for (const Case& c : cases) {
    auto [status, out] = Call(c.op, c.body);
    EXPECT_EQ(status, 400) << c.op << " " << c.body.dump().substr(0, 200) << " -> " << out;
    EXPECT_EQ(Type(out), c.type) << c.op << " " << c.body.dump().substr(0, 200) << " -> " << out;
    EXPECT_TRUE(out.contains("message")) << out;
  }
  // Not JSON at all, and JSON nested past the bound.
  auto [status, out] = CallRaw("ListStateMachines", "{oops");
  EXPECT_EQ(status, 400);
  std::tie(status, out) = CallRaw("ListStateMachines", std::string(100000, '[') + std::string(100000, ']'));
  EXPECT_EQ(status, 400);
}

TEST_F(StatesServiceTest, TestStateRunsOneStateOnItsInput) {
  auto [status, out] = Call("TestState", {{"definition", R"({"Type": "Pass", "Parameters": {"v.$": "$.x"}, "Next": "After"})"},
                                          {"input", R"({"x": 42})"},
                                          {"inspectionLevel", "DEBUG"}});
  ASSERT_EQ(status, 200) << out;
  EXPECT_EQ(out["status"], "SUCCEEDED");
  EXPECT_EQ(json::parse(out["output"].get<std::string>()), json({{"v", 42}}));
  EXPECT_EQ(out["nextState"], "After");
  EXPECT_TRUE(out.contains("inspectionData"));
  std::tie(status, out) = Call("TestState", {{"definition", R"({"Type": "Fail", "Error": "Oops", "Cause": "why"})"}});
  ASSERT_EQ(status, 200) << out;
  EXPECT_EQ(out["status"], "FAILED");
  EXPECT_EQ(out["error"], "Oops");
}

}  // namespace
}  // namespace lathe::states
