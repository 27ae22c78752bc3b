// The Step Functions conformance suite (tests/states/conformance/*.json, described in its
// README.md): every case runs through the real Executor over a temporary ExecutionStore, with
// fake task integrations answering from the case's "tasks" table, and its status, output, error
// and cause are compared exactly. Cases listed in KNOWN_FAILURES.md are skipped with the reason
// given there, so that a known failure shows as skipped, never as passing.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "asl/definition.h"
#include "core/env.h"
#include "services/events/clock.h"
#include "services/states/executor.h"
#include "services/states/integration.h"
#include "store/execution_store.h"
#include "store/metadata_store.h"
#include "test_util.h"

namespace lathe::states {
namespace {

using nlohmann::json;

const char* kMachineArn = "arn:aws:states:us-east-1:123456789012:stateMachine:Conformance";
const char* kExecutionArn = "arn:aws:states:us-east-1:123456789012:execution:Conformance:conformance";
const char* kExecutionName = "conformance";

std::string SuiteDir() { return std::string(LATHE_SOURCE_DIR) + "/tests/states/conformance"; }

struct Case {
  std::string id;    // "<file>/<name>", as KNOWN_FAILURES.md names it
  std::string test;  // "<file>_<name>", the gtest parameter name
  json body;
};

// gtest prints a failing parameter; the case's id says more than its bytes.
void PrintTo(const Case& c, std::ostream* os) { *os << c.id; }

std::vector<Case> LoadCases() {
  std::vector<Case> cases;
  std::vector<std::string> names;
  if (!Env::Default()->GetChildren(SuiteDir(), &names).ok()) return cases;
  std::sort(names.begin(), names.end());
  for (const std::string& file : names) {
    if (file.size() < 6 || file.substr(file.size() - 5) != ".json") continue;
    const std::string stem = file.substr(0, file.size() - 5);
    json doc = json::parse(testing::ReadFile(SuiteDir() + "/" + file), nullptr, /*allow_exceptions=*/false);
    if (!doc.is_object() || !doc.contains("cases")) {
      // A broken file must fail loudly rather than vanish from the suite.
      cases.push_back({stem + "/<file>", stem + "_file_is_not_a_suite", json{{"broken_file", file}}});
      continue;
    }
    for (const json& c : doc["cases"]) {
      const std::string name = c.value("name", "unnamed");
      cases.push_back({stem + "/" + name, stem + "_" + name, c});
    }
  }
  return cases;
}

// KNOWN_FAILURES.md: lines "- `<file>/<case>` — reason".
std::map<std::string, std::string> LoadKnownFailures() {
  std::map<std::string, std::string> known;
  std::istringstream in(testing::ReadFile(SuiteDir() + "/KNOWN_FAILURES.md"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("- `", 0) != 0) continue;
    const size_t end = line.find('`', 3);
    if (end == std::string::npos) continue;
    std::string reason = line.substr(end + 1);
    const std::string dash = " — ";
    if (reason.rfind(dash, 0) == 0) reason = reason.substr(dash.size());
    known[line.substr(3, end - 3)] = reason;
  }
  return known;
}

// One integration for every service: answers from the case's table, counts calls per key.
class FakeTasks final : public TaskIntegration {
 public:
  explicit FakeTasks(const json& table) : table_(table.is_object() ? table : json::object()) {}
  ~FakeTasks() override { JoinCallbacks(); }

  // waitForTaskToken answers call SendTaskSuccess/Failure on this executor.
  void set_executor(Executor* executor) { executor_ = executor; }
  void JoinCallbacks() {
    for (std::thread& t : callbacks_)
      if (t.joinable()) t.join();
    callbacks_.clear();
  }

  bool Supports(const std::string&, const std::string&) const override { return true; }

  TaskOutcome Start(const TaskCall& call) override {
    const std::string key = KeyOf(call);
    json answer;
    {
      std::lock_guard<std::mutex> lock(mu_);
      const int n = calls_[key]++;
      if (!table_.contains(key) || !table_[key].is_array() || table_[key].empty())
        return TaskOutcome::Failure("Conformance.UnknownTask", "no fake answer for " + key);
      const json& answers = table_[key];
      answer = answers[std::min<size_t>(n, answers.size() - 1)];
      if (answer.contains("poll")) polls_[key] = answer["poll"];
    }
    if (answer.contains("sleep_ms"))
      std::this_thread::sleep_for(std::chrono::milliseconds(answer["sleep_ms"].get<int64_t>()));
    if (answer.contains("callback")) {
      // The token's owner answers later, as a worker would; the result of Start is ignored.
      std::lock_guard<std::mutex> lock(mu_);
      callbacks_.emplace_back([this, cb = answer["callback"], params = call.parameters, token = call.task_token] {
        std::this_thread::sleep_for(std::chrono::milliseconds(cb.value("delay_ms", 50)));
        if (cb.contains("error")) {
          (void)executor_->SendTaskFailure(token, cb["error"].get<std::string>(), cb.value("cause", std::string()));
        } else {
          json out = cb.value("output", json::object());
          if (cb.value("echo", false)) out = json{{"params", params}, {"task_token", token}};
          (void)executor_->SendTaskSuccess(token, out.dump());
        }
      });
      return TaskOutcome::Success(json::object());
    }
    return Answer(answer, call.parameters);
  }

  // `.sync`: the answers of the Start answer's "poll" list in order, null meaning "still running".
  std::optional<TaskOutcome> Poll(const TaskCall& call, const json&) override {
    std::lock_guard<std::mutex> lock(mu_);
    json& list = polls_[KeyOf(call)];
    if (!list.is_array() || list.empty()) return TaskOutcome::Failure("Conformance.NoPollAnswer", KeyOf(call));
    json next = list[0];
    if (list.size() > 1) list.erase(list.begin());
    if (next.is_null()) return std::nullopt;
    return Answer(next, call.parameters);
  }

  int Calls(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = calls_.find(key);
    return it == calls_.end() ? 0 : it->second;
  }

 private:
  std::string KeyOf(const TaskCall& call) const {
    const json& params = call.parameters;
    if (params.is_object() && params.contains("FunctionName") && params["FunctionName"].is_string()) {
      const std::string with_function = call.resource + "|" + params["FunctionName"].get<std::string>();
      if (table_.contains(with_function) || !table_.contains(call.resource)) return with_function;
    }
    return call.resource;
  }

  static TaskOutcome Answer(const json& answer, const json& params) {
    if (answer.contains("error"))
      return TaskOutcome::Failure(answer["error"].get<std::string>(), answer.value("cause", std::string()));
    if (answer.contains("echo")) {
      json echoed = params;
      if (answer["echo"].is_string()) echoed = params.value(answer["echo"].get<std::string>(), json(nullptr));
      if (answer.value("wrap", std::string()) == "lambda")
        echoed = json{{"ExecutedVersion", "$LATEST"}, {"Payload", echoed}, {"StatusCode", 200}};
      return TaskOutcome::Success(echoed);
    }
    return TaskOutcome::Success(answer.value("result", json(nullptr)));
  }

  const json table_;
  Executor* executor_ = nullptr;
  std::mutex mu_;
  std::map<std::string, int> calls_;
  std::map<std::string, json> polls_;
  std::vector<std::thread> callbacks_;
};

// The execution document's output: the executor may keep it as JSON text or as a value.
json OutputOf(const store::ExecutionRecord& record) {
  if (!record.doc.contains("output")) return json(nullptr);
  const json& out = record.doc["output"];
  if (out.is_string()) {
    json parsed = json::parse(out.get<std::string>(), nullptr, /*allow_exceptions=*/false);
    if (!parsed.is_discarded()) return parsed;
  }
  return out;
}

std::string StringOf(const store::ExecutionRecord& record, const char* field) {
  if (!record.doc.contains(field) || !record.doc[field].is_string()) return "";
  return record.doc[field].get<std::string>();
}

class StatesConformance : public ::testing::TestWithParam<Case> {};

TEST_P(StatesConformance, Case) {
  const Case& c = GetParam();
  ASSERT_FALSE(c.body.contains("broken_file")) << c.body["broken_file"] << " is not valid suite JSON";
  static const std::map<std::string, std::string> known = LoadKnownFailures();
  // LATHE_CONFORMANCE_RUN_KNOWN=1 runs the known failures too (to see which a fix has mended).
  const char* run_known = std::getenv("LATHE_CONFORMANCE_RUN_KNOWN");
  if (auto it = known.find(c.id); it != known.end() && !(run_known && std::string(run_known) == "1"))
    GTEST_SKIP() << "KNOWN_FAILURES.md: " << it->second;

  const json& body = c.body;
  SCOPED_TRACE(c.id + " — " + body.value("spec", std::string()));
  ASSERT_TRUE(body.contains("definition") && body.contains("expect")) << "a case needs definition and expect";

  const std::string definition = body["definition"].dump();
  asl::ParsedDefinition parsed = asl::ParseDefinition(definition);
  ASSERT_NE(parsed.machine, nullptr) << "definition refused: "
                                     << asl::InvalidDefinitionMessage(parsed.diagnostics);

  testing::TempDir dir;
  auto db = store::MetadataStore::Open(dir.path() + "/lathe.db");
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto executions = store::ExecutionStore::Open(db->get());
  ASSERT_TRUE(executions.ok()) << executions.status().ToString();

  FakeTasks fake(body.value("tasks", json::object()));
  IntegrationRegistry registry;
  for (const char* service : {"lambda", "sns", "events", "bedrock", "states"}) registry.Add(service, &fake);
  events::SystemClock clock;
  ExecutorOptions options;
  options.wait_time_scale = 0;
  options.sync_poll_ms = 10;  // .sync cases poll a fake, not a real job
  Executor executor(executions->get(), &registry, &clock, options);
  fake.set_executor(&executor);
  struct JoinCallbacksFirst {  // even on an early ASSERT return: callbacks must not outlive the executor
    FakeTasks* fake;
    ~JoinCallbacksFirst() { fake->JoinCallbacks(); }
  } join_callbacks_first{&fake};
  ASSERT_TRUE(executor.Start().ok());

  ExecutionStart start;
  start.state_machine_arn = kMachineArn;
  start.execution_arn = kExecutionArn;
  start.name = kExecutionName;
  start.definition = definition;
  start.machine = parsed.machine;
  start.input = body.value("input", json::object()).dump();
  start.account = "123456789012";
  start.region = "us-east-1";
  auto started = executor.StartExecution(start);
  ASSERT_TRUE(started.ok()) << started.status().ToString();

  // Runs until the execution ends (timeouts in the suite are a few seconds at most).
  store::ExecutionRecord record;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    executor.WaitIdle(100);
    auto got = (*executions)->Get(kExecutionArn);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    record = *got;
    if (record.status != "RUNNING") break;
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "still RUNNING after 30 s";
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  fake.JoinCallbacks();  // before the executor goes: callbacks call it
  executor.Stop();

  const json& expect = body["expect"];
  const std::string error = StringOf(record, "error"), cause = StringOf(record, "cause");
  ASSERT_EQ(record.status, expect.value("status", std::string()))
      << "output " << OutputOf(record).dump() << ", error '" << error << "', cause '" << cause << "'";
  if (expect.contains("output")) {
    EXPECT_EQ(OutputOf(record), expect["output"]);
  }
  if (expect.contains("error")) {
    EXPECT_EQ(error, expect["error"].get<std::string>()) << "cause: " << cause;
  }
  if (expect.contains("cause")) {
    EXPECT_EQ(cause, expect["cause"].get<std::string>());
  }
  if (expect.contains("causeContains")) {
    EXPECT_NE(cause.find(expect["causeContains"].get<std::string>()), std::string::npos) << "cause: " << cause;
  }
  const json calls = expect.value("calls", json::object());  // items() must not outlive it
  for (const auto& [key, n] : calls.items()) {
    EXPECT_EQ(fake.Calls(key), n.get<int>()) << "calls of " << key;
  }
}

INSTANTIATE_TEST_SUITE_P(Suite, StatesConformance, ::testing::ValuesIn(LoadCases()),
                         [](const ::testing::TestParamInfo<Case>& info) { return info.param.test; });

// The suite itself: present, and every case well formed with a spec section named.
TEST(StatesConformanceSuite, EveryCaseNamesItsSpecSection) {
  const std::vector<Case> cases = LoadCases();
  ASSERT_GE(cases.size(), 100u) << "tests/states/conformance/ not found or nearly empty";
  for (const Case& c : cases) {
    EXPECT_FALSE(c.body.value("spec", std::string()).empty()) << c.id;
    const std::string status = c.body.contains("expect") ? c.body["expect"].value("status", std::string()) : "";
    EXPECT_TRUE(status == "SUCCEEDED" || status == "FAILED" || status == "TIMED_OUT") << c.id;
  }
}

}  // namespace
}  // namespace lathe::states
