// The automation tutorial's state machine (step_function_definition.json from the guide in
// ../shared/seeds), unmodified, run by the executor over fake Lambda functions and SNS: the
// success path with its 300-second poll loop (and a restart in the middle of it), and the
// NotifyValidationFailed branch for a broken dataset.

#include "states_executor_fixture.h"
#include "test_util.h"

namespace lathe::states::testing {
namespace {


class TutorialTest : public ExecutorTest {
 protected:
  void SetUp() override {
    definition_ = lathe::testing::TutorialStateMachineDefinition();
    if (definition_.empty())
      GTEST_SKIP() << "the automation guide is not in " << LATHE_SHARED_DIR << "/seeds";
    ExecutorTest::SetUp();
    lambda_.on_start = [this](const TaskCall& call) {
      const std::string fn = call.parameters.value("FunctionName", "");
      const json& p = call.parameters["Payload"];
      json payload;
      if (fn == "validate-training-data") {
        const bool ok = p.value("key", "").find("broken") == std::string::npos;
        payload = {{"isValid", ok}, {"errors", ok ? json::array() : json::array({"line 1: not JSON"})}, {"recordCount", 3}};
      } else if (fn == "start-bedrock-finetuning") {
        payload = {{"jobArn", "arn:aws:bedrock:ap-south-1:123456789012:model-customization-job/j1"},
                   {"jobName", "j1"}, {"customModelName", "my-model"}};
      } else if (fn == "check-finetuning-status") {
        payload = {{"status", ++checks_ < 2 ? "InProgress" : "Completed"}};
      } else if (fn == "evaluate-finetuned-model") {
        payload = {{"overallScore", 0.87}};
      } else if (fn == "register-model-version") {
        payload = {{"version", 1}};
      } else {
        return TaskOutcome::Failure("Lambda.ResourceNotFoundException", "Function not found: " + fn);
      }
      return TaskOutcome::Success({{"ExecutedVersion", "$LATEST"}, {"Payload", payload}, {"StatusCode", 200}});
    };
    sns_.on_start = [](const TaskCall& call) {
      return TaskOutcome::Success({{"MessageId", "m-" + call.parameters.value("Subject", "")}});
    };
  }

  std::string StartTutorial(const json& input, const std::string& name) {
    ExecutionStart start;
    start.state_machine_arn = kMachineArn;
    start.execution_arn = ArnOf(name);
    start.name = name;
    start.definition = definition_;
    start.machine = asl::ParseDefinition(definition_).machine;
    start.input = input.dump();
    start.account = "123456789012";
    start.region = "ap-south-1";
    auto r = executor_->StartExecution(start);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return start.execution_arn;
  }

  std::string definition_;
  std::atomic<int> checks_{0};
};

TEST_F(TutorialTest, TrainsPollsEvaluatesRegistersAndNotifiesAcrossARestart) {
  const std::string arn = StartTutorial({{"bucket", "b"}, {"key", "training-data/good.jsonl"}}, "good");
  Idle();
  EXPECT_EQ(Record(arn).status, "RUNNING");  // in WaitForTraining
  executor_.reset();
  clock_.Advance(300000);
  NewExecutor();
  Idle();  // the first status check: InProgress, back to the Wait
  EXPECT_EQ(checks_.load(), 1);
  clock_.Advance(300000);
  Idle();
  ASSERT_EQ(Record(arn).status, "SUCCEEDED") << Record(arn).doc.dump();
  auto calls = sns_.calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].parameters["Subject"], "Fine-Tuning Complete");
  EXPECT_EQ(calls[0].parameters["Message"], "Model my-model training complete. Evaluation score: 0.87");
  EXPECT_EQ(Count(arn, "WaitStateEntered"), 2);
  EXPECT_EQ(Count(arn, "TaskSucceeded"), 7);
  EXPECT_EQ(Output(arn)["MessageId"], "m-Fine-Tuning Complete");
}

TEST_F(TutorialTest, ABrokenDatasetTakesTheValidationFailedBranch) {
  const std::string arn = StartTutorial({{"bucket", "b"}, {"key", "training-data/broken.jsonl"}}, "broken");
  Idle();
  ASSERT_EQ(Record(arn).status, "SUCCEEDED");
  auto calls = sns_.calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].parameters["Subject"], "Training Data Validation Failed");
  EXPECT_EQ(calls[0].parameters["TopicArn"], "arn:aws:sns:ap-south-1:ACCOUNT_ID:finetuning-notifications");
  EXPECT_EQ(Count(arn, "ChoiceStateExited"), 1);
}

TEST_F(TutorialTest, AMissingFunctionIsCaughtAndNotified) {
  lambda_.on_start = [](const TaskCall&) {
    return TaskOutcome::Failure("Lambda.ResourceNotFoundException", "Function not found: validate-training-data");
  };
  const std::string arn = StartTutorial({{"bucket", "b"}, {"key", "k"}}, "missing");
  Idle();
  ASSERT_EQ(Record(arn).status, "SUCCEEDED");
  auto calls = sns_.calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].parameters["Message"],
            "Pipeline failed with error: Function not found: validate-training-data");
}

}  // namespace
}  // namespace lathe::states::testing
