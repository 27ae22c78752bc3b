// The durable interpreter of state machines. Every transition of an execution is committed to
// the ExecutionStore with its history events before anything that depends on it happens (a task
// is started only after its TaskScheduled event is stored); after a crash, Start() resumes every
// RUNNING execution from its last committed transition: a Wait with its remaining time, a task
// that was in flight run again (at least once; the history shows both attempts), a `.sync` task
// polled again rather than started again. Pass and Choice chains run in memory and commit
// together (bounded per transaction) so that long chains are not one fsync per state.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "asl/definition.h"
#include "core/status.h"
#include "services/events/clock.h"
#include "services/states/integration.h"
#include "store/execution_store.h"

namespace lathe::states {

struct ExecutorOptions {
  // Wait states (and retry intervals) last this many times their stated time (config
  // waitTimeScale; 0 = no wait at all).
  double wait_time_scale = 1.0;
  int task_threads = 4;             // task integrations running at once
  int64_t sync_poll_ms = 5000;      // how often a .sync task asks whether its work has ended
  int64_t max_map_concurrency = 40;  // a Map's iterations at once when MaxConcurrency is 0
  // As AWS: an execution whose history passes this many events fails (a Pass -> Choice loop
  // would otherwise commit events until the disk is full; an inline Map of 10,000 items, about
  // 40,000 events, fails on AWS too). bench/ raises it to measure such a Map.
  int64_t max_history_events = 25000;
  // Tests only: asked before each commit of a running execution; an answer that is not Ok is
  // that commit's failure (IOError: a full disk), and the store is not asked.
  std::function<Status(const store::ExecutionCommit&)> commit_fault;
};

// What starts an execution: StartExecution, an EventBridge rule, states:startExecution.
struct ExecutionStart {
  std::string state_machine_arn;
  std::string execution_arn;  // minted by the caller from the name
  std::string name;
  std::string definition;  // the text, kept with the execution (updates do not change it)
  std::shared_ptr<const asl::StateMachine> machine;
  std::string input = "{}";  // JSON text, already checked (≤ 256 KB, valid JSON)
  std::string role_arn;
  std::string trace_header;
  std::string parent_arn;  // states:startExecution's caller, or ""
  std::string account, region;
};

class Executor {
 public:
  Executor(store::ExecutionStore* store, const IntegrationRegistry* integrations, events::Clock* clock,
           ExecutorOptions options);
  ~Executor();  // Stop()

  // Resumes RUNNING executions and starts the threads.
  Status Start();
  // Stops the threads; running executions stay RUNNING in the store for the next Start.
  // `interrupt_tasks` runs once no answer can be recorded any more and before the task threads
  // are joined: it ends what they wait on (Lambda's child processes), so that a shutdown neither
  // waits for a long task nor records its interruption as the task's failure.
  void Stop(const std::function<void()>& interrupt_tasks = {});

  // Records ExecutionStarted and the first state's entry, and schedules the execution.
  // AlreadyExists when the state machine has an execution of that name (the API decides whether
  // it is the idempotent repeat).
  Result<store::ExecutionRecord> StartExecution(const ExecutionStart& start);
  // ExecutionAborted; in-flight tasks are cancelled where their integration can. Conflict when
  // the execution has already ended.
  Status StopExecution(const std::string& execution_arn, const std::string& error, const std::string& cause);

  // waitForTaskToken callbacks. NotFound (TaskDoesNotExist) for an unknown token, Conflict
  // (TaskTimedOut) for a token whose state has ended.
  Status SendTaskSuccess(const std::string& token, const std::string& output_json);
  Status SendTaskFailure(const std::string& token, const std::string& error, const std::string& cause);
  Status SendTaskHeartbeat(const std::string& token);

  // TestState: one state run on `input` outside any execution (nothing stored). Task states
  // call their integration for real, as AWS's TestState does.
  struct TestResult {
    std::string status;      // "SUCCEEDED", "FAILED", "RETRIABLE", "CAUGHT_ERROR"
    std::string output;      // JSON text, when SUCCEEDED or CAUGHT_ERROR
    std::string error, cause;
    std::string next_state;  // "" at an end
    nlohmann::json inspection_data = nlohmann::json::object();  // input, afterInputPath, ...
  };
  Result<TestResult> TestState(const asl::State& state, const std::string& input, const std::string& account,
                               const std::string& region);

  // Tests: blocks until no execution has work due now (none READY, no task in flight); waiting
  // executions stay waiting. Returns false after `timeout_ms`.
  bool WaitIdle(int64_t timeout_ms);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lathe::states
