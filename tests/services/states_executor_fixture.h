// The Step Functions executor under test: a temporary lathe.db, a fake clock that tests move, and
// fake task integrations whose answers each test chooses.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "asl/definition.h"
#include "services/events/clock.h"
#include "services/states/executor.h"
#include "services/states/history_events.h"
#include "store/execution_store.h"
#include "test_util.h"

namespace lathe::states::testing {

using nlohmann::json;

class StatesFakeClock : public events::Clock {
 public:
  int64_t NowMs() override { return now_.load(); }
  void Advance(int64_t ms) { now_ += ms; }

 private:
  std::atomic<int64_t> now_{1'700'000'000'000};
};

// One integration for a service; each test sets what Start and Poll answer.
class FakeIntegration : public TaskIntegration {
 public:
  std::function<TaskOutcome(const TaskCall&)> on_start = [](const TaskCall& c) {
    return TaskOutcome::Success({{"echo", c.parameters}});
  };
  std::function<std::optional<TaskOutcome>(const TaskCall&, const json&)> on_poll;
  bool Supports(const std::string& action, const std::string& pattern) const override {
    (void)action;
    (void)pattern;
    return true;
  }
  TaskOutcome Start(const TaskCall& call) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      calls_.push_back(call);
    }
    cv_.notify_all();
    return on_start(call);
  }
  std::optional<TaskOutcome> Poll(const TaskCall& call, const json& started) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++polls_;
    }
    return on_poll ? on_poll(call, started) : std::optional<TaskOutcome>(TaskOutcome::Success(started));
  }
  void Cancel(const TaskCall& call, const json& started) override {
    (void)call;
    (void)started;
    std::lock_guard<std::mutex> lock(mu_);
    ++cancels_;
  }
  std::vector<TaskCall> calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  int polls() {
    std::lock_guard<std::mutex> lock(mu_);
    return polls_;
  }
  int cancels() {
    std::lock_guard<std::mutex> lock(mu_);
    return cancels_;
  }
  // Blocks until Start has been called `n` times (false after 10 s).
  bool WaitForCalls(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return calls_.size() >= n; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<TaskCall> calls_;
  int polls_ = 0, cancels_ = 0;
};

class ExecutorTest : public ::testing::Test {
 protected:
  static constexpr const char* kMachineArn = "arn:aws:states:us-east-1:123456789012:stateMachine:m";

  void SetUp() override {
    auto db = store::MetadataStore::Open(dir_.File("lathe.db"));
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    auto s = store::ExecutionStore::Open(db_.get());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    registry_.Add("lambda", &lambda_);
    registry_.Add("sns", &sns_);
    registry_.Add("bedrock", &bedrock_);
    options_.wait_time_scale = 1.0;
    options_.task_threads = 2;
    options_.sync_poll_ms = 5000;
    NewExecutor();
  }
  void TearDown() override { executor_.reset(); }

  void NewExecutor() {
    executor_.reset();
    executor_ = std::make_unique<Executor>(store_.get(), &registry_, &clock_, options_);
    Status s = executor_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  static std::shared_ptr<const asl::StateMachine> Parse(const json& definition) {
    asl::ParsedDefinition parsed = asl::ParseDefinition(definition.dump());
    std::string problems;
    for (const auto& d : parsed.diagnostics) problems += d.code + " " + d.message + " at " + d.location + "\n";
    EXPECT_TRUE(parsed.machine) << problems;
    return parsed.machine;
  }

  std::string ArnOf(const std::string& name) const {
    return "arn:aws:states:us-east-1:123456789012:execution:m:" + name;
  }

  // Starts `definition` on `input` and returns the execution ARN.
  std::string Start(const json& definition, const json& input = json::object(), const std::string& name = "run") {
    ExecutionStart start;
    start.state_machine_arn = kMachineArn;
    start.execution_arn = ArnOf(name);
    start.name = name;
    start.definition = definition.dump();
    start.machine = Parse(definition);
    start.input = input.dump();
    start.role_arn = "arn:aws:iam::123456789012:role/r";
    start.account = "123456789012";
    start.region = "us-east-1";
    auto r = executor_->StartExecution(start);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return start.execution_arn;
  }

  void Idle() { ASSERT_TRUE(executor_->WaitIdle(20000)); }

  store::ExecutionRecord Record(const std::string& arn) {
    auto r = store_->Get(arn);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : store::ExecutionRecord{};
  }
  json Output(const std::string& arn) { return json::parse(Record(arn).doc.value("output", "null")); }

  std::vector<store::HistoryRecord> History(const std::string& arn) {
    auto h = store_->History(arn, 0, 100000);
    EXPECT_TRUE(h.ok());
    return h.ok() ? *h : std::vector<store::HistoryRecord>{};
  }
  std::vector<std::string> Types(const std::string& arn) {
    std::vector<std::string> out;
    for (const auto& h : History(arn)) out.push_back(h.type);
    return out;
  }
  int Count(const std::string& arn, const std::string& type) {
    int n = 0;
    for (const auto& t : Types(arn)) n += t == type;
    return n;
  }
  // The first event of a type.
  store::HistoryRecord Event(const std::string& arn, const std::string& type, int nth = 0) {
    for (const auto& h : History(arn))
      if (h.type == type && nth-- == 0) return h;
    ADD_FAILURE() << "no " << type << " event";
    return {};
  }

  lathe::testing::TempDir dir_;
  std::unique_ptr<store::MetadataStore> db_;
  std::unique_ptr<store::ExecutionStore> store_;
  StatesFakeClock clock_;
  FakeIntegration lambda_, sns_, bedrock_;
  IntegrationRegistry registry_;
  ExecutorOptions options_;
  std::unique_ptr<Executor> executor_;
};

}  // namespace lathe::states::testing
