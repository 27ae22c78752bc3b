// The executor's language: every state type, input/output processing, the context object,
// Retry/Catch, Parallel and Map, and the history it records (types, ids, detail members).
#include "states_executor_fixture.h"

namespace lathe::states::testing {
namespace {

TEST_F(ExecutorTest, PassChainProcessesInputAndOutputInAwsOrderAndRecordsEachTransition) {
  const json def = {{"StartAt", "A"},
                    {"States",
                     {{"A",
                       {{"Type", "Pass"},
                        {"InputPath", "$.in"},
                        {"Parameters", {{"v.$", "$.v"}, {"name.$", "$$.Execution.Name"}, {"state.$", "$$.State.Name"}}},
                        {"ResultPath", "$.out"},
                        {"Next", "B"}}},
                      {"B", {{"Type", "Pass"}, {"Result", {{"x", 1}}}, {"ResultPath", "$.r"}, {"OutputPath", "$.r"},
                             {"End", true}}}}}};
  const std::string arn = Start(def, {{"in", {{"v", 7}}}, {"other", true}});
  Idle();
  EXPECT_EQ(Record(arn).status, "SUCCEEDED");
  EXPECT_EQ(Output(arn), (json{{"x", 1}}));
  EXPECT_EQ(Types(arn), (std::vector<std::string>{"ExecutionStarted", "PassStateEntered", "PassStateExited",
                                                  "PassStateEntered", "PassStateExited", "ExecutionSucceeded"}));
  auto h = History(arn);
  for (size_t i = 0; i < h.size(); ++i) {
    EXPECT_EQ(h[i].id, static_cast<int64_t>(i + 1));
    EXPECT_EQ(h[i].previous_id, static_cast<int64_t>(i));
  }
  // ResultPath places A's result into its raw input (not the InputPath's selection).
  const json exited_a = json::parse(h[2].details["output"].get<std::string>());
  EXPECT_EQ(exited_a["out"], (json{{"v", 7}, {"name", "run"}, {"state", "A"}}));
  EXPECT_EQ(exited_a["other"], true);
  EXPECT_EQ(h[2].details["name"], "A");
  EXPECT_EQ(h[2].details["outputDetails"]["truncated"], false);
  EXPECT_EQ(h[1].details["name"], "A");
  EXPECT_EQ(json::parse(h[1].details["input"].get<std::string>())["in"]["v"], 7);
  EXPECT_EQ(h[0].details["roleArn"], "arn:aws:iam::123456789012:role/r");
  EXPECT_EQ(json::parse(h[5].details["output"].get<std::string>()), (json{{"x", 1}}));
  EXPECT_EQ(DetailsMember("PassStateEntered"), "stateEnteredEventDetails");
  EXPECT_EQ(DetailsMember("TaskScheduled"), "taskScheduledEventDetails");
  EXPECT_EQ(DetailsMember("MapIterationFailed"), "mapIterationFailedEventDetails");
  EXPECT_EQ(DetailsMember("ParallelStateStarted"), "");
  // Nothing is left of the execution's frames once it ended.
  EXPECT_TRUE(store_->Frames(arn)->empty());
}

TEST_F(ExecutorTest, ChoiceRoutesByRulesAndDefaultAndFailsWhenNothingMatches) {
  const json def = {
      {"StartAt", "C"},
      {"States",
       {{"C", {{"Type", "Choice"},
               {"Choices", {{{"Variable", "$.n"}, {"NumericGreaterThan", 10}, {"Next", "Big"}},
                            {{"And", {{{"Variable", "$.s"}, {"IsPresent", true}}, {{"Variable", "$.s"}, {"StringMatches", "a*"}}}},
                             {"Next", "A"}}}},
               {"Default", "Other"}}},
        {"Big", {{"Type", "Succeed"}}},
        {"A", {{"Type", "Pass"}, {"Result", "a"}, {"End", true}}},
        {"Other", {{"Type", "Fail"}, {"Error", "Custom.Other"}, {"Cause", "neither"}}}}}};
  const std::string big = Start(def, {{"n", 11}}, "big");
  const std::string a = Start(def, {{"n", 1}, {"s", "abc"}}, "a");
  const std::string other = Start(def, {{"n", 1}}, "other");
  Idle();
  EXPECT_EQ(Record(big).status, "SUCCEEDED");
  EXPECT_EQ(Output(big), (json{{"n", 11}}));
  EXPECT_EQ(Types(big), (std::vector<std::string>{"ExecutionStarted", "ChoiceStateEntered", "ChoiceStateExited",
                                                  "SucceedStateEntered", "SucceedStateExited", "ExecutionSucceeded"}));
  EXPECT_EQ(Output(a), "a");
  auto rec = Record(other);
  EXPECT_EQ(rec.status, "FAILED");
  EXPECT_EQ(rec.doc["error"], "Custom.Other");
  EXPECT_EQ(rec.doc["cause"], "neither");
  EXPECT_EQ(Types(other).back(), "ExecutionFailed");
  EXPECT_EQ(Types(other)[Types(other).size() - 2], "FailStateEntered");
  EXPECT_EQ(Event(other, "ExecutionFailed").details["error"], "Custom.Other");

  const json no_default = {{"StartAt", "C"},
                           {"States", {{"C", {{"Type", "Choice"},
                                              {"Choices", {{{"Variable", "$.n"}, {"NumericEquals", 1}, {"Next", "E"}}}}}},
                                       {"E", {{"Type", "Succeed"}}}}}};
  const std::string none = Start(no_default, {{"n", 2}}, "none");
  Idle();
  EXPECT_EQ(Record(none).status, "FAILED");
  EXPECT_EQ(Record(none).doc["error"], "States.NoChoiceMatched");
}

TEST_F(ExecutorTest, FailStateTakesErrorAndCauseFromPaths) {
  const json def = {{"StartAt", "F"},
                    {"States", {{"F", {{"Type", "Fail"}, {"ErrorPath", "$.e"}, {"CausePath", "$.c"}}}}}};
  const std::string arn = Start(def, {{"e", "My.Error"}, {"c", "because"}});
  Idle();
  EXPECT_EQ(Record(arn).doc["error"], "My.Error");
  EXPECT_EQ(Record(arn).doc["cause"], "because");
}

TEST_F(ExecutorTest, APathThatNamesNothingFailsTheExecutionWithStatesRuntime) {
  const json def = {{"StartAt", "P"},
                    {"States", {{"P", {{"Type", "Pass"}, {"Parameters", {{"x.$", "$.missing"}}}, {"End", true}}}}}};
  const std::string arn = Start(def, {{"a", 1}});
  Idle();
  EXPECT_EQ(Record(arn).status, "FAILED");
  EXPECT_EQ(Record(arn).doc["error"], "States.Runtime");
}

TEST_F(ExecutorTest, WaitLastsItsScaledTimeOnTheClock) {
  options_.wait_time_scale = 0.5;
  NewExecutor();
  const json def = {{"StartAt", "W"},
                    {"States", {{"W", {{"Type", "Wait"}, {"Seconds", 10}, {"Next", "T"}}},
                                {"T", {{"Type", "Wait"}, {"SecondsPath", "$.s"}, {"End", true}}}}}};
  const std::string arn = Start(def, {{"s", 4}});
  Idle();
  EXPECT_EQ(Record(arn).status, "RUNNING");
  clock_.Advance(4999);
  Idle();
  EXPECT_EQ(Count(arn, "WaitStateExited"), 0);
  clock_.Advance(1);
  Idle();
  EXPECT_EQ(Count(arn, "WaitStateExited"), 1);
  EXPECT_EQ(Record(arn).status, "RUNNING");
  clock_.Advance(2000);
  Idle();
  EXPECT_EQ(Record(arn).status, "SUCCEEDED");
  EXPECT_EQ(Output(arn), (json{{"s", 4}}));
}

TEST_F(ExecutorTest, WaitUntilATimestampAndNoWaitAtScaleZero) {
  const json def = {{"StartAt", "W"},
                    {"States", {{"W", {{"Type", "Wait"}, {"TimestampPath", "$.at"}, {"End", true}}}}}};
  // The fake clock's now is 1,700,000,000,000 ms = 2023-11-14T22:13:20Z.
  const std::string arn = Start(def, {{"at", "2023-11-14T22:13:30Z"}});
  Idle();
  EXPECT_EQ(Record(arn).status, "RUNNING");
  clock_.Advance(10000);
  Idle();
  EXPECT_EQ(Record(arn).status, "SUCCEEDED");

  const std::string bad = Start(def, {{"at", "yesterday"}}, "bad");
  Idle();
  EXPECT_EQ(Record(bad).status, "FAILED");
  EXPECT_EQ(Record(bad).doc["error"], "States.Runtime");

  options_.wait_time_scale = 0;
  NewExecutor();
  const json long_wait = {{"StartAt", "W"}, {"States", {{"W", {{"Type", "Wait"}, {"Seconds", 300}, {"End", true}}}}}};
  const std::string quick = Start(long_wait, json::object(), "quick");
  Idle();
  EXPECT_EQ(Record(quick).status, "SUCCEEDED");
}

TEST_F(ExecutorTest, LambdaInvokeTaskRecordsItsEventsAndProcessesTheResult) {
  lambda_.on_start = [](const TaskCall& c) {
    return TaskOutcome::Success({{"StatusCode", 200}, {"Payload", {{"got", c.parameters["Payload"]}}}});
  };
  const json def = {{"StartAt", "T"},
                    {"States",
                     {{"T", {{"Type", "Task"},
                             {"Resource", "arn:aws:states:::lambda:invoke"},
                             {"Parameters", {{"FunctionName", "f"}, {"Payload", {{"k.$", "$.k"}}}}},
                             {"ResultSelector", {{"body.$", "$.Payload.got"}}},
                             {"ResultPath", "$.res"},
                             {"TimeoutSeconds", 30},
                             {"End", true}}}}}};
  const std::string arn = Start(def, {{"k", "v"}});
  Idle();
  EXPECT_EQ(Record(arn).status, "SUCCEEDED");
  EXPECT_EQ(Output(arn), (json{{"k", "v"}, {"res", {{"body", {{"k", "v"}}}}}}));
  EXPECT_EQ(Types(arn), (std::vector<std::string>{"ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted",
                                                  "TaskSucceeded", "TaskStateExited", "ExecutionSucceeded"}));
  auto scheduled = Event(arn, "TaskScheduled");
  EXPECT_EQ(scheduled.details["resourceType"], "lambda");
  EXPECT_EQ(scheduled.details["resource"], "invoke");
  EXPECT_EQ(scheduled.details["region"], "us-east-1");
  EXPECT_EQ(scheduled.details["timeoutInSeconds"], 30);
  EXPECT_EQ(json::parse(scheduled.details["parameters"].get<std::string>()),
            (json{{"FunctionName", "f"}, {"Payload", {{"k", "v"}}}}));
  EXPECT_EQ(scheduled.previous_id, 2);
  auto calls = lambda_.calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].service, "lambda");
  EXPECT_EQ(calls[0].action, "invoke");
  EXPECT_EQ(calls[0].execution_arn, arn);
  EXPECT_EQ(calls[0].state_name, "T");
  EXPECT_EQ(calls[0].timeout_ms, 30000);
  auto succeeded = Event(arn, "TaskSucceeded");
  EXPECT_EQ(json::parse(succeeded.details["output"].get<std::string>())["StatusCode"], 200);
}

TEST_F(ExecutorTest, ABareFunctionArnGetsThePayloadAndLambdaFunctionEvents) {
  lambda_.on_start = [](const TaskCall& c) {
    return TaskOutcome::Success({{"StatusCode", 200}, {"Payload", {{"doubled", c.parameters["Payload"]["n"].get<int>() * 2}}}});
  };
  const json def = {{"StartAt", "T"},
                    {"States", {{"T", {{"Type", "Task"},
                                       {"Resource", "arn:aws:lambda:us-east-1:123456789012:function:double"},
                                       {"End", true}}}}}};
  const std::string arn = Start(def, {{"n", 21}});
  Idle();
  EXPECT_EQ(Output(arn), (json{{"doubled", 42}}));
  EXPECT_EQ(Types(arn), (std::vector<std::string>{"ExecutionStarted", "TaskStateEntered", "LambdaFunctionScheduled",
                                                  "LambdaFunctionStarted", "LambdaFunctionSucceeded", "TaskStateExited",
                                                  "ExecutionSucceeded"}));
  EXPECT_EQ(Event(arn, "LambdaFunctionScheduled").details["resource"],
            "arn:aws:lambda:us-east-1:123456789012:function:double");
  auto calls = lambda_.calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].parameters["FunctionName"], "arn:aws:lambda:us-east-1:123456789012:function:double");
  EXPECT_EQ(calls[0].parameters["Payload"], (json{{"n", 21}}));
}

TEST_F(ExecutorTest, RetryWaitsItsBackoffThenSucceedsAndCountsRetries) {
  std::atomic<int> attempts{0};
  lambda_.on_start = [&](const TaskCall& c) {
    if (++attempts < 3) return TaskOutcome::Failure("Lambda.ServiceException", "try again");
    return TaskOutcome::Success({{"Payload", c.parameters["Payload"]}});
  };
  const json def = {{"StartAt", "T"},
                    {"States",
                     {{"T", {{"Type", "Task"},
                             {"Resource", "arn:aws:states:::lambda:invoke"},
                             {"Parameters", {{"FunctionName", "f"}, {"Payload", {{"retries.$", "$$.State.RetryCount"}}}}},
                             {"Retry", {{{"ErrorEquals", {"Lambda.ServiceException"}}, {"IntervalSeconds", 2},
                                         {"BackoffRate", 3}, {"MaxAttempts", 5}}}},
                             {"OutputPath", "$.Payload"},
                             {"End", true}}}}}};
  const std::string arn = Start(def);
  Idle();
  EXPECT_EQ(attempts.load(), 1);
  clock_.Advance(1999);
  Idle();
  EXPECT_EQ(attempts.load(), 1);
  clock_.Advance(1);  // 2 s: the first retry
  Idle();
  EXPECT_EQ(attempts.load(), 2);
  clock_.Advance(5999);  // the second waits 2 * 3 = 6 s
  Idle();
  EXPECT_EQ(attempts.load(), 2);
  clock_.Advance(1);
  Idle();
  EXPECT_EQ(Record(arn).status, "SUCCEEDED");
  EXPECT_EQ(Output(arn), (json{{"retries", 2}}));
  EXPECT_EQ(Count(arn, "TaskScheduled"), 3);
  EXPECT_EQ(Count(arn, "TaskFailed"), 2);
  EXPECT_EQ(Count(arn, "TaskStateEntered"), 1);
  EXPECT_EQ(Event(arn, "TaskFailed").details["error"], "Lambda.ServiceException");
  EXPECT_EQ(Event(arn, "TaskFailed").details["cause"], "try again");
}

TEST_F(ExecutorTest, MaxDelaySecondsCapsTheBackoff) {
  std::atomic<int> attempts{0};
  lambda_.on_start = [&](const TaskCall&) {
    return ++attempts < 3 ? TaskOutcome::Failure("E", "x") : TaskOutcome::Success(json::object());
  };
  const json def = {{"StartAt", "T"},
                    {"States", {{"T", {{"Type", "Task"},
                                       {"Resource", "arn:aws:states:::lambda:invoke"},
                                       {"Retry", {{{"ErrorEquals", {"States.ALL"}}, {"IntervalSeconds", 10},
                                                   {"BackoffRate", 10}, {"MaxDelaySeconds", 15}}}},
                                       {"End", true}}}}}};
  const std::string arn = Start(def);
  Idle();
  clock_.Advance(10000);
  Idle();
  EXPECT_EQ(attempts.load(), 2);
  clock_.Advance(15000);  // 100 s capped at 15
  Idle();
  EXPECT_EQ(Record(arn).status, "SUCCEEDED");
}

TEST_F(ExecutorTest, CatchPutsTheErrorAtItsResultPathAfterRetriesAreSpent) {
  lambda_.on_start = [](const TaskCall&) { return TaskOutcome::Failure("Custom.Bad", "it broke"); };
  options_.wait_time_scale = 0;
  NewExecutor();
  const json def = {{"StartAt", "T"},
                    {"States",
                     {{"T", {{"Type", "Task"},
                             {"Resource", "arn:aws:states:::lambda:invoke"},
                             {"Retry", {{{"ErrorEquals", {"Custom.Bad"}}, {"MaxAttempts", 2}}}},
                             {"Catch", {{{"ErrorEquals", {"Other"}}, {"Next", "Wrong"}},
                                        {{"ErrorEquals", {"States.ALL"}}, {"ResultPath", "$.error"}, {"Next", "Handled"}}}},
                             {"End", true}}},
                      {"Wrong", {{"Type", "Fail"}}},
                      {"Handled", {{"Type", "Pass"}, {"End", true}}}}}};
  const std::string arn = Start(def, {{"keep", 1}});
  Idle();
  EXPECT_EQ(Record(arn).status, "SUCCEEDED");
  EXPECT_EQ(Output(arn), (json{{"keep", 1}, {"error", {{"Error", "Custom.Bad"}, {"Cause", "it broke"}}}}));
  EXPECT_EQ(lambda_.calls().size(), 3u);
  EXPECT_EQ(Count(arn, "TaskFailed"), 3);
  EXPECT_EQ(Count(arn, "TaskStateExited"), 1);
}

TEST_F(ExecutorTest, AnUncaughtTaskErrorFailsTheExecution) {
  lambda_.on_start = [](const TaskCall&) { return TaskOutcome::Failure("Lambda.Unknown", "gone"); };
  const json def = {{"StartAt", "T"},
                    {"States", {{"T", {{"Type", "Task"}, {"Resource", "arn:aws:states:::lambda:invoke"}, {"End", true}}}}}};
  const std::string arn = Start(def);
  Idle();
  auto rec = Record(arn);
  EXPECT_EQ(rec.status, "FAILED");
  EXPECT_EQ(rec.doc["error"], "Lambda.Unknown");
  EXPECT_EQ(rec.doc["cause"], "gone");
  EXPECT_GT(rec.stop_ms, 0);
  EXPECT_EQ(Types(arn).back(), "ExecutionFailed");
}

TEST_F(ExecutorTest, ATaskWithoutAnIntegrationFailsWithStatesRuntime) {
  const json def = {{"StartAt", "T"},
                    {"States", {{"T", {{"Type", "Task"}, {"Resource", "arn:aws:states:::events:putEvents"},
                                       {"Parameters", {{"Entries", json::array()}}}, {"End", true}}}}}};
  const std::string arn = Start(def);
  Idle();
  EXPECT_EQ(Record(arn).status, "FAILED");
  EXPECT_EQ(Record(arn).doc["error"], "States.Runtime");
}

TEST_F(ExecutorTest, ParallelRunsBranchesAndCollectsTheirOutputsInOrder) {
  const json def = {
      {"StartAt", "P"},
      {"States",
       {{"P", {{"Type", "Parallel"},
               {"Branches", {{{"StartAt", "A"}, {"States", {{"A", {{"Type", "Pass"}, {"Result", 1}, {"End", true}}}}}},
                             {{"StartAt", "B"},
                              {"States", {{"B", {{"Type", "Wait"}, {"Seconds", 1}, {"Next", "B2"}}},
                                          {"B2", {{"Type", "Pass"}, {"InputPath", "$.x"}, {"End", true}}}}}}}},
               {"ResultPath", "$.both"},
               {"End", true}}}}}};
  const std::string arn = Start(def, {{"x", "in"}});
  Idle();
  EXPECT_EQ(Record(arn).status, "RUNNING");
  clock_.Advance(1000);
  Idle();
  EXPECT_EQ(Record(arn).status, "SUCCEEDED");
  EXPECT_EQ(Output(arn), (json{{"x", "in"}, {"both", {1, "in"}}}));
  auto types = Types(arn);
  EXPECT_EQ(types[1], "ParallelStateEntered");
  EXPECT_EQ(types[2], "ParallelStateStarted");
  EXPECT_EQ(Count(arn, "ParallelStateSucceeded"), 1);
  EXPECT_EQ(types[types.size() - 2], "ParallelStateExited");
  // Each branch's first event follows ParallelStateStarted.
  EXPECT_EQ(Event(arn, "PassStateEntered").previous_id, 3);
  EXPECT_EQ(Event(arn, "WaitStateEntered").previous_id, 3);
  EXPECT_TRUE(store_->Frames(arn)->empty());
}

TEST_F(ExecutorTest, AFailingBranchFailsTheParallelStateWhichCanCatchIt) {
  const json def = {
      {"StartAt", "P"},
      {"States",
       {{"P", {{"Type", "Parallel"},
               {"Branches", {{{"StartAt", "W"}, {"States", {{"W", {{"Type", "Wait"}, {"Seconds", 100}, {"End", true}}}}}},
                             {{"StartAt", "F"}, {"States", {{"F", {{"Type", "Fail"}, {"Error", "Branch.Bad"}}}}}}}},
               {"Catch", {{{"ErrorEquals", {"Branch.Bad"}}, {"Next", "Caught"}}}},
               {"End", true}}},
        {"Caught", {{"Type", "Pass"}, {"End", true}}}}}};
  const std::string arn = Start(def);
  Idle();
  EXPECT_EQ(Record(arn).status, "SUCCEEDED");
  EXPECT_EQ(Output(arn)["Error"], "Branch.Bad");
  EXPECT_EQ(Count(arn, "ParallelStateFailed"), 1);
  EXPECT_EQ(Count(arn, "WaitStateExited"), 0);  // the other branch was stopped
  EXPECT_TRUE(store_->Frames(arn)->empty());
}

TEST_F(ExecutorTest, MapRunsEachItemWithItemSelectorAndKeepsOrder) {
  const json def = {
      {"StartAt", "M"},
      {"States",
       {{"M", {{"Type", "Map"},
               {"ItemsPath", "$.items"},
               {"MaxConcurrency", 2},
               {"ItemSelector", {{"i.$", "$$.Map.Item.Index"}, {"v.$", "$$.Map.Item.Value"}, {"tag.$", "$.tag"}}},
               {"ItemProcessor",
                {{"StartAt", "Double"},
                 {"States", {{"Double", {{"Type", "Pass"}, {"Parameters", {{"r.$", "States.MathAdd($.v, $.v)"}, {"i.$", "$.i"}, {"tag.$", "$.tag"}}},
                                         {"End", true}}}}}}},
               {"End", true}}}}}};
  const std::string arn = Start(def, {{"items", {1, 2, 3, 4, 5}}, {"tag", "t"}});
  Idle();
  ASSERT_EQ(Record(arn).status, "SUCCEEDED") << Record(arn).doc.dump();
  json expected = json::array();
  for (int i = 0; i < 5; ++i) expected.push_back({{"r", 2 * (i + 1)}, {"i", i}, {"tag", "t"}});
  EXPECT_EQ(Output(arn), expected);
  EXPECT_EQ(Count(arn, "MapIterationStarted"), 5);
  EXPECT_EQ(Count(arn, "MapIterationSucceeded"), 5);
  EXPECT_EQ(Event(arn, "MapStateStarted").details["length"], 5);
  EXPECT_EQ(Event(arn, "MapIterationStarted", 3).details, (json{{"name", "M"}, {"index", 3}}));
  EXPECT_TRUE(store_->Frames(arn)->empty());
}

TEST_F(ExecutorTest, MapHonoursMaxConcurrency) {
  lambda_.on_start = [](const TaskCall& c) { return TaskOutcome::Success(c.parameters); };
  const json def = {
      {"StartAt", "M"},
      {"States",
       {{"M", {{"Type", "Map"},
               {"MaxConcurrency", 2},
               {"ItemProcessor", {{"StartAt", "W"}, {"States", {{"W", {{"Type", "Wait"}, {"Seconds", 1}, {"End", true}}}}}}},
               {"End", true}}}}}};
  const std::string arn = Start(def, json::array({1, 2, 3, 4, 5}));
  Idle();
  EXPECT_EQ(Count(arn, "MapIterationStarted"), 2);
  clock_.Advance(1000);
  Idle();
  EXPECT_EQ(Count(arn, "MapIterationStarted"), 4);
  clock_.Advance(1000);
  Idle();
  clock_.Advance(1000);
  Idle();
  EXPECT_EQ(Record(arn).status, "SUCCEEDED");
  EXPECT_EQ(Output(arn), json::array({1, 2, 3, 4, 5}));
}

TEST_F(ExecutorTest, MapToleratesFailuresUpToItsThreshold) {
  const json processor = {{"StartAt", "C"},
                          {"States", {{"C", {{"Type", "Choice"},
                                             {"Choices", {{{"Variable", "$"}, {"NumericLessThan", 0}, {"Next", "Bad"}}}},
                                             {"Default", "Good"}}},
                                      {"Bad", {{"Type", "Fail"}, {"Error", "Item.Negative"}, {"Cause", "below zero"}}},
                                      {"Good", {{"Type", "Succeed"}}}}}};
  json def = {{"StartAt", "M"},
              {"States", {{"M", {{"Type", "Map"}, {"ItemProcessor", processor}, {"ToleratedFailureCount", 1}, {"End", true}}}}}};
  const std::string ok = Start(def, json::array({1, -1, 3}), "ok");
  Idle();
  ASSERT_EQ(Record(ok).status, "SUCCEEDED");
  EXPECT_EQ(Output(ok), (json::array({1, {{"Error", "Item.Negative"}, {"Cause", "below zero"}}, 3})));
  EXPECT_EQ(Count(ok, "MapIterationFailed"), 1);

  const std::string over = Start(def, json::array({-1, -2, 3}), "over");
  Idle();
  EXPECT_EQ(Record(over).status, "FAILED");
  EXPECT_EQ(Record(over).doc["error"], "States.ExceedToleratedFailureThreshold");
  EXPECT_EQ(Count(over, "MapStateFailed"), 1);

  def["States"]["M"].erase("ToleratedFailureCount");
  def["States"]["M"]["ToleratedFailurePercentage"] = 50;
  const std::string pct = Start(def, json::array({-1, 2, 3}), "pct");
  Idle();
  EXPECT_EQ(Record(pct).status, "SUCCEEDED");

  def["States"]["M"].erase("ToleratedFailurePercentage");
  const std::string strict = Start(def, json::array({1, -1}), "strict");
  Idle();
  EXPECT_EQ(Record(strict).status, "FAILED");
  EXPECT_EQ(Record(strict).doc["error"], "Item.Negative");
  EXPECT_TRUE(store_->Frames(strict)->empty());
}

TEST_F(ExecutorTest, MapOfNothingAndNestedParallelInMap) {
  const json def = {
      {"StartAt", "M"},
      {"States",
       {{"M", {{"Type", "Map"},
               {"ItemProcessor",
                {{"StartAt", "P"},
                 {"States", {{"P", {{"Type", "Parallel"},
                                    {"Branches", {{{"StartAt", "A"}, {"States", {{"A", {{"Type", "Pass"}, {"End", true}}}}}}}},
                                    {"End", true}}}}}}},
               {"End", true}}}}}};
  const std::string empty = Start(def, json::array(), "empty");
  const std::string nested = Start(def, json::array({"x", "y"}), "nested");
  Idle();
  EXPECT_EQ(Output(empty), json::array());
  EXPECT_EQ(Output(nested), (json::array({json::array({"x"}), json::array({"y"})})));
}

TEST_F(ExecutorTest, StatusChangesArePublishedForEventBridge) {
  const json def = {{"StartAt", "P"}, {"States", {{"P", {{"Type", "Pass"}, {"End", true}}}}}};
  const std::string arn = Start(def, {{"a", 1}});
  Idle();
  auto events = db_->EventsAfter(0, 10);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2u);
  const auto& started = (*events)[0];
  EXPECT_EQ(started.source, "aws.states");
  EXPECT_EQ(started.detail_type, "Step Functions Execution Status Change");
  EXPECT_EQ(started.account, "123456789012");
  EXPECT_EQ(started.region, "us-east-1");
  EXPECT_EQ(started.resources, std::vector<std::string>{arn});
  EXPECT_EQ(started.detail["status"], "RUNNING");
  EXPECT_EQ(started.detail["executionArn"], arn);
  EXPECT_EQ(started.detail["stateMachineArn"], kMachineArn);
  EXPECT_EQ(started.detail["name"], "run");
  EXPECT_EQ(started.detail["input"], "{\"a\":1}");
  EXPECT_TRUE(started.detail["stopDate"].is_null());
  EXPECT_TRUE(started.detail["output"].is_null());
  const auto& ended = (*events)[1];
  EXPECT_EQ(ended.detail["status"], "SUCCEEDED");
  EXPECT_EQ(ended.detail["output"], "{\"a\":1}");
  EXPECT_EQ(ended.detail["outputDetails"]["included"], true);
  EXPECT_TRUE(ended.detail["stopDate"].is_number());
  EXPECT_TRUE(ended.detail.contains("error"));
}

TEST_F(ExecutorTest, ExecutionTimeoutEndsItTimedOut) {
  const json def = {{"StartAt", "W"},
                    {"TimeoutSeconds", 10},
                    {"States", {{"W", {{"Type", "Wait"}, {"Seconds", 100}, {"End", true}}}}}};
  const std::string arn = Start(def);
  Idle();
  clock_.Advance(10000);
  Idle();
  EXPECT_EQ(Record(arn).status, "TIMED_OUT");
  EXPECT_EQ(Types(arn).back(), "ExecutionTimedOut");
  EXPECT_EQ(Record(arn).doc["error"], "States.Timeout");
}

TEST_F(ExecutorTest, StartRefusesADuplicateNameAndInputThatIsNotJson) {
  const json def = {{"StartAt", "P"}, {"States", {{"P", {{"Type", "Pass"}, {"End", true}}}}}};
  Start(def);
  ExecutionStart again;
  again.state_machine_arn = kMachineArn;
  again.execution_arn = ArnOf("run");
  again.name = "run";
  again.definition = def.dump();
  again.machine = Parse(def);
  auto r = executor_->StartExecution(again);
  EXPECT_EQ(r.status().code(), Status::Code::kAlreadyExists);
  again.execution_arn = ArnOf("other");
  again.name = "other";
  again.input = "{not json";
  EXPECT_EQ(executor_->StartExecution(again).status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(store_->Get(ArnOf("other")).status().code(), Status::Code::kNotFound);
}

TEST_F(ExecutorTest, TestStateRunsOneStateAndInspectsEachStep) {
  const json def = {{"StartAt", "T"},
                    {"States",
                     {{"T", {{"Type", "Task"},
                             {"Resource", "arn:aws:states:::lambda:invoke"},
                             {"Parameters", {{"FunctionName", "f"}, {"Payload.$", "$.p"}}},
                             {"ResultSelector", {{"r.$", "$.echo.Payload"}}},
                             {"ResultPath", "$.out"},
                             {"Next", "N"}}},
                      {"N", {{"Type", "Choice"}, {"Choices", {{{"Variable", "$.n"}, {"NumericEquals", 1}, {"Next", "T"}}}},
                             {"Default", "E"}}},
                      {"E", {{"Type", "Succeed"}}}}}};
  auto machine = Parse(def);
  ASSERT_TRUE(machine);
  auto r = executor_->TestState(*machine->Find("T"), R"({"p":{"x":1}})", "123456789012", "us-east-1");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, "SUCCEEDED");
  EXPECT_EQ(json::parse(r->output), (json{{"p", {{"x", 1}}}, {"out", {{"r", {{"x", 1}}}}}}));
  EXPECT_EQ(r->next_state, "N");
  EXPECT_EQ(json::parse(r->inspection_data["afterParameters"].get<std::string>())["Payload"], (json{{"x", 1}}));
  EXPECT_TRUE(r->inspection_data.contains("afterResultSelector"));

  auto choice = executor_->TestState(*machine->Find("N"), R"({"n":1})", "123456789012", "us-east-1");
  ASSERT_TRUE(choice.ok());
  EXPECT_EQ(choice->next_state, "T");

  lambda_.on_start = [](const TaskCall&) { return TaskOutcome::Failure("Boom", "x"); };
  auto failed = executor_->TestState(*machine->Find("T"), R"({"p":1})", "123456789012", "us-east-1");
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ(failed->status, "FAILED");
  EXPECT_EQ(failed->error, "Boom");
  // Nothing was stored.
  EXPECT_TRUE(store_->Running()->empty());
}

TEST_F(ExecutorTest, TestStateFailsAsAnExecutionWouldWithErrorPathAndCausePath) {
  const json def = {{"StartAt", "F"},
                    {"States", {{"F", {{"Type", "Fail"}, {"ErrorPath", "$.kind"},
                                       {"CausePath", "States.Format('bad value {}', $.n)"}}}}}};
  auto machine = Parse(def);
  ASSERT_TRUE(machine);
  auto r = executor_->TestState(*machine->Find("F"), R"({"kind":"E","n":3})", "123456789012", "us-east-1");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, "FAILED");
  EXPECT_EQ(r->error, "E");
  EXPECT_EQ(r->cause, "bad value 3");
  auto missing = executor_->TestState(*machine->Find("F"), R"({"n":3})", "123456789012", "us-east-1");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->error, "States.Runtime");
  EXPECT_NE(missing->cause.find("The JSONPath '$.kind' specified for the field 'ErrorPath'"), std::string::npos)
      << missing->cause;
}

}  // namespace
}  // namespace lathe::states::testing
