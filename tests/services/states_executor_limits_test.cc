// The executor's bounds and failure paths found in review: a Map's results past 256 KiB, the
// history's 25,000 events, an execution that ends while a frame is being stepped, .sync work
// whose state was abandoned while Start ran, StopExecution before adoption, failed commits,
// executions that cannot be resumed, and heartbeat timers.
#include <future>
#include <thread>

#include "states_executor_fixture.h"

namespace lathe::states::testing {
namespace {

TEST_F(ExecutorTest, MapResultsPastThePayloadLimitFailTheMapBeforeTheLastItem) {
  // Each iteration returns ~20 KiB; 13 of them pass 256 KiB, so a Map of 100 fails early.
  const json def = {
      {"StartAt", "M"},
      {"States",
       {{"M", {{"Type", "Map"},
               {"MaxConcurrency", 1},
               {"ItemProcessor",
                {{"StartAt", "Big"},
                 {"States", {{"Big", {{"Type", "Pass"}, {"Result", std::string(20 * 1024, 'x')}, {"End", true}}}}}}},
               {"End", true}}}}}};
  json items = json::array();
  for (int i = 0; i < 100; ++i) items.push_back(i);
  const std::string arn = Start(def, items);
  Idle();
  const auto rec = Record(arn);
  EXPECT_EQ(rec.status, "FAILED");
  EXPECT_EQ(rec.doc["error"], "States.DataLimitExceeded");
  EXPECT_EQ(Count(arn, "MapStateFailed"), 1);
  // It stopped at the iteration that passed the limit, not after all 100.
  EXPECT_LT(Count(arn, "MapIterationStarted"), 20);
  EXPECT_TRUE(store_->Frames(arn)->empty());
}

TEST_F(ExecutorTest, MapResultsUnderThePayloadLimitStillSucceed) {
  const json def = {
      {"StartAt", "M"},
      {"States", {{"M", {{"Type", "Map"},
                         {"ItemProcessor", {{"StartAt", "P"}, {"States", {{"P", {{"Type", "Pass"}, {"End", true}}}}}}},
                         {"End", true}}}}}};
  json items = json::array();
  for (int i = 0; i < 10; ++i) items.push_back(std::string(20 * 1024, 'y'));
  const std::string arn = Start(def, items);
  Idle();
  EXPECT_EQ(Record(arn).status, "SUCCEEDED");
  EXPECT_EQ(Output(arn), items);
}

TEST_F(ExecutorTest, AnEndlessLoopFailsAtTheHistoryLimit) {
  const json def = {{"StartAt", "P"},
                    {"States", {{"P", {{"Type", "Pass"}, {"Next", "C"}}},
                                {"C", {{"Type", "Choice"},
                                       {"Choices", {{{"Variable", "$.stop"}, {"IsPresent", true}, {"Next", "Done"}}}},
                                       {"Default", "P"}}},
                                {"Done", {{"Type", "Succeed"}}}}}};
  const std::string arn = Start(def);
  Idle();
  const auto rec = Record(arn);
  ASSERT_EQ(rec.status, "FAILED");
  EXPECT_EQ(rec.doc["error"], "States.Runtime");
  EXPECT_NE(rec.doc["cause"].get<std::string>().find("maximum number of history events"), std::string::npos);
  const auto history = History(arn);
  ASSERT_FALSE(history.empty());
  EXPECT_EQ(history.back().type, "ExecutionFailed");
  EXPECT_GE(history.size(), 25000u);
  EXPECT_LE(history.size(), 25010u);
  EXPECT_TRUE(store_->Frames(arn)->empty());
}

// A stored frame that is about to enter a state the definition lacks: Enter fails the frame,
// which ends the execution while StepFrame still holds the frame (once a use after free).
TEST_F(ExecutorTest, AnExecutionThatEndsWhileAFrameIsEnteredFailsCleanly) {
  const json def = {{"StartAt", "W"},
                    {"States", {{"W", {{"Type", "Wait"}, {"Seconds", 100}, {"Next", "P"}}},
                                {"P", {{"Type", "Pass"}, {"End", true}}}}}};
  const std::string arn = Start(def);
  Idle();
  executor_->Stop();
  auto frames = store_->Frames(arn);
  ASSERT_TRUE(frames.ok());
  ASSERT_EQ(frames->size(), 1u);
  store::FrameRecord f = (*frames)[0];
  f.status = "ENTER";
  f.doc["state"] = "Gone";
  store::ExecutionCommit c;
  c.execution_arn = arn;
  c.upsert_frames = {f};
  ASSERT_TRUE(store_->Commit(c).ok());
  NewExecutor();
  Idle();
  const auto rec = Record(arn);
  EXPECT_EQ(rec.status, "FAILED");
  EXPECT_EQ(rec.doc["error"], "States.Runtime");
  EXPECT_TRUE(store_->Frames(arn)->empty());
}

TEST_F(ExecutorTest, SyncWorkStartedForAStoppedExecutionIsCancelledWhenStartReturns) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  bedrock_.on_start = [released](const TaskCall&) {
    released.wait();
    return TaskOutcome::Success({{"JobArn", "job-1"}});
  };
  const json def = {{"StartAt", "Train"},
                    {"States", {{"Train", {{"Type", "Task"},
                                           {"Resource", "arn:aws:states:::bedrock:createModelCustomizationJob.sync"},
                                           {"End", true}}}}}};
  const std::string arn = Start(def);
  ASSERT_TRUE(bedrock_.WaitForCalls(1));
  // Stopped while Start runs: nothing is known to cancel yet.
  ASSERT_TRUE(executor_->StopExecution(arn, "User.Stop", "").ok());
  EXPECT_EQ(bedrock_.cancels(), 0);
  release.set_value();
  Idle();
  EXPECT_EQ(Record(arn).status, "ABORTED");
  EXPECT_EQ(bedrock_.cancels(), 1);
  EXPECT_EQ(bedrock_.polls(), 0);
}

TEST_F(ExecutorTest, AnAbandonedNonSyncStartIsNotCancelled) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  lambda_.on_start = [released](const TaskCall&) {
    released.wait();
    return TaskOutcome::Success({{"Payload", 1}});
  };
  const json def = {{"StartAt", "T"},
                    {"States", {{"T", {{"Type", "Task"}, {"Resource", "arn:aws:states:::lambda:invoke"}, {"End", true}}}}}};
  const std::string arn = Start(def);
  ASSERT_TRUE(lambda_.WaitForCalls(1));
  ASSERT_TRUE(executor_->StopExecution(arn, "", "").ok());
  release.set_value();
  Idle();
  EXPECT_EQ(Record(arn).status, "ABORTED");
  EXPECT_EQ(lambda_.cancels(), 0);
}

// An execution RUNNING in the store that the scheduler does not hold (as between StartExecution's
// commit and its adoption) is aborted in the store, not answered "try again".
TEST_F(ExecutorTest, StopExecutionAbortsARunningExecutionTheSchedulerDoesNotHold) {
  store::ExecutionRecord rec;
  rec.arn = ArnOf("unadopted");
  rec.state_machine_arn = kMachineArn;
  rec.name = "unadopted";
  rec.status = "RUNNING";
  rec.start_ms = clock_.NowMs();
  rec.doc = {{"input", "{}"}, {"account", "123456789012"}, {"region", "us-east-1"}};
  store::HistoryRecord started;
  started.id = 1;
  started.type = "ExecutionStarted";
  started.timestamp_ms = rec.start_ms;
  started.details = json::object();
  store::FrameRecord frame;
  frame.id = 1;
  frame.status = "ENTER";
  frame.doc = {{"path", json::array()}, {"state", "W"}};
  store::ExecutionCommit c;
  c.execution_arn = rec.arn;
  c.insert = rec;
  c.history = {started};
  c.upsert_frames = {frame};
  ASSERT_TRUE(store_->Commit(c).ok());

  Status s = executor_->StopExecution(rec.arn, "User.Stop", "stopped early");
  ASSERT_TRUE(s.ok()) << s.ToString();
  const auto after = Record(rec.arn);
  EXPECT_EQ(after.status, "ABORTED");
  EXPECT_EQ(after.doc["error"], "User.Stop");
  EXPECT_EQ(Types(rec.arn), (std::vector<std::string>{"ExecutionStarted", "ExecutionAborted"}));
  EXPECT_TRUE(store_->Frames(rec.arn)->empty());
  EXPECT_EQ(executor_->StopExecution(rec.arn, "", "").code(), Status::Code::kConflict);
  EXPECT_EQ(executor_->StopExecution(ArnOf("never"), "", "").code(), Status::Code::kNotFound);
}

// A disk that is full for a while: commits fail with IOError until `full` is cleared.
class FullDiskExecutorTest : public ExecutorTest {
 protected:
  void SetUp() override {
    options_.commit_fault = [this](const store::ExecutionCommit& c) {
      size_t seen = largest_.load();
      while (c.history.size() > seen && !largest_.compare_exchange_weak(seen, c.history.size())) {
      }
      ++attempts_;
      return full_.load() ? Status::IOError("database or disk is full") : Status::Ok();
    };
    ExecutorTest::SetUp();
  }
  std::atomic<bool> full_{false};
  std::atomic<size_t> largest_{0};
  std::atomic<int> attempts_{0};
};

TEST_F(FullDiskExecutorTest, AFailedCommitPausesTheExecutionUntilACommitSucceeds) {
  const json def = {{"StartAt", "W"},
                    {"States", {{"W", {{"Type", "Wait"}, {"Seconds", 10}, {"Next", "P"}}},
                                {"P", {{"Type", "Pass"}, {"Next", "C"}}},
                                {"C", {{"Type", "Choice"},
                                       {"Choices", {{{"Variable", "$.stop"}, {"IsPresent", true}, {"Next", "Done"}}}},
                                       {"Default", "P"}}},
                                {"Done", {{"Type", "Succeed"}}}}}};
  const std::string arn = Start(def);
  Idle();
  const size_t stored = History(arn).size();
  full_ = true;
  clock_.Advance(10000);
  Idle();
  // One slice ran and its commit failed; the loop did not go on gathering events in memory.
  EXPECT_EQ(History(arn).size(), stored);
  EXPECT_LE(largest_.load(), 520u);
  const int attempts = attempts_.load();
  clock_.Advance(1000);
  Idle();  // retried, still full
  EXPECT_GT(attempts_.load(), attempts);
  EXPECT_LE(largest_.load(), 520u);
  EXPECT_EQ(Record(arn).status, "RUNNING");
  full_ = false;
  clock_.Advance(1000);
  Idle();
  EXPECT_EQ(Record(arn).status, "FAILED");  // the loop went on to the history limit
  EXPECT_LE(largest_.load(), 520u);
}

TEST_F(FullDiskExecutorTest, ATaskAnswerDuringAFullDiskIsAcceptedAndCommittedLater) {
  const json def = {{"StartAt", "T"},
                    {"States", {{"T", {{"Type", "Task"},
                                       {"Resource", "arn:aws:states:::sns:publish.waitForTaskToken"},
                                       {"Parameters", {{"Message.$", "$$.Task.Token"}}},
                                       {"End", true}}}}}};
  const std::string arn = Start(def);
  Idle();
  ASSERT_TRUE(sns_.WaitForCalls(1));
  Idle();
  const std::string token = sns_.calls()[0].task_token;
  full_ = true;
  Status s = executor_->SendTaskSuccess(token, R"({"ok":true})");
  EXPECT_TRUE(s.ok()) << s.ToString();
  Idle();
  EXPECT_EQ(Record(arn).status, "RUNNING");
  // The answer is taken: the token no longer waits.
  EXPECT_FALSE(executor_->SendTaskSuccess(token, "{}").ok());
  full_ = false;
  clock_.Advance(1000);
  Idle();
  EXPECT_EQ(Record(arn).status, "SUCCEEDED");
  EXPECT_EQ(Output(arn), (json{{"ok", true}}));
}

TEST_F(FullDiskExecutorTest, ATaskThatEndsDuringAFullDiskIsAppliedAfterTheCommit) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  lambda_.on_start = [released](const TaskCall&) {
    released.wait();
    return TaskOutcome::Success({{"Payload", 7}});
  };
  const json task = {{"StartAt", "T"},
                     {"States", {{"T", {{"Type", "Task"}, {"Resource", "arn:aws:states:::lambda:invoke"},
                                        {"OutputPath", "$.Payload"}, {"End", true}}}}}};
  const json wait = {{"StartAt", "W"}, {"States", {{"W", {{"Type", "Wait"}, {"Seconds", 1}, {"End", true}}}}}};
  const json def = {{"StartAt", "Both"},
                    {"States", {{"Both", {{"Type", "Parallel"}, {"Branches", {task, wait}}, {"End", true}}}}}};
  const std::string arn = Start(def);
  ASSERT_TRUE(lambda_.WaitForCalls(1));
  full_ = true;
  const int attempts = attempts_.load();
  clock_.Advance(1000);  // the Wait branch ends; its commit fails
  for (int i = 0; i < 1000 && attempts_.load() == attempts; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_GT(attempts_.load(), attempts);
  release.set_value();  // the task's answer arrives while the commit is pending: held
  Idle();
  EXPECT_EQ(Record(arn).status, "RUNNING");
  EXPECT_EQ(Count(arn, "TaskSucceeded"), 0);
  full_ = false;
  clock_.Advance(1000);
  Idle();
  EXPECT_EQ(Record(arn).status, "SUCCEEDED");
  EXPECT_EQ(Count(arn, "TaskSucceeded"), 1);
  EXPECT_EQ(Output(arn), (json::array({7, json::object()})));
}

TEST_F(ExecutorTest, AnExecutionThatCannotBeResumedEndsFailedAndTheOthersResume) {
  const json def = {{"StartAt", "W"}, {"States", {{"W", {{"Type", "Wait"}, {"Seconds", 10}, {"End", true}}}}}};
  const std::string bad = Start(def, json::object(), "bad");
  const std::string good = Start(def, json::object(), "good");
  Idle();
  executor_->Stop();
  // A frame document of a shape the executor does not expect (a path step that is no [name, branch]).
  auto frames = store_->Frames(bad);
  ASSERT_TRUE(frames.ok());
  ASSERT_EQ(frames->size(), 1u);
  store::FrameRecord f = (*frames)[0];
  f.doc["path"] = json::array({json::array({42, "x"})});
  store::ExecutionCommit c;
  c.execution_arn = bad;
  c.upsert_frames = {f};
  ASSERT_TRUE(store_->Commit(c).ok());
  NewExecutor();  // asserts Start() is Ok
  const auto rec = Record(bad);
  EXPECT_EQ(rec.status, "FAILED");
  EXPECT_EQ(rec.doc["error"], "States.Runtime");
  EXPECT_EQ(rec.doc["cause"].get<std::string>().rfind("The execution could not be resumed", 0), 0u);
  EXPECT_EQ(Types(bad).back(), "ExecutionFailed");
  EXPECT_TRUE(store_->Frames(bad)->empty());
  clock_.Advance(10000);
  Idle();
  EXPECT_EQ(Record(good).status, "SUCCEEDED");
}

// Heartbeats move the deadline, and one armed timer follows it (it sets itself again when it
// fires early) rather than each heartbeat adding a timer.
TEST_F(ExecutorTest, HeartbeatsMoveTheDeadlineThatOneTimerFollows) {
  const json def = {{"StartAt", "T"},
                    {"States", {{"T", {{"Type", "Task"},
                                       {"Resource", "arn:aws:states:::sns:publish.waitForTaskToken"},
                                       {"Parameters", {{"Message.$", "$$.Task.Token"}}},
                                       {"HeartbeatSeconds", 60},
                                       {"End", true}}}}}};
  const std::string arn = Start(def);
  ASSERT_TRUE(sns_.WaitForCalls(1));
  Idle();
  const std::string token = sns_.calls()[0].task_token;
  clock_.Advance(50000);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(executor_->SendTaskHeartbeat(token).ok());  // deadline: 110 s
  clock_.Advance(20000);  // 70 s: past the first deadline, not the moved one
  Idle();
  EXPECT_EQ(Record(arn).status, "RUNNING");
  clock_.Advance(30000);  // 100 s
  ASSERT_TRUE(executor_->SendTaskHeartbeat(token).ok());  // deadline: 160 s
  Idle();
  clock_.Advance(50000);  // 150 s
  Idle();
  EXPECT_EQ(Record(arn).status, "RUNNING");
  clock_.Advance(10000);  // 160 s: the moved deadline, reached by the one timer set again
  Idle();
  EXPECT_EQ(Record(arn).status, "FAILED");
  EXPECT_EQ(Record(arn).doc["error"], "States.HeartbeatTimeout");
  EXPECT_EQ(Count(arn, "TaskTimedOut"), 1);
}

}  // namespace
}  // namespace lathe::states::testing
