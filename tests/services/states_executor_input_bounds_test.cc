// What an execution builds from untrusted input stays bounded: nesting grown one level per loop,
// a task's oversized or deeply nested answer, causes quoting megabytes, and times in seconds that
// would overflow once turned into milliseconds.
#include "states_executor_fixture.h"

namespace lathe::states::testing {
namespace {

const json kTask = {{"Type", "Task"}, {"Resource", "arn:aws:states:::lambda:invoke"}, {"End", true}};

json OneTask(const json& task = kTask) { return {{"StartAt", "T"}, {"States", {{"T", task}}}}; }

json Nested(int depth) {
  json v = json::object();
  for (int i = 1; i < depth; ++i) v = json{{"x", std::move(v)}};
  return v;
}

TEST_F(ExecutorTest, NestingGrownByALoopFailsWithDataLimitExceededAtTheBound) {
  // Each pass wraps the input one level deeper; 256 KiB would hold ~43,000 levels, enough to
  // overflow the stack in the recursive dump. The depth check stops it at 128.
  const json def = {
      {"StartAt", "Wrap"},
      {"States",
       {{"Wrap", {{"Type", "Pass"}, {"Parameters", {{"x.$", "$"}}}, {"Next", "Again"}}},
        {"Again",
         {{"Type", "Choice"},
          {"Choices", {{{"Variable", "$.never"}, {"IsPresent", true}, {"Next", "Done"}}}},
          {"Default", "Wrap"}}},
        {"Done", {{"Type", "Succeed"}}}}}};
  const std::string arn = Start(def);
  Idle();
  auto rec = Record(arn);
  EXPECT_EQ(rec.status, "FAILED");
  EXPECT_EQ(rec.doc["error"], "States.DataLimitExceeded");
  EXPECT_NE(rec.doc.value("cause", "").find("128 levels"), std::string::npos) << rec.doc.value("cause", "");
  EXPECT_EQ(Count(arn, "PassStateExited"), 127);  // {} is 1 level; the 128th wrap is the one refused
}

TEST_F(ExecutorTest, ATaskAnswerTooDeepOrTooLargeFailsTheTaskBeforeHistoryRecordsIt) {
  for (const json& answer : {Nested(5000), json{{"s", std::string(300 * 1024, 'x')}}}) {
    lambda_.on_start = [answer](const TaskCall&) { return TaskOutcome::Success(answer); };
    const std::string arn = Start(OneTask(), json::object(), "run" + std::to_string(answer.is_object() ? answer.size() : 0) +
                                                               std::to_string(answer.contains("s")));
    Idle();
    auto rec = Record(arn);
    EXPECT_EQ(rec.status, "FAILED");
    EXPECT_EQ(rec.doc["error"], "States.DataLimitExceeded");
    EXPECT_EQ(Count(arn, "TaskSucceeded"), 0);
    EXPECT_EQ(Event(arn, "TaskFailed").details["error"], "States.DataLimitExceeded");
  }
  // States.ALL does not catch it (AWS: a terminal error).
  json task = kTask;
  task["Catch"] = {{{"ErrorEquals", {"States.ALL"}}, {"Next", "C"}}};
  json def = OneTask(task);
  def["States"]["C"] = {{"Type", "Succeed"}};
  lambda_.on_start = [](const TaskCall&) { return TaskOutcome::Success(Nested(200)); };
  const std::string arn = Start(def, json::object(), "caught");
  Idle();
  EXPECT_EQ(Record(arn).status, "FAILED");
}

TEST_F(ExecutorTest, CausesAreClippedToAwsBoundAtACharacterBoundary) {
  std::string euros;
  for (int i = 0; i < 40000; ++i) euros += "\xe2\x82\xac";  // 120,000 bytes
  lambda_.on_start = [euros](const TaskCall&) { return TaskOutcome::Failure("Boom", euros); };
  const std::string arn = Start(OneTask());
  Idle();
  auto rec = Record(arn);
  EXPECT_EQ(rec.status, "FAILED");
  const std::string cause = rec.doc.value("cause", "");
  EXPECT_LE(cause.size(), asl::kMaxCauseBytes);
  EXPECT_GT(cause.size(), asl::kMaxCauseBytes - 8);
  EXPECT_EQ(cause.substr(cause.size() - 3), "...");
  EXPECT_NO_THROW((void)json(cause).dump());  // still valid UTF-8
  EXPECT_LE(Event(arn, "TaskFailed").details.value("cause", "").size(), asl::kMaxCauseBytes);

  // A Choice that matches nothing quotes its input, clipped.
  const json choice = {{"StartAt", "C"},
                       {"States",
                        {{"C", {{"Type", "Choice"}, {"Choices", {{{"Variable", "$.n"}, {"NumericEquals", 1}, {"Next", "D"}}}}}},
                         {"D", {{"Type", "Succeed"}}}}}};
  const std::string arn2 = Start(choice, {{"n", 2}, {"pad", std::string(200 * 1024, 'p')}}, "choice");
  Idle();
  auto rec2 = Record(arn2);
  EXPECT_EQ(rec2.doc["error"], "States.NoChoiceMatched");
  EXPECT_LT(rec2.doc.value("cause", "").size(), 2048u);
  EXPECT_EQ(rec2.doc.value("cause", "").rfind("No Matches! in the Choice state 'C' for input {", 0), 0u);
}

TEST_F(ExecutorTest, ACatchWhoseErrorPassesTheOutputBoundFailsWithDataLimitExceeded) {
  // 250 KiB of input plus a 32 KiB cause at $.e: over 256 KiB once the Catch places it.
  lambda_.on_start = [](const TaskCall&) { return TaskOutcome::Failure("Boom", std::string(40000, 'c')); };
  json task = kTask;
  task["Catch"] = {{{"ErrorEquals", {"Boom"}}, {"ResultPath", "$.e"}, {"Next", "C"}}};
  json def = OneTask(task);
  def["States"]["C"] = {{"Type", "Succeed"}};
  const std::string arn = Start(def, {{"pad", std::string(250 * 1024, 'p')}});
  Idle();
  auto rec = Record(arn);
  EXPECT_EQ(rec.status, "FAILED");
  EXPECT_EQ(rec.doc["error"], "States.DataLimitExceeded");
  // Under the bound, the clipped cause is what the Catch places.
  const std::string arn2 = Start(def, {{"pad", "small"}}, "small");
  Idle();
  EXPECT_EQ(Record(arn2).status, "SUCCEEDED");
  EXPECT_EQ(Output(arn2)["e"]["Cause"].get<std::string>().size(), asl::kMaxCauseBytes);
}

TEST_F(ExecutorTest, TimesFromPathsOverTheBoundFailWithStatesRuntime) {
  json task = kTask;
  task["TimeoutSecondsPath"] = "$.t";
  const std::string arn = Start(OneTask(task), {{"t", 9223372036854775807LL}}, "timeout");
  json hb = kTask;
  hb["Resource"] = "arn:aws:states:::lambda:invoke.waitForTaskToken";
  hb["HeartbeatSecondsPath"] = "$.h";
  const std::string arn2 = Start(OneTask(hb), {{"h", 18446744073709551615ULL}}, "heartbeat");
  const json wait = {{"StartAt", "W"}, {"States", {{"W", {{"Type", "Wait"}, {"SecondsPath", "$.s"}, {"End", true}}}}}};
  const std::string arn3 = Start(wait, {{"s", asl::kMaxSeconds + 1}}, "wait");
  Idle();
  for (const std::string& a : {arn, arn2, arn3}) {
    auto rec = Record(a);
    EXPECT_EQ(rec.status, "FAILED") << a;
    EXPECT_EQ(rec.doc["error"], "States.Runtime") << a;
    EXPECT_NE(rec.doc.value("cause", "").find("greater than 99999999"), std::string::npos) << rec.doc.value("cause", "");
  }
  EXPECT_TRUE(lambda_.calls().empty());
}

TEST_F(ExecutorTest, ARetryBackoffThatOverflowsWaitsTheCapInsteadOfWrapping) {
  // IntervalSeconds 99999999 times BackoffRate 1e308 is inf: the wait is capped, never negative.
  lambda_.on_start = [](const TaskCall&) { return TaskOutcome::Failure("Boom", ""); };
  json task = kTask;
  task["Retry"] = {{{"ErrorEquals", {"Boom"}}, {"IntervalSeconds", asl::kMaxSeconds}, {"BackoffRate", 1e308},
                    {"MaxAttempts", 3}}};
  const std::string arn = Start(OneTask(task));
  Idle();
  ASSERT_TRUE(lambda_.WaitForCalls(1));
  clock_.Advance(asl::kMaxSeconds * 1000 + 1);
  Idle();
  ASSERT_TRUE(lambda_.WaitForCalls(2));
  Idle();
  clock_.Advance(int64_t{1} << 40);  // ~35 years: still inside the capped wait
  Idle();
  EXPECT_EQ(Record(arn).status, "RUNNING");
  EXPECT_EQ(lambda_.calls().size(), 2u);
}

}  // namespace
}  // namespace lathe::states::testing
