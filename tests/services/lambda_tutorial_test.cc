// The automation tutorial's state machine (step_function_definition.json from the guide in
// ../shared/seeds), unmodified, run by the Step Functions executor over the real "lambda"
// integration: lathe's built-in functions validate S3 objects with lathe's validator and start
// a real (not trained here) Bedrock job. SNS is a fake that records what would be published.

#include "service/bedrock_service.h"
#include "services/lambda/backend.h"
#include "services/lambda/builtins.h"
#include "services/lambda/task_integration.h"
#include "services/lambda_test_util.h"
#include "states_executor_fixture.h"
#include "test_util.h"

namespace lathe::lambda {
namespace {

using nlohmann::json;


std::string Records(int n, int broken_line = 0) {
  std::string out;
  for (int i = 1; i <= n; ++i)
    out += i == broken_line ? std::string("{\"prompt\": \"no completion\"}\n")
                            : json{{"prompt", "Customer: question " + std::to_string(i) + "\nAgent:"}, {"completion", " answer"}}.dump() + "\n";
  return out;
}

class LambdaTutorialTest : public states::testing::ExecutorTest {
 protected:
  void SetUp() override {
    definition_ = lathe::testing::TutorialStateMachineDefinition();
    if (definition_.empty()) GTEST_SKIP() << "the automation guide is not in " << LATHE_SHARED_DIR << "/seeds";
    ExecutorTest::SetUp();
    service::ServiceConfig config;
    config.data_dir = dir_.path() + "/bedrock";
    config.models[service::kDefaultModelId] = dir_.path() + "/no-model";  // jobs are created, not trained
    config.scope.account = "123456789012";
    auto opened = service::BedrockService::Open(config, /*start=*/false);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    bedrock_service_ = std::move(*opened);
    bedrock_service_->set_object_store(&objects_);
    builtins_ = std::make_unique<BuiltinFunctions>(&bedrock_service_->jobs(), &objects_, dir_.path() + "/work");
    LambdaOptions o;
    o.root = dir_.path() + "/lambda";
    functions_ = std::make_unique<LambdaBackend>(bedrock_service_->store(), builtins_.get(), o);
    ASSERT_TRUE(functions_->Start().ok());
    integration_ = std::make_unique<LambdaTaskIntegration>(functions_.get());
    registry_.Add("lambda", integration_.get());  // in place of the fixture's fake
    NewExecutor();
    sns_.on_start = [](const states::TaskCall& call) {
      return states::TaskOutcome::Success({{"MessageId", "m-" + call.parameters.value("Subject", "")}});
    };
  }
  void TearDown() override {
    executor_.reset();  // before the functions it calls
  }

  std::string StartTutorial(const std::string& key, const std::string& name) {
    states::ExecutionStart start;
    start.state_machine_arn = kMachineArn;
    start.execution_arn = ArnOf(name);
    start.name = name;
    start.definition = definition_;
    start.machine = asl::ParseDefinition(definition_).machine;
    start.input = json{{"bucket", "training-bucket"}, {"key", key}}.dump();
    start.account = "123456789012";
    start.region = "ap-south-1";
    auto r = executor_->StartExecution(start);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return start.execution_arn;
  }

  std::string definition_;
  testing::MapObjectStore objects_;
  std::unique_ptr<service::BedrockService> bedrock_service_;
  std::unique_ptr<BuiltinFunctions> builtins_;
  std::unique_ptr<LambdaBackend> functions_;
  std::unique_ptr<LambdaTaskIntegration> integration_;
};

TEST_F(LambdaTutorialTest, ABrokenDatasetTakesTheValidationFailedBranch) {
  objects_.objects[{"training-bucket", "training-data/broken.jsonl"}] = Records(40, 3);
  const std::string arn = StartTutorial("training-data/broken.jsonl", "broken");
  Idle();
  ASSERT_EQ(Record(arn).status, "SUCCEEDED") << Record(arn).doc.dump();
  auto calls = sns_.calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].parameters["Subject"], "Training Data Validation Failed");
  EXPECT_TRUE(bedrock_service_->jobs().List({})->at("modelCustomizationJobSummaries").empty());
}

TEST_F(LambdaTutorialTest, AGoodDatasetStartsARealJobAndPollsItsStatus) {
  objects_.objects[{"training-bucket", "training-data/good.jsonl"}] = Records(40);
  const std::string arn = StartTutorial("training-data/good.jsonl", "good");
  Idle();
  EXPECT_EQ(Record(arn).status, "RUNNING");  // in WaitForTraining
  auto jobs = bedrock_service_->jobs().List({});
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ((*jobs)["modelCustomizationJobSummaries"].size(), 1u) << jobs->dump();
  const json job = (*jobs)["modelCustomizationJobSummaries"][0];
  EXPECT_EQ(job["status"], "InProgress");
  clock_.Advance(300000);
  Idle();  // CheckTrainingStatus: InProgress (no runner here), so back to the Wait
  EXPECT_EQ(Record(arn).status, "RUNNING");
  EXPECT_EQ(Count(arn, "WaitStateEntered"), 2);
  EXPECT_EQ(Count(arn, "TaskSucceeded"), 3);
  // The status check was asked about the job the start step created.
  const auto check = Event(arn, "TaskSucceeded", 2);
  EXPECT_NE(check.details.dump().find(job["jobArn"].get<std::string>()), std::string::npos) << check.details.dump();
  EXPECT_NE(check.details.dump().find("InProgress"), std::string::npos) << check.details.dump();
  EXPECT_TRUE(sns_.calls().empty());
  ASSERT_TRUE(executor_->StopExecution(arn, "", "").ok());
}

TEST_F(LambdaTutorialTest, AMissingObjectIsCaughtAndNotified) {
  const std::string arn = StartTutorial("training-data/not-there.jsonl", "missing");
  Idle();
  ASSERT_EQ(Record(arn).status, "SUCCEEDED") << Record(arn).doc.dump();
  auto calls = sns_.calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].parameters["Subject"], "Fine-Tuning Pipeline Failed");
  const std::string message = calls[0].parameters["Message"];
  EXPECT_NE(message.find("Pipeline failed with error: "), std::string::npos) << message;
  EXPECT_NE(message.find("NoSuchKey"), std::string::npos) << message;
}

}  // namespace
}  // namespace lathe::lambda
