// Internal to the executor (executor*.cc): the in-memory form of executions and frames, and the
// scheduler's state. One scheduler thread owns every Exec and Frame; API calls reach it as
// commands, task threads as completions. Nothing else touches them.
//
// A frame runs one state machine (the top level, a Parallel branch, a Map iteration). Its status:
//   ENTER     enter `state` with `input` (records <Type>StateEntered), then RUN
//   RUN       do the state's work (a retry starts here again, without a new Entered event)
//   WAITING   a Wait state until wake_at_ms, then exit it with `output`
//   RETRY     a retry interval until wake_at_ms, then RUN
//   TASK      a task's Start on a task thread
//   TOKEN     waitForTaskToken: waiting for SendTask* (task_token)
//   POLL      .sync: the next Poll at wake_at_ms;  POLLING: a Poll on a task thread
//   CHILDREN  a Parallel or Map state waits for its child frames
//   DONE / FAILED   a child frame that ended; its output (or {"Error","Cause"}) for the parent
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "asl/definition.h"
#include "asl/errors.h"
#include "asl/payload.h"
#include "services/states/executor.h"

namespace lathe::states {

// The one definition of each of these for every executor*.cc.
// A value as history events carry it (its depth is checked before it is stored or dumped).
inline std::string Dump(const nlohmann::json& v) { return asl::DumpPayload(v); }
// The error name of a failed Status (States.Runtime for one not made by asl::Fail).
inline std::string ErrorOf(const Status& s) { return asl::ErrorName(s); }
// Values quoted in causes (an input, a Choice's input, a Wait's bad value) are cut to this.
inline constexpr size_t kMaxQuotedBytes = 1024;
inline std::string Clip(std::string text) { return asl::ClipUtf8(std::move(text), kMaxQuotedBytes); }
// Every error's cause, as AWS bounds it: FailFrame, HandleError and TaskFailed pass theirs
// through this, so a task's 6 MB error payload is never stored whole. (EndExecution's causes
// come through FailFrame, or from StopExecution, whose cause the API bounds to 32768 bytes.)
inline std::string ClipCause(std::string cause) { return asl::ClipUtf8(std::move(cause), asl::kMaxCauseBytes); }
// now + ms, saturating (deadlines from TimeoutSeconds are bounded by the definition, but a
// clock or a stored frame may still be anything).
inline int64_t AddMs(int64_t now, int64_t ms) {
  int64_t out;
  if (__builtin_add_overflow(now, ms, &out)) return ms > 0 ? INT64_MAX : INT64_MIN;
  return out;
}

// A Fail state's error and cause: Error/Cause, or what ErrorPath/CausePath (paths or intrinsic
// calls) give for `input`. States.Runtime, with AWS's cause, when they name nothing or no string.
// The executor and TestState both use it.
struct FailOutput {
  std::string error, cause;
};
Result<FailOutput> FailStateOutput(const asl::State& st, const nlohmann::json& input, const nlohmann::json& context);

}  // namespace lathe::states

namespace lathe::states::internal {

using nlohmann::json;

struct Frame {
  int64_t id = 0, parent_id = 0;
  const asl::StateMachine* sm = nullptr;
  json path = json::array();  // [[state, branch], ...] from the top; branch -1 = Map's processor
  std::string status = "ENTER";
  int64_t wake_at_ms = 0;
  std::string token;
  std::string state;
  json input;            // the current state's raw input
  json output;           // WAITING: the Wait's output; DONE/FAILED: the frame's result
  int64_t entered_ms = 0;
  int retry_count = 0;   // $$.State.RetryCount
  json attempts = json::array();  // per retrier
  int64_t last_event_id = 0;      // the previousEventId of the frame's next event
  // Tasks
  json params;           // effective parameters, kept for a re-run after a restart
  json started;          // .sync: Start's result
  bool submitted = false;  // waitForTaskToken: Start has returned
  int64_t timeout_ms = 0;  // TimeoutSeconds (or its path's value), 0 = none
  int64_t deadline_ms = 0, heartbeat_ms = 0, heartbeat_deadline_ms = 0;
  uint64_t gen = 0;      // a task thread's answer counts only if gen has not moved since
  int heartbeat_timers = 0;  // heartbeat timers set and not yet fired (in memory only)
  // A child frame: its index in the parent (branch or item) and the item ($$.Map.Item).
  int64_t index = 0;
  json item;
  // A Parallel or Map parent (items: Map's items, persisted once when the state starts).
  json items;
  int64_t total = 0, launched = 0, finished = 0, failed = 0, max_concurrency = 0;
  std::vector<json> results;
  size_t results_bytes = 0;       // the results' JSON text so far, bounded by asl::kMaxPayloadBytes
  std::set<int64_t> children;     // live child frames (in memory)
  std::vector<int64_t> ended_children;  // DONE/FAILED children still stored, deleted at the end

  json Doc() const;
  static Frame FromRecord(const store::FrameRecord& r);
  store::FrameRecord Record() const;
};

struct Exec {
  store::ExecutionRecord rec;
  std::shared_ptr<const asl::StateMachine> machine;
  json input;
  // $$, kept per execution and updated in place for each use (the scheduler is one thread), so
  // that a large Execution.Input is not copied per state.
  json context;
  int64_t last_event_id = 0;
  int64_t next_frame_id = 2;
  int64_t deadline_ms = 0;  // the machine's TimeoutSeconds
  std::map<int64_t, std::unique_ptr<Frame>> frames;
  std::deque<int64_t> ready;
  bool ended = false;
  // A commit failed (a full disk): nothing more runs (RunExec, task answers) until one succeeds,
  // so that the uncommitted history does not grow in memory.
  bool commit_pending = false;
  bool flush_retry_armed = false;  // a kFlushTimer is set for it
  // Not yet committed.
  std::vector<store::HistoryRecord> history;
  std::set<int64_t> dirty, deleted;
  std::vector<store::OutboxEvent> events;
  bool status_changed = false;
  std::vector<std::function<void()>> after_commit;  // side effects that need the commit first
  // Frames that ended or were removed, erased from `frames` once no handler holds them (Sweep);
  // `detached` keeps the record of an ended child frame that still has to be stored.
  std::vector<int64_t> graveyard;
  std::map<int64_t, store::FrameRecord> detached;

  Frame* Find(int64_t id) {
    auto it = frames.find(id);
    return it == frames.end() ? nullptr : it->second.get();
  }
};

struct TaskJob {
  std::string arn;
  int64_t frame = 0;
  uint64_t gen = 0;
  enum class Kind { kStart, kPoll, kCancel } kind = Kind::kStart;
  TaskIntegration* integration = nullptr;
  TaskCall call;
  json started;
};

struct Completion {
  std::string arn;
  int64_t frame = 0;
  uint64_t gen = 0;
  TaskJob::Kind kind = TaskJob::Kind::kStart;
  std::optional<TaskOutcome> outcome;  // Poll: nullopt while the work runs
  // Start: what was called, so that .sync work started for a state that has since moved on
  // (stopped, timed out) can be cancelled rather than left running ownerless.
  TaskIntegration* integration = nullptr;
  TaskCall call;
};

}  // namespace lathe::states::internal

namespace lathe::states {

struct Executor::Impl {
  using Frame = internal::Frame;
  using Exec = internal::Exec;
  using json = nlohmann::json;

  Impl(store::ExecutionStore* s, const IntegrationRegistry* i, events::Clock* c, ExecutorOptions o)
      : store(s), integrations(i), clock(c), opt(o) {}

  store::ExecutionStore* store;
  const IntegrationRegistry* integrations;
  events::Clock* clock;
  ExecutorOptions opt;

  // Shared with API callers and task threads (mu).
  std::mutex mu;
  std::condition_variable cv;
  bool running = false, stopping = false;
  std::deque<std::function<void()>> commands;
  std::deque<internal::Completion> completions;
  uint64_t poke_seq = 0, idle_seq = 0;  // WaitIdle: the last poke seen idle
  bool poked = false;
  std::condition_variable idle_cv;
  std::thread scheduler;

  // Task threads (task_mu).
  std::mutex task_mu;
  std::condition_variable task_cv;
  std::deque<internal::TaskJob> task_queue;
  size_t tasks_busy = 0;
  bool tasks_stopping = false;
  std::vector<std::thread> workers;

  // The scheduler thread's own.
  std::map<std::string, std::unique_ptr<Exec>> execs;
  std::deque<std::string> runnable;
  std::set<std::string> runnable_set;
  struct Timer {
    std::string arn;
    int64_t frame;  // 0: the execution's deadline
    bool heartbeat = false;  // the frame's heartbeat deadline, re-set when it fires if it moved
  };
  std::multimap<int64_t, Timer> timers;
  std::unordered_map<std::string, std::pair<std::string, int64_t>> tokens;  // token -> (arn, frame)
  std::deque<std::string> ended_tokens;  // recent ones, for TaskTimedOut rather than TaskDoesNotExist
  std::set<std::string> ended_token_set;
  std::set<std::string> touched;  // executions with changes to commit this pass
  // Task answers for executions whose commit is pending, applied once it succeeds.
  std::map<std::string, std::vector<internal::Completion>> held_completions;
  uint64_t jitter_state = 0x9e3779b97f4a7c15ULL;

  // executor.cc: threads, commands, commits.
  void SchedulerLoop();
  void WorkerLoop();
  void Post(std::function<void()> command);
  Status Call(std::function<Status()> command);  // runs on the scheduler, waits for its answer
  void Adopt(std::unique_ptr<Exec> exec);
  Status Resume(const std::string& arn);
  void MarkRunnable(Exec& exec);
  void AddTimer(int64_t at_ms, const std::string& arn, int64_t frame);
  // At frame.heartbeat_deadline_ms; a SendTaskHeartbeat moves the deadline, not the timer, so
  // heartbeats do not add a timer each.
  void AddHeartbeatTimer(const Exec& exec, Frame& frame);
  void FireTimers();
  // Commits what the execution gathered; false when nothing was stored.
  bool Flush(Exec& exec);
  void RunExec(Exec& exec);
  void Dispatch(internal::TaskJob job);
  void ApplyCompletion(internal::Completion c);
  bool IdleNow();
  Status Abort(Exec& exec, const std::string& error, const std::string& cause);
  // Ends (ABORTED, FAILED) an execution the scheduler does not hold, in the store alone
  // (expected RUNNING); nothing of the scheduler's is touched, so any thread may call it.
  Status EndInStore(const std::string& arn, const std::string& status, const std::string& error,
                    const std::string& cause);
  void EndExecution(Exec& exec, const std::string& status, const json& output, const std::string& error,
                    const std::string& cause);
  // The end's event, record fields and status-change event, on `exec` alone.
  void RecordEnd(Exec& exec, const std::string& status, const json& output, const std::string& error,
                 const std::string& cause);
  store::OutboxEvent StatusEvent(const Exec& exec) const;
  void ForgetToken(const std::string& token);

  // executor_states.cc: entering, running and leaving states.
  int64_t Now() { return clock->NowMs(); }
  int64_t Emit(Exec& exec, Frame* frame, const std::string& type, json details);
  void Touch(Exec& exec, Frame& frame);
  const json& Context(Exec& exec, const Frame& frame);
  void Sweep(Exec& exec);
  void StepFrame(Exec& exec, Frame& frame);
  void Enter(Exec& exec, Frame& frame);
  void Run(Exec& exec, Frame& frame);
  void RunPass(Exec& exec, Frame& frame, const asl::State& st);
  void RunChoice(Exec& exec, Frame& frame, const asl::State& st);
  void RunWait(Exec& exec, Frame& frame, const asl::State& st);
  // Records the exit, then goes to `next` (st.Next when null) or ends the frame.
  void ExitState(Exec& exec, Frame& frame, const asl::State& st, json output, const std::string* next = nullptr);
  // The state's result through ResultSelector, ResultPath and OutputPath, then its exit.
  void FinishWithResult(Exec& exec, Frame& frame, const asl::State& st, json result);
  void CompleteFrame(Exec& exec, Frame& frame, json output);
  // An error in the frame's current state: Retry, then Catch, then the frame fails.
  void HandleError(Exec& exec, Frame& frame, const std::string& error, const std::string& cause);
  void FailFrame(Exec& exec, Frame& frame, const std::string& error, const std::string& cause);
  int64_t ScaledMs(double seconds) const;

  // executor_tasks.cc
  void RunTask(Exec& exec, Frame& frame, const asl::State& st);
  void ScheduleTask(Exec& exec, Frame& frame, const asl::State& st);
  void TaskAnswered(Exec& exec, Frame& frame, internal::Completion c);
  void TaskFailed(Exec& exec, Frame& frame, const asl::State& st, const std::string& error, const std::string& cause,
                  bool timed_out);
  void TaskSucceeded(Exec& exec, Frame& frame, const asl::State& st, json result);
  void TaskTimer(Exec& exec, Frame& frame);
  TaskCall MakeCall(const Exec& exec, const Frame& frame, const asl::State& st) const;
  void CancelTask(Exec& exec, Frame& frame);
  Status TaskCallback(const std::string& token, const std::string& kind, const json& output, const std::string& error,
                      const std::string& cause);

  // executor_parallel_map.cc
  void RunParallel(Exec& exec, Frame& frame, const asl::State& st);
  void RunMap(Exec& exec, Frame& frame, const asl::State& st);
  void LaunchMapItems(Exec& exec, Frame& frame, const asl::State& st);
  Frame& NewChild(Exec& exec, Frame& parent, const asl::State& st, int64_t branch, int64_t index, json input);
  void ChildEnded(Exec& exec, Frame& child);
  void RemoveChildren(Exec& exec, Frame& frame);
  void RestoreParent(Exec& exec, Frame& frame, const std::vector<store::FrameRecord>& ended);
  void ContinueParent(Exec& exec, Frame& frame);
  void FinishParent(Exec& exec, Frame& frame, const asl::State& st);
  void FailParent(Exec& exec, Frame& frame, const asl::State& st, const std::string& error, const std::string& cause);
};

}  // namespace lathe::states
