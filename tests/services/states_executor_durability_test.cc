// The executor's durable side: task tokens, .sync polling, timeouts, StopExecution, and a new
// executor over the same store resuming what the old one left RUNNING (mid-Wait, mid-task,
// mid-.sync, mid-Map), with a history that shows it.
#include <thread>

#include "states_executor_fixture.h"

namespace lathe::states::testing {
namespace {

const json kTokenMachine = {
    {"StartAt", "T"},
    {"States",
     {{"T", {{"Type", "Task"},
             {"Resource", "arn:aws:states:::sns:publish.waitForTaskToken"},
             {"Parameters", {{"TopicArn", "arn:aws:sns:us-east-1:123456789012:t"}, {"Message.$", "$$.Task.Token"}}},
             {"HeartbeatSeconds", 60},
             {"ResultPath", "$.answer"},
             {"End", true}}}}}};

TEST_F(ExecutorTest, WaitForTaskTokenWaitsForSendTaskSuccess) {
  const std::string arn = Start(kTokenMachine, {{"q", 1}});
  ASSERT_TRUE(sns_.WaitForCalls(1));
  Idle();
  auto call = sns_.calls()[0];
  ASSERT_FALSE(call.task_token.empty());
  EXPECT_EQ(call.parameters["Message"], call.task_token);
  EXPECT_EQ(call.pattern, "waitForTaskToken");
  EXPECT_EQ(Record(arn).status, "RUNNING");
  auto owner = store_->FindTaskToken(call.task_token);
  ASSERT_TRUE(owner.ok());
  EXPECT_EQ(owner->execution_arn, arn);

  EXPECT_TRUE(executor_->SendTaskHeartbeat(call.task_token).ok());
  ASSERT_TRUE(executor_->SendTaskSuccess(call.task_token, R"({"ok":true})").ok());
  Idle();
  EXPECT_EQ(Record(arn).status, "SUCCEEDED");
  EXPECT_EQ(Output(arn), (json{{"q", 1}, {"answer", {{"ok", true}}}}));
  EXPECT_EQ(Types(arn), (std::vector<std::string>{"ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted",
                                                  "TaskSubmitted", "TaskSucceeded", "TaskStateExited",
                                                  "ExecutionSucceeded"}));
  EXPECT_EQ(Event(arn, "TaskScheduled").details["heartbeatInSeconds"], 60);
  // The token's state has ended: TaskTimedOut (Conflict); a token never issued: NotFound.
  EXPECT_EQ(executor_->SendTaskSuccess(call.task_token, "{}").code(), Status::Code::kConflict);
  EXPECT_EQ(executor_->SendTaskSuccess("no-such-token", "{}").code(), Status::Code::kNotFound);
  EXPECT_EQ(store_->FindTaskToken(call.task_token).status().code(), Status::Code::kNotFound);
}

TEST_F(ExecutorTest, SendTaskFailureFailsTheStateAndAMissedHeartbeatTimesItOut) {
  const std::string failed = Start(kTokenMachine, json::object(), "failed");
  const std::string silent = Start(kTokenMachine, json::object(), "silent");
  ASSERT_TRUE(sns_.WaitForCalls(2));
  Idle();
  std::string failed_token, silent_token;
  for (const auto& c : sns_.calls()) (c.execution_arn == failed ? failed_token : silent_token) = c.task_token;
  ASSERT_TRUE(executor_->SendTaskFailure(failed_token, "Callee.Error", "it said no").ok());
  Idle();
  EXPECT_EQ(Record(failed).status, "FAILED");
  EXPECT_EQ(Record(failed).doc["error"], "Callee.Error");
  EXPECT_EQ(Event(failed, "TaskFailed").details["cause"], "it said no");

  clock_.Advance(60000);
  Idle();
  EXPECT_EQ(Record(silent).status, "FAILED");
  EXPECT_EQ(Record(silent).doc["error"], "States.HeartbeatTimeout");
  EXPECT_EQ(Count(silent, "TaskTimedOut"), 1);
  EXPECT_EQ(executor_->SendTaskSuccess(silent_token, "{}").code(), Status::Code::kConflict);
}

TEST_F(ExecutorTest, TaskTimeoutSecondsFailsWithStatesTimeout) {
  const json def = {{"StartAt", "T"},
                    {"States", {{"T", {{"Type", "Task"},
                                       {"Resource", "arn:aws:states:::lambda:invoke.waitForTaskToken"},
                                       {"Parameters", {{"FunctionName", "f"}, {"Payload", {{"t.$", "$$.Task.Token"}}}}},
                                       {"TimeoutSeconds", 5},
                                       {"Catch", {{{"ErrorEquals", {"States.Timeout"}}, {"Next", "Late"}}}},
                                       {"End", true}}},
                                {"Late", {{"Type", "Pass"}, {"Result", "late"}, {"End", true}}}}}};
  const std::string arn = Start(def);
  ASSERT_TRUE(lambda_.WaitForCalls(1));
  Idle();
  clock_.Advance(4999);
  Idle();
  EXPECT_EQ(Record(arn).status, "RUNNING");
  clock_.Advance(1);
  Idle();
  EXPECT_EQ(Record(arn).status, "SUCCEEDED");
  EXPECT_EQ(Output(arn), "late");
  EXPECT_EQ(Event(arn, "TaskTimedOut").details["error"], "States.Timeout");
}

TEST_F(ExecutorTest, SyncStartsOnceAndPollsUntilTheWorkEnds) {
  std::atomic<int> polls{0};
  bedrock_.on_start = [](const TaskCall&) { return TaskOutcome::Success({{"JobArn", "job-1"}}); };
  bedrock_.on_poll = [&](const TaskCall&, const json& started) -> std::optional<TaskOutcome> {
    if (++polls < 3) return std::nullopt;
    return TaskOutcome::Success({{"JobArn", started["JobArn"]}, {"Status", "Completed"}});
  };
  const json def = {{"StartAt", "Train"},
                    {"States", {{"Train", {{"Type", "Task"},
                                           {"Resource", "arn:aws:states:::bedrock:createModelCustomizationJob.sync"},
                                           {"Parameters", {{"JobName", "j"}}},
                                           {"End", true}}}}}};
  const std::string arn = Start(def);
  Idle();
  EXPECT_EQ(polls.load(), 1);  // the first look right after Start
  clock_.Advance(5000);
  Idle();
  EXPECT_EQ(polls.load(), 2);
  EXPECT_EQ(Record(arn).status, "RUNNING");
  clock_.Advance(5000);
  Idle();
  EXPECT_EQ(Record(arn).status, "SUCCEEDED");
  EXPECT_EQ(Output(arn), (json{{"JobArn", "job-1"}, {"Status", "Completed"}}));
  EXPECT_EQ(bedrock_.calls().size(), 1u);
  EXPECT_EQ(Types(arn), (std::vector<std::string>{"ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted",
                                                  "TaskSubmitted", "TaskSucceeded", "TaskStateExited",
                                                  "ExecutionSucceeded"}));
  EXPECT_EQ(Event(arn, "TaskScheduled").details["resource"], "createModelCustomizationJob.sync");
  EXPECT_EQ(json::parse(Event(arn, "TaskSubmitted").details["output"].get<std::string>())["JobArn"], "job-1");
}

TEST_F(ExecutorTest, AFailedSyncJobFailsTheState) {
  bedrock_.on_start = [](const TaskCall&) { return TaskOutcome::Success({{"JobArn", "job-1"}}); };
  bedrock_.on_poll = [](const TaskCall&, const json&) -> std::optional<TaskOutcome> {
    return TaskOutcome::Failure("Bedrock.JobFailed", "the job failed");
  };
  const json def = {{"StartAt", "Train"},
                    {"States", {{"Train", {{"Type", "Task"},
                                           {"Resource", "arn:aws:states:::bedrock:createModelCustomizationJob.sync"},
                                           {"End", true}}}}}};
  const std::string arn = Start(def);
  Idle();
  EXPECT_EQ(Record(arn).status, "FAILED");
  EXPECT_EQ(Record(arn).doc["error"], "Bedrock.JobFailed");
}

TEST_F(ExecutorTest, StopExecutionAbortsItAndCancelsSyncWork) {
  bedrock_.on_start = [](const TaskCall&) { return TaskOutcome::Success({{"JobArn", "job-1"}}); };
  bedrock_.on_poll = [](const TaskCall&, const json&) -> std::optional<TaskOutcome> { return std::nullopt; };
  const json def = {{"StartAt", "Train"},
                    {"States", {{"Train", {{"Type", "Task"},
                                           {"Resource", "arn:aws:states:::bedrock:createModelCustomizationJob.sync"},
                                           {"End", true}}}}}};
  const std::string arn = Start(def);
  Idle();
  ASSERT_TRUE(executor_->StopExecution(arn, "User.Stop", "no longer needed").ok());
  Idle();
  auto rec = Record(arn);
  EXPECT_EQ(rec.status, "ABORTED");
  EXPECT_EQ(rec.doc["error"], "User.Stop");
  EXPECT_EQ(Types(arn).back(), "ExecutionAborted");
  EXPECT_EQ(Event(arn, "ExecutionAborted").details["cause"], "no longer needed");
  EXPECT_EQ(bedrock_.cancels(), 1);
  EXPECT_TRUE(store_->Frames(arn)->empty());
  EXPECT_EQ(executor_->StopExecution(arn, "", "").code(), Status::Code::kConflict);
  auto events = db_->EventsAfter(0, 10);
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[1].detail["status"], "ABORTED");
  // A later Poll answer does nothing.
  clock_.Advance(60000);
  Idle();
  EXPECT_EQ(Record(arn).status, "ABORTED");
}

TEST_F(ExecutorTest, StopWithoutARunningExecutorAbortsInTheStore) {
  const json def = {{"StartAt", "W"}, {"States", {{"W", {{"Type", "Wait"}, {"Seconds", 100}, {"End", true}}}}}};
  const std::string arn = Start(def);
  Idle();
  executor_->Stop();
  ASSERT_TRUE(executor_->StopExecution(arn, "", "").ok());
  EXPECT_EQ(Record(arn).status, "ABORTED");
  EXPECT_EQ(Types(arn).back(), "ExecutionAborted");
  EXPECT_TRUE(store_->Frames(arn)->empty());
}

TEST_F(ExecutorTest, ANewExecutorResumesAWaitWithItsRemainingTime) {
  const json def = {{"StartAt", "W"},
                    {"States", {{"W", {{"Type", "Wait"}, {"Seconds", 60}, {"Next", "P"}}},
                                {"P", {{"Type", "Pass"}, {"End", true}}}}}};
  const std::string arn = Start(def, {{"x", 1}});
  Idle();
  executor_.reset();  // as after a crash: the execution stays RUNNING in the store
  EXPECT_EQ(Record(arn).status, "RUNNING");
  clock_.Advance(30000);
  NewExecutor();
  Idle();
  EXPECT_EQ(Record(arn).status, "RUNNING");
  clock_.Advance(29999);
  Idle();
  EXPECT_EQ(Record(arn).status, "RUNNING");
  clock_.Advance(1);
  Idle();
  EXPECT_EQ(Record(arn).status, "SUCCEEDED");
  EXPECT_EQ(Output(arn), (json{{"x", 1}}));
  EXPECT_EQ(Types(arn), (std::vector<std::string>{"ExecutionStarted", "WaitStateEntered", "WaitStateExited",
                                                  "PassStateEntered", "PassStateExited", "ExecutionSucceeded"}));
}

TEST_F(ExecutorTest, ATaskInFlightWhenTheExecutorStopsRunsAgainAfterARestart) {
  // The first executor's task thread is inside Start when the executor stops; its answer is
  // dropped, as a crash would lose it.
  lambda_.on_start = [](const TaskCall&) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    return TaskOutcome::Success({{"Payload", "first"}});
  };
  const json def = {{"StartAt", "T"},
                    {"States", {{"T", {{"Type", "Task"}, {"Resource", "arn:aws:states:::lambda:invoke"},
                                       {"OutputPath", "$.Payload"}, {"End", true}}}}}};
  const std::string arn = Start(def);
  ASSERT_TRUE(lambda_.WaitForCalls(1));
  executor_.reset();
  EXPECT_EQ(Record(arn).status, "RUNNING");
  EXPECT_EQ(Count(arn, "TaskScheduled"), 1);

  lambda_.on_start = [](const TaskCall&) { return TaskOutcome::Success({{"Payload", "second"}}); };
  NewExecutor();
  Idle();
  EXPECT_EQ(Record(arn).status, "SUCCEEDED");
  EXPECT_EQ(Output(arn), "second");
  EXPECT_EQ(lambda_.calls().size(), 2u);
  EXPECT_EQ(Types(arn), (std::vector<std::string>{"ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted",
                                                  "TaskScheduled", "TaskStarted", "TaskSucceeded", "TaskStateExited",
                                                  "ExecutionSucceeded"}));
}

TEST_F(ExecutorTest, ASyncTaskIsPolledNotStartedAgainAfterARestart) {
  bedrock_.on_start = [](const TaskCall&) { return TaskOutcome::Success({{"JobArn", "job-1"}}); };
  bedrock_.on_poll = [](const TaskCall&, const json&) -> std::optional<TaskOutcome> { return std::nullopt; };
  const json def = {{"StartAt", "Train"},
                    {"States", {{"Train", {{"Type", "Task"},
                                           {"Resource", "arn:aws:states:::bedrock:createModelCustomizationJob.sync"},
                                           {"End", true}}}}}};
  const std::string arn = Start(def);
  Idle();
  executor_.reset();
  bedrock_.on_poll = [](const TaskCall&, const json& started) -> std::optional<TaskOutcome> {
    return TaskOutcome::Success({{"JobArn", started["JobArn"]}, {"Status", "Completed"}});
  };
  NewExecutor();
  Idle();
  clock_.Advance(5000);
  Idle();
  EXPECT_EQ(Record(arn).status, "SUCCEEDED");
  EXPECT_EQ(bedrock_.calls().size(), 1u);
  EXPECT_EQ(Output(arn)["Status"], "Completed");
  EXPECT_EQ(Count(arn, "TaskScheduled"), 1);
}

TEST_F(ExecutorTest, ATokenTaskStillWaitsAfterARestart) {
  const std::string arn = Start(kTokenMachine);
  ASSERT_TRUE(sns_.WaitForCalls(1));
  Idle();
  const std::string token = sns_.calls()[0].task_token;
  executor_.reset();
  NewExecutor();
  Idle();
  EXPECT_EQ(sns_.calls().size(), 1u);  // the callee has the token already: not sent again
  ASSERT_TRUE(executor_->SendTaskSuccess(token, R"("done")").ok());
  Idle();
  EXPECT_EQ(Record(arn).status, "SUCCEEDED");
  EXPECT_EQ(Output(arn)["answer"], "done");
}

TEST_F(ExecutorTest, AMapResumesWithTheIterationsItHadFinished) {
  const json def = {
      {"StartAt", "M"},
      {"States",
       {{"M", {{"Type", "Map"},
               {"MaxConcurrency", 2},
               {"ItemProcessor",
                {{"StartAt", "W"},
                 {"States", {{"W", {{"Type", "Wait"}, {"SecondsPath", "$.s"}, {"Next", "V"}}},
                             {"V", {{"Type", "Pass"}, {"InputPath", "$.v"}, {"End", true}}}}}}},
               {"End", true}}}}}};
  const json items = json::array({{{"s", 1}, {"v", "a"}}, {{"s", 5}, {"v", "b"}}, {{"s", 1}, {"v", "c"}}, {{"s", 1}, {"v", "d"}}});
  const std::string arn = Start(def, items);
  Idle();
  clock_.Advance(1000);  // a ends, c starts
  Idle();
  EXPECT_EQ(Count(arn, "MapIterationSucceeded"), 1);
  executor_.reset();
  NewExecutor();
  Idle();
  clock_.Advance(1000);  // c ends, d starts
  Idle();
  clock_.Advance(3000);  // b and d end
  Idle();
  ASSERT_EQ(Record(arn).status, "SUCCEEDED");
  EXPECT_EQ(Output(arn), json::array({"a", "b", "c", "d"}));
  EXPECT_EQ(Count(arn, "MapIterationStarted"), 4);
  EXPECT_EQ(Count(arn, "MapIterationSucceeded"), 4);
  EXPECT_TRUE(store_->Frames(arn)->empty());
}

TEST_F(ExecutorTest, AnExecutionWhoseTimeoutPassedWhileDownEndsTimedOutOnResume) {
  const json def = {{"StartAt", "W"},
                    {"TimeoutSeconds", 10},
                    {"States", {{"W", {{"Type", "Wait"}, {"Seconds", 100}, {"End", true}}}}}};
  const std::string arn = Start(def);
  Idle();
  executor_.reset();
  clock_.Advance(20000);
  NewExecutor();
  Idle();
  EXPECT_EQ(Record(arn).status, "TIMED_OUT");
}

}  // namespace
}  // namespace lathe::states::testing

namespace lathe::states::testing {
namespace {

TEST_F(ExecutorTest, ATaskStartsOnlyAfterItsScheduledEventIsStored) {
  std::mutex mu;
  std::vector<std::string> seen_last;  // the stored history's last event when Start ran
  const std::string arn = ArnOf("run");
  lambda_.on_start = [&](const TaskCall&) {
    auto last = store_->HistoryReverse(arn, 0, 1);
    std::lock_guard<std::mutex> lock(mu);
    seen_last.push_back(last.ok() && !last->empty() ? last->front().type : "");
    return TaskOutcome::Success(json::object());
  };
  const json def = {{"StartAt", "A"},
                    {"States", {{"A", {{"Type", "Pass"}, {"Next", "T"}}},
                                {"T", {{"Type", "Task"}, {"Resource", "arn:aws:states:::lambda:invoke"}, {"Next", "U"}}},
                                {"U", {{"Type", "Task"}, {"Resource", "arn:aws:states:::lambda:invoke"}, {"End", true}}}}}};
  Start(def);
  Idle();
  EXPECT_EQ(Record(arn).status, "SUCCEEDED");
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(seen_last, (std::vector<std::string>{"TaskStarted", "TaskStarted"}));
}

TEST_F(ExecutorTest, StoppingAMapAbortsEveryIterationAndLeavesNoFrames) {
  const json def = {
      {"StartAt", "M"},
      {"States",
       {{"M", {{"Type", "Map"},
               {"ItemProcessor", {{"StartAt", "T"},
                                  {"States", {{"T", {{"Type", "Task"},
                                                     {"Resource", "arn:aws:states:::sns:publish.waitForTaskToken"},
                                                     {"Parameters", {{"Message.$", "$$.Task.Token"}}},
                                                     {"End", true}}}}}}},
               {"End", true}}}}}};
  const std::string arn = Start(def, json::array({1, 2, 3}));
  ASSERT_TRUE(sns_.WaitForCalls(3));
  Idle();
  EXPECT_GT(store_->Frames(arn)->size(), 3u);
  ASSERT_TRUE(executor_->StopExecution(arn, "", "").ok());
  EXPECT_EQ(Record(arn).status, "ABORTED");
  EXPECT_TRUE(store_->Frames(arn)->empty());
  for (const auto& c : sns_.calls())
    EXPECT_EQ(executor_->SendTaskSuccess(c.task_token, "{}").code(), Status::Code::kConflict);
  // A stopped execution is not resumed by the next executor.
  NewExecutor();
  Idle();
  EXPECT_EQ(Record(arn).status, "ABORTED");
  EXPECT_EQ(Types(arn).back(), "ExecutionAborted");
}

}  // namespace
}  // namespace lathe::states::testing
