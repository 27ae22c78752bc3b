// Step Functions' backend with the real executor and execution store on a temporary lathe.db:
// state machines, executions and their idempotency, history paging both ways, task callbacks,
// tags, the EventBridge target and the states:startExecution integration, and bad input for
// each (hostile names, oversize, forged tokens).
#include "services/states/backend.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "services/states/event_target.h"
#include "services/states/names.h"
#include "services/states/start_execution_integration.h"
#include "test_util.h"

namespace lathe::states {
namespace {

using lathe::testing::TempDir;
using nlohmann::json;

const Scope kScope{"123456789012", "eu-west-1"};
const char* kRole = "arn:aws:iam::123456789012:role/sfn";

// Pass -> Choice -> Succeed: ends at once.
const char* kPassChoice = R"({
  "StartAt": "Start",
  "States": {
    "Start": {"Type": "Pass", "Result": {"ok": true}, "ResultPath": "$.check", "Next": "Decide"},
    "Decide": {"Type": "Choice", "Choices": [{"Variable": "$.check.ok", "BooleanEquals": true, "Next": "Done"}],
               "Default": "Failed"},
    "Done": {"Type": "Succeed"},
    "Failed": {"Type": "Fail", "Error": "Bad", "Cause": "not ok"}
  }
})";

// Waits a day: stays RUNNING for the test's length.
const char* kLongWait = R"({
  "StartAt": "Sleep",
  "States": {"Sleep": {"Type": "Wait", "Seconds": 86400, "End": true}}
})";

template <typename T>
std::string Code(const Result<T>& r) {
  return r.ok() ? "OK" : r.status().aws_code();
}
std::string Code(const Status& s) { return s.ok() ? "OK" : s.aws_code(); }

class StatesBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = store::MetadataStore::Open(dir_.path() + "/lathe.db");
    ASSERT_TRUE(db.ok());
    db_ = std::move(*db);
    auto executions = store::ExecutionStore::Open(db_.get());
    ASSERT_TRUE(executions.ok()) << executions.status().message();
    executions_ = std::move(*executions);
    ExecutorOptions options;
    options.wait_time_scale = 1.0;
    options.sync_poll_ms = 20;
    executor_ = std::make_unique<Executor>(executions_.get(), &integrations_, &clock_, options);
    backend_ = std::make_unique<StatesBackend>(db_.get(), executions_.get(), executor_.get(), &clock_);
    integration_ = std::make_unique<StartExecutionIntegration>(backend_.get());
    integrations_.Add("states", integration_.get());
    ASSERT_TRUE(executor_->Start().ok());
  }
  void TearDown() override { executor_->Stop(); }

  std::string Create(const std::string& name, const std::string& definition) {
    CreateStateMachineInput in;
    in.name = name;
    in.definition = definition;
    in.role_arn = kRole;
    auto m = backend_->CreateStateMachine(kScope, in);
    EXPECT_TRUE(m.ok()) << m.status().message();
    return m.ok() ? m->arn : "";
  }
  Result<StartExecutionResult> Start(const std::string& machine, const std::string& name, const std::string& input) {
    StartExecutionInput in;
    in.state_machine_arn = machine;
    in.name = name;
    in.input = input;
    return backend_->StartExecution(kScope, in);
  }
  // Polls until the execution has ended (the executor runs on its own threads).
  store::ExecutionRecord AwaitEnd(const std::string& arn) {
    for (int i = 0; i < 500; ++i) {
      auto e = backend_->DescribeExecution(kScope, arn);
      if (e.ok() && e->status != "RUNNING") return *e;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ADD_FAILURE() << arn << " still running";
    return {};
  }

  TempDir dir_;
  events::SystemClock clock_;
  std::unique_ptr<store::MetadataStore> db_;
  std::unique_ptr<store::ExecutionStore> executions_;
  IntegrationRegistry integrations_;
  std::unique_ptr<Executor> executor_;
  std::unique_ptr<StatesBackend> backend_;
  std::unique_ptr<StartExecutionIntegration> integration_;
};

TEST_F(StatesBackendTest, StateMachinesAreCreatedDescribedListedUpdatedAndDeleted) {
  const std::string arn = Create("pipeline", kPassChoice);
  EXPECT_EQ(arn, "arn:aws:states:eu-west-1:123456789012:stateMachine:pipeline");
  auto m = backend_->DescribeStateMachine(kScope, arn);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->name, "pipeline");
  EXPECT_EQ(m->definition, kPassChoice);
  EXPECT_EQ(m->role_arn, kRole);
  EXPECT_EQ(m->type, "STANDARD");
  EXPECT_EQ(m->status, "ACTIVE");
  const std::string revision = m->revision_id;

  // The same request again answers the same machine, as AWS does; another definition does not.
  CreateStateMachineInput again{"pipeline", kPassChoice, kRole};
  auto repeat = backend_->CreateStateMachine(kScope, again);
  ASSERT_TRUE(repeat.ok());
  EXPECT_EQ(repeat->arn, arn);
  EXPECT_EQ(repeat->created_ms, m->created_ms);
  again.definition = kLongWait;
  EXPECT_EQ(Code(backend_->CreateStateMachine(kScope, again)), "StateMachineAlreadyExists");
  again.definition = kPassChoice;
  again.role_arn = "arn:aws:iam::123456789012:role/other";
  EXPECT_EQ(Code(backend_->CreateStateMachine(kScope, again)), "StateMachineAlreadyExists");

  UpdateStateMachineInput update;
  update.arn = arn;
  update.definition = kLongWait;
  auto updated = backend_->UpdateStateMachine(kScope, update);
  ASSERT_TRUE(updated.ok()) << updated.status().message();
  EXPECT_NE(updated->revision_id, revision);
  EXPECT_EQ(backend_->DescribeStateMachine(kScope, arn)->definition, kLongWait);
  EXPECT_EQ(Code(backend_->UpdateStateMachine(kScope, UpdateStateMachineInput{arn})), "MissingRequiredParameter");
  update.definition = R"({"StartAt": "Nowhere", "States": {}})";
  EXPECT_EQ(Code(backend_->UpdateStateMachine(kScope, update)), "InvalidDefinition");

  ASSERT_TRUE(backend_->DeleteStateMachine(kScope, arn).ok());
  EXPECT_EQ(Code(backend_->DescribeStateMachine(kScope, arn)), "StateMachineDoesNotExist");
  EXPECT_TRUE(backend_->DeleteStateMachine(kScope, arn).ok());  // as AWS: no error
  // Another region or account sees nothing.
  Create("pipeline", kPassChoice);
  EXPECT_EQ(Code(backend_->DescribeStateMachine(Scope{"123456789012", "us-east-1"}, arn)), "StateMachineDoesNotExist");
}

TEST_F(StatesBackendTest, CreateRefusesWhatAwsRefuses) {
  CreateStateMachineInput in{"m", kPassChoice, kRole};
  in.type = "EXPRESS";
  auto express = backend_->CreateStateMachine(kScope, in);
  EXPECT_EQ(Code(express), "StateMachineTypeNotSupported");
  EXPECT_NE(express.status().message().find("STANDARD"), std::string::npos);
  in.type = "FAST";
  EXPECT_EQ(Code(backend_->CreateStateMachine(kScope, in)), "ValidationException");
  in.type = "";
  for (const std::string& bad : {std::string(""), std::string(81, 'a'), std::string("a b"), std::string("a/b"),
                                 std::string("a:b"), std::string("<x>"), std::string("x*"), std::string("tab\t"),
                                 std::string("nul\0x", 5), std::string("c1\xC2\x85")}) {
    in.name = bad;
    EXPECT_EQ(Code(backend_->CreateStateMachine(kScope, in)), "InvalidName") << bad;
  }
  in.name = std::string(80, 'a');
  EXPECT_EQ(Code(backend_->CreateStateMachine(kScope, in)), "OK");
  in.name = "unicode-\xC3\xA9t\xC3\xA9";  // characters, not bytes, count
  EXPECT_EQ(Code(backend_->CreateStateMachine(kScope, in)), "OK");
  in.name = "m";
  in.role_arn = "not-an-arn";
  EXPECT_EQ(Code(backend_->CreateStateMachine(kScope, in)), "InvalidArn");
  in.role_arn = std::string(300, 'r');
  EXPECT_EQ(Code(backend_->CreateStateMachine(kScope, in)), "ValidationException");
  in.role_arn = kRole;
  in.definition = "{not json";
  auto invalid = backend_->CreateStateMachine(kScope, in);
  EXPECT_EQ(Code(invalid), "InvalidDefinition");
  EXPECT_EQ(invalid.status().message().rfind("Invalid State Machine Definition", 0), 0u) << invalid.status().message();
  in.definition = R"({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Missing"}}})";
  EXPECT_EQ(Code(backend_->CreateStateMachine(kScope, in)), "InvalidDefinition");
  in.definition = std::string(asl::kMaxDefinitionBytes + 1, ' ');
  EXPECT_EQ(Code(backend_->CreateStateMachine(kScope, in)), "ValidationException");
  in.definition = kPassChoice;
  for (int i = 0; i < 51; ++i) in.tags.push_back({"k" + std::to_string(i), "v"});
  EXPECT_EQ(Code(backend_->CreateStateMachine(kScope, in)), "TooManyTags");
}

TEST_F(StatesBackendTest, ValidateAnswersDiagnosticsTruncatedByMaxResults) {
  auto ok = backend_->ValidateStateMachineDefinition(kPassChoice, "", "", 0);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->result, "OK");
  EXPECT_TRUE(ok->diagnostics.empty());
  const char* two_errors = R"({"StartAt": "A", "States": {
      "A": {"Type": "Pass", "Next": "Missing1"}, "B": {"Type": "Pass", "Next": "Missing2"}}})";
  auto all = backend_->ValidateStateMachineDefinition(two_errors, "", "", 0);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->result, "FAIL");
  ASSERT_GE(all->diagnostics.size(), 2u);
  EXPECT_FALSE(all->truncated);
  for (const auto& d : all->diagnostics) EXPECT_EQ(d.severity, "ERROR");
  auto one = backend_->ValidateStateMachineDefinition(two_errors, "", "", 1);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->result, "FAIL");
  EXPECT_EQ(one->diagnostics.size(), 1u);
  EXPECT_TRUE(one->truncated);
  EXPECT_EQ(Code(backend_->ValidateStateMachineDefinition(kPassChoice, "", "", 101)), "ValidationException");
  EXPECT_EQ(Code(backend_->ValidateStateMachineDefinition(kPassChoice, "", "FATAL", 0)), "ValidationException");
  EXPECT_EQ(Code(backend_->ValidateStateMachineDefinition("", "", "", 0)), "ValidationException");
}

TEST_F(StatesBackendTest, ListsPageByNameAndRefuseForgedTokens) {
  for (const char* n : {"e", "b", "d", "a", "c"}) Create(n, kPassChoice);
  std::vector<std::string> names;
  PageRequest page;
  page.limit = 2;
  for (int i = 0; i < 5; ++i) {
    auto p = backend_->ListStateMachines(kScope, page);
    ASSERT_TRUE(p.ok());
    for (const auto& m : p->items) names.push_back(m.name);
    if (p->next_token.empty()) break;
    page.next_token = p->next_token;
  }
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b", "c", "d", "e"}));
  page.next_token = "forged";
  EXPECT_EQ(Code(backend_->ListStateMachines(kScope, page)), "InvalidToken");
}

TEST_F(StatesBackendTest, AnExecutionRunsToSucceededWithItsHistory) {
  const std::string machine = Create("pass-choice", kPassChoice);
  auto started = Start(machine, "run-1", R"({"n": 1})");
  ASSERT_TRUE(started.ok()) << started.status().message();
  EXPECT_EQ(started->execution_arn, "arn:aws:states:eu-west-1:123456789012:execution:pass-choice:run-1");
  store::ExecutionRecord done = AwaitEnd(started->execution_arn);
  EXPECT_EQ(done.status, "SUCCEEDED");
  EXPECT_GE(done.stop_ms, done.start_ms);

  // History: forward pages of 2 and reverse pages of 3 read the same events.
  HistoryRequest forward;
  forward.page.limit = 2;
  std::vector<int64_t> ids;
  std::vector<std::string> types;
  for (int i = 0; i < 50; ++i) {
    auto p = backend_->GetExecutionHistory(kScope, started->execution_arn, forward);
    ASSERT_TRUE(p.ok());
    for (const auto& e : p->items) {
      ids.push_back(e.id);
      types.push_back(e.type);
    }
    if (p->next_token.empty()) break;
    forward.page.next_token = p->next_token;
  }
  ASSERT_GE(ids.size(), 4u);
  EXPECT_EQ(types.front(), "ExecutionStarted");
  EXPECT_EQ(types.back(), "ExecutionSucceeded");
  for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(ids[i], static_cast<int64_t>(i + 1));
  HistoryRequest reverse;
  reverse.reverse = true;
  reverse.page.limit = 3;
  std::vector<int64_t> back;
  for (int i = 0; i < 50; ++i) {
    auto p = backend_->GetExecutionHistory(kScope, started->execution_arn, reverse);
    ASSERT_TRUE(p.ok());
    for (const auto& e : p->items) back.push_back(e.id);
    if (p->next_token.empty()) break;
    reverse.page.next_token = p->next_token;
  }
  std::reverse(back.begin(), back.end());
  EXPECT_EQ(back, ids);
  // A forward token is not a reverse one, and a made-up one is refused.
  forward.page.next_token = "";
  auto first = backend_->GetExecutionHistory(kScope, started->execution_arn, forward);
  ASSERT_TRUE(first.ok());
  reverse.page.next_token = first->next_token;
  EXPECT_EQ(Code(backend_->GetExecutionHistory(kScope, started->execution_arn, reverse)), "InvalidToken");
  forward.page.next_token = "AAAA";
  EXPECT_EQ(Code(backend_->GetExecutionHistory(kScope, started->execution_arn, forward)), "InvalidToken");
}

TEST_F(StatesBackendTest, StartExecutionIsIdempotentPerNameWhileRunning) {
  const std::string machine = Create("sleeper", kLongWait);
  auto first = Start(machine, "nightly", R"({"day": 1})");
  ASSERT_TRUE(first.ok()) << first.status().message();
  auto same = Start(machine, "nightly", R"({ "day" : 1 })");  // the same JSON, spelled otherwise
  ASSERT_TRUE(same.ok()) << same.status().message();
  EXPECT_EQ(same->execution_arn, first->execution_arn);
  EXPECT_EQ(same->start_ms, first->start_ms);
  EXPECT_EQ(Code(Start(machine, "nightly", R"({"day": 2})")), "ExecutionAlreadyExists");
  // A generated name when none is given: a fresh execution each time.
  auto a = Start(machine, "", "{}");
  auto b = Start(machine, "", "{}");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->execution_arn, b->execution_arn);

  auto stopped = backend_->StopExecution(kScope, first->execution_arn, "Manual", "stopped by the test");
  ASSERT_TRUE(stopped.ok()) << stopped.status().message();
  auto aborted = backend_->DescribeExecution(kScope, first->execution_arn);
  ASSERT_TRUE(aborted.ok());
  EXPECT_EQ(aborted->status, "ABORTED");
  // Closed: the same name and input are ExecutionAlreadyExists now, as AWS answers.
  EXPECT_EQ(Code(Start(machine, "nightly", R"({"day": 1})")), "ExecutionAlreadyExists");
  // Stopping again answers the same stop date.
  auto again = backend_->StopExecution(kScope, first->execution_arn, "", "");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *stopped);
}

TEST_F(StatesBackendTest, StartExecutionRefusesBadInput) {
  const std::string machine = Create("m", kLongWait);
  EXPECT_EQ(Code(Start(machine, "a b", "{}")), "InvalidName");
  EXPECT_EQ(Code(Start(machine, std::string(81, 'x'), "{}")), "InvalidName");
  EXPECT_EQ(Code(Start(machine, "x", "{not json")), "InvalidExecutionInput");
  EXPECT_EQ(Code(Start(machine, "x", std::string(10000, '[') + std::string(10000, ']'))), "InvalidExecutionInput");
  std::string big = "\"" + std::string(asl::kMaxPayloadBytes, 'x') + "\"";
  EXPECT_EQ(Code(Start(machine, "x", big)), "ValidationException");
  std::string fits = "\"" + std::string(asl::kMaxPayloadBytes - 2, 'x') + "\"";
  EXPECT_EQ(Code(Start(machine, "fits", fits)), "OK");
  EXPECT_EQ(Code(Start("arn:aws:states:eu-west-1:123456789012:stateMachine:nope", "x", "{}")),
            "StateMachineDoesNotExist");
  EXPECT_EQ(Code(Start("not an arn", "x", "{}")), "InvalidArn");
  EXPECT_EQ(Code(Start("arn:aws:states:eu-west-1:123456789012:execution:m:x", "x", "{}")), "InvalidArn");
  EXPECT_EQ(Code(backend_->DescribeExecution(kScope, "arn:aws:states:eu-west-1:123456789012:execution:m:none")),
            "ExecutionDoesNotExist");
  EXPECT_EQ(Code(backend_->DescribeExecution(kScope, std::string(5000, 'a'))), "InvalidArn");
}

TEST_F(StatesBackendTest, ListExecutionsFiltersByStatusAndPages) {
  const std::string machine = Create("sleeper", kLongWait);
  std::set<std::string> all;
  for (int i = 0; i < 5; ++i) {
    auto s = Start(machine, "e" + std::to_string(i), "{}");
    ASSERT_TRUE(s.ok());
    all.insert(s->execution_arn);
  }
  ASSERT_TRUE(backend_->StopExecution(kScope, *all.begin(), "", "").ok());
  PageRequest page;
  page.limit = 2;
  std::set<std::string> seen;
  for (int i = 0; i < 10; ++i) {
    auto p = backend_->ListExecutions(kScope, machine, "", page);
    ASSERT_TRUE(p.ok()) << p.status().message();
    EXPECT_LE(p->items.size(), 2u);
    for (const auto& e : p->items) EXPECT_TRUE(seen.insert(e.arn).second) << e.arn;
    if (p->next_token.empty()) break;
    page.next_token = p->next_token;
  }
  EXPECT_EQ(seen, all);
  auto aborted = backend_->ListExecutions(kScope, machine, "ABORTED", PageRequest{});
  ASSERT_TRUE(aborted.ok());
  ASSERT_EQ(aborted->items.size(), 1u);
  EXPECT_EQ(aborted->items[0].arn, *all.begin());
  EXPECT_EQ(backend_->ListExecutions(kScope, machine, "RUNNING", PageRequest{})->items.size(), 4u);
  EXPECT_EQ(Code(backend_->ListExecutions(kScope, machine, "SLEEPING", PageRequest{})), "ValidationException");
  EXPECT_EQ(Code(backend_->ListExecutions(kScope, "", "", PageRequest{})), "ValidationException");
  PageRequest forged;
  forged.next_token = "bm90IGEgdG9rZW4";
  EXPECT_EQ(Code(backend_->ListExecutions(kScope, machine, "", forged)), "InvalidToken");
  // A token of the unfiltered list is not one of the filtered list.
  page.next_token = "";
  auto first = backend_->ListExecutions(kScope, machine, "", page);
  forged.next_token = first->next_token;
  EXPECT_EQ(Code(backend_->ListExecutions(kScope, machine, "RUNNING", forged)), "InvalidToken");
}

TEST_F(StatesBackendTest, DeleteStopsRunningExecutionsAndExecutionsKeepTheirDefinition) {
  const std::string machine = Create("sleeper", kLongWait);
  auto run = Start(machine, "r", "{}");
  ASSERT_TRUE(run.ok());
  UpdateStateMachineInput update;
  update.arn = machine;
  update.definition = kPassChoice;
  ASSERT_TRUE(backend_->UpdateStateMachine(kScope, update).ok());
  auto for_execution = backend_->DescribeStateMachineForExecution(kScope, run->execution_arn);
  ASSERT_TRUE(for_execution.ok()) << for_execution.status().message();
  EXPECT_EQ(for_execution->definition, kLongWait);  // what it runs, not the update
  EXPECT_EQ(for_execution->name, "sleeper");

  ASSERT_TRUE(backend_->DeleteStateMachine(kScope, machine).ok());
  EXPECT_EQ(backend_->DescribeExecution(kScope, run->execution_arn)->status, "ABORTED");
  EXPECT_EQ(Code(Start(machine, "after", "{}")), "StateMachineDoesNotExist");
}

TEST_F(StatesBackendTest, TaskCallbacksRefuseForgedAndOversizeTokens) {
  EXPECT_EQ(Code(backend_->SendTaskSuccess("forged-token", "{}")), "TaskDoesNotExist");
  EXPECT_EQ(Code(backend_->SendTaskFailure("forged-token", "E", "c")), "TaskDoesNotExist");
  EXPECT_EQ(Code(backend_->SendTaskHeartbeat("forged-token")), "TaskDoesNotExist");
  EXPECT_EQ(Code(backend_->SendTaskSuccess(std::string(3000, 't'), "{}")), "ValidationException");
  EXPECT_EQ(Code(backend_->SendTaskHeartbeat("")), "ValidationException");
  EXPECT_EQ(Code(backend_->SendTaskSuccess("t", "{oops")), "InvalidOutput");
  EXPECT_EQ(Code(backend_->SendTaskFailure("t", std::string(300, 'e'), "")), "ValidationException");
}

TEST_F(StatesBackendTest, TagsOfStateMachines) {
  const std::string arn = Create("tagged", kPassChoice);
  ASSERT_TRUE(backend_->TagResource(kScope, arn, {{"team", "ml"}, {"env", "dev"}}).ok());
  ASSERT_TRUE(backend_->UntagResource(kScope, arn, {"env"}).ok());
  auto tags = backend_->ListTagsForResource(kScope, arn);
  ASSERT_TRUE(tags.ok());
  ASSERT_EQ(tags->size(), 1u);
  EXPECT_EQ((*tags)[0].key, "team");
  std::vector<Tag> many;
  for (int i = 0; i < 50; ++i) many.push_back({"k" + std::to_string(i), "v"});
  EXPECT_EQ(Code(backend_->TagResource(kScope, arn, many)), "TooManyTags");  // 1 + 50 > 50
  EXPECT_EQ(Code(backend_->TagResource(kScope, arn, {{"", "v"}})), "ValidationException");
  const std::string missing = "arn:aws:states:eu-west-1:123456789012:stateMachine:missing";
  EXPECT_EQ(Code(backend_->ListTagsForResource(kScope, missing)), "ResourceNotFound");
  EXPECT_EQ(Code(backend_->TagResource(kScope, "arn:aws:sns:eu-west-1:1:t", {{"a", "b"}})), "InvalidArn");
}

TEST_F(StatesBackendTest, EventBridgeDeliveriesStartOneExecutionPerEventAndRule) {
  const std::string machine = Create("on-upload", kPassChoice);
  StatesTargetDeliverer target(backend_.get());
  EXPECT_TRUE(target.Exists(machine));
  EXPECT_FALSE(target.Exists("arn:aws:states:eu-west-1:123456789012:stateMachine:none"));
  EXPECT_FALSE(target.Exists("garbage"));
  events::Delivery d;
  d.target_arn = machine;
  d.input = R"({"detail": {"object": {"key": "training-data/a.jsonl"}}})";
  d.rule_arn = "arn:aws:events:eu-west-1:123456789012:rule/r";
  d.event_id = "0b7f1c8e-1111-2222-3333-444455556666";
  ASSERT_TRUE(target.Deliver(d).ok());
  ASSERT_TRUE(target.Deliver(d).ok());  // a redelivery starts nothing new
  d.rule_arn = "arn:aws:events:eu-west-1:123456789012:rule/other";
  ASSERT_TRUE(target.Deliver(d).ok());
  auto list = backend_->ListExecutions(kScope, machine, "", PageRequest{});
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->items.size(), 2u);
  for (const auto& e : list->items) EXPECT_EQ(CheckName(e.name).aws_code(), "") << e.name;
  d.input = "not json";
  d.event_id = "another";
  EXPECT_EQ(Code(target.Deliver(d)), "InvalidExecutionInput");
  d.target_arn = "arn:aws:states:eu-west-1:123456789012:stateMachine:gone";
  EXPECT_EQ(Code(target.Deliver(d)), "StateMachineDoesNotExist");
}

TEST_F(StatesBackendTest, StartExecutionIntegrationStartsAndWaitsForAChild) {
  const std::string child = Create("child", kPassChoice);
  TaskCall call;
  call.resource = "arn:aws:states:::states:startExecution.sync:2";
  call.service = "states";
  call.action = "startExecution";
  call.pattern = "sync:2";
  call.parameters = {{"StateMachineArn", child}, {"Input", {{"x", 1}}}, {"Name", "child-run"}};
  call.execution_arn = "arn:aws:states:eu-west-1:123456789012:execution:parent:p";
  call.account = kScope.account;
  call.region = kScope.region;
  EXPECT_TRUE(integration_->Supports("startExecution", "sync:2"));
  EXPECT_FALSE(integration_->Supports("startExecution", "waitForTaskToken"));
  TaskOutcome started = integration_->Start(call);
  ASSERT_TRUE(started.ok) << started.error << ": " << started.cause;
  EXPECT_EQ(started.result["ExecutionArn"], "arn:aws:states:eu-west-1:123456789012:execution:child:child-run");
  AwaitEnd(started.result["ExecutionArn"]);
  auto child_run = backend_->DescribeExecution(kScope, started.result["ExecutionArn"]);
  EXPECT_EQ(child_run->parent_arn, call.execution_arn);
  std::optional<TaskOutcome> ended = integration_->Poll(call, started.result);
  ASSERT_TRUE(ended.has_value());
  ASSERT_TRUE(ended->ok) << ended->cause;
  EXPECT_EQ(ended->result["Status"], "SUCCEEDED");
  EXPECT_EQ(ended->result["Output"]["x"], 1);  // .sync:2: JSON
  EXPECT_EQ(ended->result["Output"]["check"]["ok"], true);
  call.pattern = "sync";
  ended = integration_->Poll(call, started.result);
  ASSERT_TRUE(ended.has_value() && ended->ok);
  EXPECT_TRUE(ended->result["Output"].is_string());  // .sync: JSON text
  // A machine that does not exist fails the state with the API's error.
  call.parameters["StateMachineArn"] = "arn:aws:states:eu-west-1:123456789012:stateMachine:none";
  TaskOutcome failed = integration_->Start(call);
  EXPECT_FALSE(failed.ok);
  EXPECT_EQ(failed.error, "StepFunctions.StateMachineDoesNotExist");
}

}  // namespace
}  // namespace lathe::states
