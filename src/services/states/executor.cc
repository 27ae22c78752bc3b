// The executor's threads and its durable bookkeeping: a scheduler thread that owns every running
// execution, a pool of task threads for integrations, commands from API callers and commits.
// Each pass of the scheduler runs what is due, then commits every touched execution in one
// transaction each, and only then starts the side effects that depend on those commits (tasks).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <future>

#include "core/arn.h"
#include "services/states/executor_internal.h"
#include "services/states/history_events.h"

namespace lathe::states {

using internal::Completion;
using internal::Exec;
using internal::Frame;
using internal::TaskJob;
using nlohmann::json;

namespace {

// History events a pass may gather for one execution before it commits and yields: long Pass
// chains are not one transaction per state, nor one unbounded transaction.
constexpr size_t kEventsPerCommit = 512;
// Task tokens remembered after their state ended (TaskTimedOut rather than TaskDoesNotExist).
constexpr size_t kEndedTokensKept = 10000;
// The scheduler looks at the clock at least this often (a fake clock that tests move, or a
// system clock that jumps).
constexpr int64_t kMaxSleepMs = 1000;
// Commands (started executions, stops, task callbacks) waiting for the scheduler; StartExecution
// answers Throttled past it rather than queueing without bound.
constexpr size_t kMaxPendingCommands = 10000;
// A commit that failed (a full disk) is tried again after this long; a timer on frame -1.
constexpr int64_t kCommitRetryMs = 1000;
constexpr int64_t kFlushTimer = -1;
// As AWS: an execution whose history passes this many events fails (a Pass -> Choice loop would
// otherwise commit events until the disk is full).
constexpr int64_t kMaxHistoryEvents = 25000;

}  // namespace

// ---- Frames as records ----

json internal::Frame::Doc() const {
  json d = {{"path", path}, {"state", state}, {"input", input}, {"entered", entered_ms}, {"retry", retry_count},
            {"attempts", attempts}, {"last", last_event_id}, {"index", index}};
  if (!output.is_null()) d["output"] = output;
  if (!item.is_null()) d["item"] = item;
  if (!params.is_null()) d["params"] = params;
  if (!started.is_null()) d["started"] = started;
  if (submitted) d["submitted"] = true;
  if (timeout_ms) d["timeout"] = timeout_ms;
  if (deadline_ms) d["deadline"] = deadline_ms;
  if (heartbeat_ms) d["heartbeat"] = heartbeat_ms;
  if (heartbeat_deadline_ms) d["heartbeatDeadline"] = heartbeat_deadline_ms;
  if (status == "CHILDREN") {
    d["total"] = total;
    d["maxConcurrency"] = max_concurrency;
    if (!items.is_null()) d["items"] = items;
  }
  return d;
}

Frame internal::Frame::FromRecord(const store::FrameRecord& r) {
  Frame f;
  f.id = r.id;
  f.parent_id = r.parent_id;
  f.status = r.status;
  f.wake_at_ms = r.wake_at_ms;
  f.token = r.task_token;
  const json& d = r.doc;
  f.path = d.value("path", json::array());
  f.state = d.value("state", "");
  f.input = d.contains("input") ? d["input"] : json::object();
  f.output = d.contains("output") ? d["output"] : json();
  f.entered_ms = d.value("entered", int64_t{0});
  f.retry_count = d.value("retry", 0);
  f.attempts = d.value("attempts", json::array());
  f.last_event_id = d.value("last", int64_t{0});
  f.index = d.value("index", int64_t{0});
  f.item = d.contains("item") ? d["item"] : json();
  f.params = d.contains("params") ? d["params"] : json();
  f.started = d.contains("started") ? d["started"] : json();
  f.submitted = d.value("submitted", false);
  f.timeout_ms = d.value("timeout", int64_t{0});
  f.deadline_ms = d.value("deadline", int64_t{0});
  f.heartbeat_ms = d.value("heartbeat", int64_t{0});
  f.heartbeat_deadline_ms = d.value("heartbeatDeadline", int64_t{0});
  f.total = d.value("total", int64_t{0});
  f.max_concurrency = d.value("maxConcurrency", int64_t{0});
  f.items = d.contains("items") ? d["items"] : json();
  return f;
}

store::FrameRecord internal::Frame::Record() const {
  store::FrameRecord r;
  r.id = id;
  r.parent_id = parent_id;
  r.status = status;
  r.wake_at_ms = wake_at_ms;
  r.task_token = (status == "TOKEN") ? token : "";
  r.doc = Doc();
  return r;
}

// ---- Lifecycle ----

Executor::Executor(store::ExecutionStore* store, const IntegrationRegistry* integrations, events::Clock* clock,
                   ExecutorOptions options)
    : impl_(std::make_unique<Impl>(store, integrations, clock, options)) {}

Executor::~Executor() { Stop(); }

Status Executor::Start() {
  Impl& im = *impl_;
  {
    std::lock_guard<std::mutex> lock(im.mu);
    if (im.running) return Status::Ok();
  }
  auto running = im.store->Running();
  if (!running.ok()) return running.status();
  // Resumed before the threads start: nothing else touches the executions yet. One that cannot
  // be resumed (a stored document of an unexpected shape, a read that fails) ends FAILED; the
  // others still run.
  for (const std::string& arn : *running) {
    Status s;
    try {
      s = im.Resume(arn);
    } catch (const std::exception& e) {
      s = Status::Internal(e.what());
    }
    if (s.ok()) continue;
    std::string why = s.message();
    if (why.size() > 1000) why.resize(1000);
    Status ended = im.EndInStore(arn, "FAILED", "States.Runtime", "The execution could not be resumed: " + why);
    std::fprintf(stderr, "lathe: Step Functions execution %s could not be resumed (%s); %s\n", arn.c_str(),
                 s.ToString().c_str(), ended.ok() ? "it ended FAILED" : ("it stays RUNNING: " + ended.ToString()).c_str());
  }
  {
    std::lock_guard<std::mutex> lock(im.mu);
    im.running = true;
    im.stopping = false;
  }
  {
    std::lock_guard<std::mutex> lock(im.task_mu);
    im.tasks_stopping = false;
  }
  const int threads = std::max(1, im.opt.task_threads);
  for (int i = 0; i < threads; ++i) im.workers.emplace_back([&im] { im.WorkerLoop(); });
  im.scheduler = std::thread([&im] { im.SchedulerLoop(); });
  return Status::Ok();
}

void Executor::Stop(const std::function<void()>& interrupt_tasks) {
  Impl& im = *impl_;
  {
    std::lock_guard<std::mutex> lock(im.mu);
    if (!im.running) return;
    im.stopping = true;
  }
  im.cv.notify_all();
  if (im.scheduler.joinable()) im.scheduler.join();
  // Commands queued before the stop still answer their callers (a StopExecution, a callback);
  // this thread is the only one touching the executions now.
  for (;;) {
    std::deque<std::function<void()>> cmds;
    {
      std::lock_guard<std::mutex> lock(im.mu);
      cmds.swap(im.commands);
    }
    if (cmds.empty()) break;
    for (auto& c : cmds) c();
    for (const std::string& arn : im.touched) {
      auto it = im.execs.find(arn);
      if (it != im.execs.end()) im.Flush(*it->second);
    }
    im.touched.clear();
  }
  {
    std::lock_guard<std::mutex> lock(im.task_mu);
    im.tasks_stopping = true;
    im.task_queue.clear();
  }
  im.task_cv.notify_all();
  if (interrupt_tasks) interrupt_tasks();
  // A task thread inside an integration's Start finishes it; its answer is dropped (the task is
  // run again after the next Start, as after a crash).
  for (auto& t : im.workers) t.join();
  im.workers.clear();
  std::lock_guard<std::mutex> lock(im.mu);
  im.running = false;
  im.commands.clear();
  im.completions.clear();
  im.execs.clear();
  im.runnable.clear();
  im.runnable_set.clear();
  im.timers.clear();
  im.tokens.clear();
  im.touched.clear();
  im.held_completions.clear();
  im.idle_cv.notify_all();
}

// ---- Threads ----

void Executor::Impl::Post(std::function<void()> command) {
  {
    std::lock_guard<std::mutex> lock(mu);
    commands.push_back(std::move(command));
  }
  cv.notify_all();
}

Status Executor::Impl::Call(std::function<Status()> command) {
  auto promise = std::make_shared<std::promise<Status>>();
  auto answer = promise->get_future();
  {
    std::lock_guard<std::mutex> lock(mu);
    if (!running || stopping) return Status::Internal("the Step Functions executor is not running");
    commands.push_back([promise, command = std::move(command)] { promise->set_value(command()); });
  }
  cv.notify_all();
  return answer.get();
}

void Executor::Impl::SchedulerLoop() {
  for (;;) {
    std::deque<std::function<void()>> cmds;
    std::deque<Completion> done;
    uint64_t poke = 0;
    {
      std::unique_lock<std::mutex> lock(mu);
      auto has_work = [&] { return stopping || !commands.empty() || !completions.empty() || poked; };
      if (runnable.empty() && !has_work()) {
        int64_t sleep_ms = kMaxSleepMs;
        if (!timers.empty()) sleep_ms = std::clamp<int64_t>(timers.begin()->first - Now(), 0, kMaxSleepMs);
        if (sleep_ms > 0) cv.wait_for(lock, std::chrono::milliseconds(sleep_ms), has_work);
      }
      if (stopping) return;
      cmds.swap(commands);
      done.swap(completions);
      poke = poke_seq;
      poked = false;
    }
    for (auto& c : cmds) c();
    for (auto& c : done) ApplyCompletion(std::move(c));
    FireTimers();
    // Each runnable execution gets one slice per pass, so one long chain does not starve others.
    const size_t n = runnable.size();
    for (size_t i = 0; i < n && !runnable.empty(); ++i) {
      std::string arn = runnable.front();
      runnable.pop_front();
      runnable_set.erase(arn);
      auto it = execs.find(arn);
      if (it != execs.end()) RunExec(*it->second);
    }
    std::set<std::string> to_flush;
    to_flush.swap(touched);
    for (const std::string& arn : to_flush) {
      auto it = execs.find(arn);
      if (it == execs.end()) continue;
      Flush(*it->second);
      if (it->second->ended && it->second->history.empty()) execs.erase(it);
    }
    if (IdleNow()) {
      std::lock_guard<std::mutex> lock(mu);
      if (commands.empty() && completions.empty()) {
        idle_seq = poke;
        idle_cv.notify_all();
      }
    }
  }
}

bool Executor::Impl::IdleNow() {
  if (!runnable.empty() || !touched.empty()) return false;
  if (!timers.empty() && timers.begin()->first <= Now()) return false;
  std::lock_guard<std::mutex> lock(task_mu);
  return task_queue.empty() && tasks_busy == 0;
}

void Executor::Impl::WorkerLoop() {
  for (;;) {
    TaskJob job;
    {
      std::unique_lock<std::mutex> lock(task_mu);
      task_cv.wait(lock, [&] { return tasks_stopping || !task_queue.empty(); });
      if (tasks_stopping) return;
      job = std::move(task_queue.front());
      task_queue.pop_front();
      ++tasks_busy;
    }
    Completion c;
    c.arn = job.arn;
    c.frame = job.frame;
    c.gen = job.gen;
    c.kind = job.kind;
    switch (job.kind) {
      case TaskJob::Kind::kStart:
        c.outcome = job.integration->Start(job.call);
        c.integration = job.integration;
        c.call = std::move(job.call);
        break;
      case TaskJob::Kind::kPoll:
        c.outcome = job.integration->Poll(job.call, job.started);
        break;
      case TaskJob::Kind::kCancel:
        job.integration->Cancel(job.call, job.started);
        break;
    }
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!stopping && job.kind != TaskJob::Kind::kCancel) completions.push_back(std::move(c));
    }
    {
      std::lock_guard<std::mutex> lock(task_mu);
      --tasks_busy;
    }
    cv.notify_all();
  }
}

void Executor::Impl::Dispatch(TaskJob job) {
  {
    std::lock_guard<std::mutex> lock(task_mu);
    task_queue.push_back(std::move(job));
  }
  task_cv.notify_one();
}

void Executor::Impl::MarkRunnable(Exec& exec) {
  if (exec.ended) return;
  if (runnable_set.insert(exec.rec.arn).second) runnable.push_back(exec.rec.arn);
}

void Executor::Impl::AddTimer(int64_t at_ms, const std::string& arn, int64_t frame) {
  timers.emplace(at_ms, Timer{arn, frame});
}

void Executor::Impl::AddHeartbeatTimer(const Exec& exec, Frame& frame) {
  ++frame.heartbeat_timers;
  timers.emplace(frame.heartbeat_deadline_ms, Timer{exec.rec.arn, frame.id, true});
}

void Executor::Impl::FireTimers() {
  const int64_t now = Now();
  while (!timers.empty() && timers.begin()->first <= now) {
    Timer t = timers.begin()->second;
    timers.erase(timers.begin());
    auto it = execs.find(t.arn);
    if (it == execs.end()) continue;
    // An ended execution's last commit may be the one to retry.
    if (t.frame == kFlushTimer) {
      it->second->flush_retry_armed = false;
      touched.insert(t.arn);
      continue;
    }
    if (it->second->ended) continue;
    Exec& exec = *it->second;
    if (t.frame == 0) {
      if (exec.deadline_ms && exec.deadline_ms <= now) {
        EndExecution(exec, "TIMED_OUT", json(), "States.Timeout",
                     "The execution timed out after its state machine's TimeoutSeconds");
      }
      continue;
    }
    Frame* f = exec.Find(t.frame);
    if (!f) continue;
    if (t.heartbeat) {
      f->heartbeat_timers = std::max(0, f->heartbeat_timers - 1);
      if (f->status == "TOKEN" && f->heartbeat_deadline_ms > now) {
        if (f->heartbeat_timers == 0) AddHeartbeatTimer(exec, *f);  // heartbeats moved it
        continue;
      }
    }
    const bool in_task = f->status == "TASK" || f->status == "TOKEN" || f->status == "POLL" || f->status == "POLLING";
    const bool task_overdue = (f->deadline_ms && f->deadline_ms <= now) ||
                              (f->status == "TOKEN" && f->heartbeat_deadline_ms && f->heartbeat_deadline_ms <= now);
    if (in_task && task_overdue) {
      TaskTimer(exec, *f);
    } else if ((f->status == "WAITING" || f->status == "RETRY" || f->status == "POLL") && f->wake_at_ms <= now) {
      exec.ready.push_back(f->id);
      MarkRunnable(exec);
    }
  }
}

void Executor::Impl::RunExec(Exec& exec) {
  if (exec.commit_pending) return;  // MarkRunnable again once the commit succeeds
  const size_t start_events = exec.history.size();
  while (!exec.ready.empty() && !exec.ended) {
    if (exec.last_event_id >= kMaxHistoryEvents) {
      EndExecution(exec, "FAILED", json(), "States.Runtime",
                   "The execution reached the maximum number of history events (" +
                       std::to_string(kMaxHistoryEvents) + ").");
      Sweep(exec);
      break;
    }
    const int64_t id = exec.ready.front();
    exec.ready.pop_front();
    Frame* f = exec.Find(id);
    if (!f) continue;
    StepFrame(exec, *f);
    Sweep(exec);
    if (exec.history.size() - start_events >= kEventsPerCommit) break;
  }
  touched.insert(exec.rec.arn);
  if (!exec.ready.empty() && !exec.ended) MarkRunnable(exec);
}

bool Executor::Impl::Flush(Exec& exec) {
  if (exec.history.empty() && exec.dirty.empty() && exec.deleted.empty() && exec.events.empty() &&
      !exec.status_changed) {
    auto effects = std::move(exec.after_commit);
    exec.after_commit.clear();
    for (auto& e : effects) e();
    return true;
  }
  store::ExecutionCommit c;
  c.execution_arn = exec.rec.arn;
  if (exec.status_changed) {
    c.update = exec.rec;
    c.expected_status = "RUNNING";
  }
  c.history = exec.history;
  Sweep(exec);
  for (int64_t id : exec.dirty) {
    if (exec.deleted.count(id)) continue;
    if (Frame* f = exec.Find(id)) {
      c.upsert_frames.push_back(f->Record());
    } else if (auto it = exec.detached.find(id); it != exec.detached.end()) {
      c.upsert_frames.push_back(it->second);
    }
  }
  c.delete_frames.assign(exec.deleted.begin(), exec.deleted.end());
  c.events = exec.events;
  Status s = opt.commit_fault ? opt.commit_fault(c) : Status::Ok();
  if (s.ok()) s = store->Commit(c);
  if (!s.ok() && s.code() != Status::Code::kIOError) {
    // The stored execution changed behind the executor (deleted, or ended by another writer):
    // what is in memory is stale, and retrying cannot help. Let it go.
    for (auto& [id, f] : exec.frames) {
      if (f->status == "TOKEN") ForgetToken(f->token);
      ++f->gen;
    }
    exec.ended = true;
    exec.history.clear();
    exec.dirty.clear();
    exec.detached.clear();
    exec.deleted.clear();
    exec.events.clear();
    exec.after_commit.clear();
    exec.status_changed = false;
    exec.commit_pending = false;
    held_completions.erase(exec.rec.arn);
    return false;
  }
  if (!s.ok()) {
    // Nothing was stored: keep it all and try again shortly (a full disk may clear). The side
    // effects wait, since they must not run ahead of their history, and so does the execution.
    if (!exec.flush_retry_armed) AddTimer(Now() + kCommitRetryMs, exec.rec.arn, kFlushTimer);
    exec.flush_retry_armed = true;
    exec.commit_pending = true;
    return false;
  }
  if (exec.commit_pending) {
    exec.commit_pending = false;
    MarkRunnable(exec);
    if (auto held = held_completions.find(exec.rec.arn); held != held_completions.end()) {
      std::lock_guard<std::mutex> lock(mu);
      for (auto& hc : held->second) completions.push_back(std::move(hc));
      held_completions.erase(held);
    }
  }
  exec.history.clear();
  exec.dirty.clear();
  exec.detached.clear();
  exec.deleted.clear();
  exec.events.clear();
  exec.status_changed = false;
  auto effects = std::move(exec.after_commit);
  exec.after_commit.clear();
  for (auto& e : effects) e();
  return true;
}

// ---- Starting and resuming executions ----

namespace {

json BaseContext(const store::ExecutionRecord& rec, const json& input) {
  const std::string machine_name = rec.state_machine_arn.substr(rec.state_machine_arn.rfind(':') + 1);
  return {{"Execution",
           {{"Id", rec.arn},
            {"Input", input},
            {"Name", rec.name},
            {"RoleArn", rec.doc.value("roleArn", "")},
            {"StartTime", Iso8601(rec.start_ms)},
            {"RedriveCount", 0}}},
          {"StateMachine", {{"Id", rec.state_machine_arn}, {"Name", machine_name}}}};
}

}  // namespace

store::OutboxEvent Executor::Impl::StatusEvent(const Exec& exec) const {
  const auto& r = exec.rec;
  store::OutboxEvent e;
  e.source = "aws.states";
  e.detail_type = "Step Functions Execution Status Change";
  e.account = r.doc.value("account", "");
  e.region = r.doc.value("region", "");
  e.resources = {r.arn};
  e.time_ms = r.status == "RUNNING" ? r.start_ms : r.stop_ms;
  const bool has_output = r.doc.contains("output");
  e.detail = {{"executionArn", r.arn},
              {"stateMachineArn", r.state_machine_arn},
              {"name", r.name},
              {"status", r.status},
              {"startDate", r.start_ms},
              {"stopDate", r.stop_ms ? json(r.stop_ms) : json()},
              {"input", r.doc.value("input", "{}")},
              {"output", has_output ? r.doc["output"] : json()},
              {"inputDetails", {{"included", true}}},
              {"outputDetails", has_output ? json{{"included", true}} : json()},
              {"error", r.doc.contains("error") ? r.doc["error"] : json()},
              {"cause", r.doc.contains("cause") ? r.doc["cause"] : json()}};
  return e;
}

Result<store::ExecutionRecord> Executor::StartExecution(const ExecutionStart& start) {
  Impl& im = *impl_;
  if (!start.machine || !start.machine->Find(start.machine->start_at))
    return Status::InvalidArgument("StartExecution needs a parsed state machine");
  {
    std::lock_guard<std::mutex> lock(im.mu);
    if (im.commands.size() >= kMaxPendingCommands)
      return Status::Throttled("too many executions are starting at once; try again");
  }
  json input = json::parse(start.input, nullptr, false);
  if (input.is_discarded()) return Status::InvalidArgument("the execution input is not JSON");
  auto exec = std::make_unique<Exec>();
  exec->machine = start.machine;
  exec->input = input;
  auto& rec = exec->rec;
  rec.arn = start.execution_arn;
  rec.state_machine_arn = start.state_machine_arn;
  rec.name = start.name;
  rec.status = "RUNNING";
  rec.start_ms = im.Now();
  rec.parent_arn = start.parent_arn;
  rec.doc = {{"input", start.input}, {"definition", start.definition}, {"roleArn", start.role_arn},
             {"account", start.account}, {"region", start.region}};
  if (!start.trace_header.empty()) rec.doc["traceHeader"] = start.trace_header;
  exec->context = BaseContext(rec, input);
  if (start.machine->timeout_seconds) exec->deadline_ms = AddMs(rec.start_ms, *start.machine->timeout_seconds * 1000);

  im.Emit(*exec, nullptr, "ExecutionStarted",
          {{"input", start.input}, {"inputDetails", {{"truncated", false}}}, {"roleArn", start.role_arn}});
  auto top = std::make_unique<Frame>();
  top->id = 1;
  top->sm = start.machine.get();
  top->state = start.machine->start_at;
  top->input = input;
  top->last_event_id = 1;
  Frame& f = *top;
  exec->frames[1] = std::move(top);
  im.Enter(*exec, f);  // records the first state's entry; its work is the scheduler's

  store::ExecutionCommit c;
  c.execution_arn = rec.arn;
  c.insert = rec;
  c.history = exec->history;
  c.upsert_frames = {f.Record()};
  c.events = {im.StatusEvent(*exec)};
  LATHE_RETURN_IF_ERROR(im.store->Commit(c));
  exec->history.clear();
  exec->dirty.clear();
  exec->events.clear();
  store::ExecutionRecord answer = rec;
  exec->ready.push_back(1);
  std::shared_ptr<Exec> shared(exec.release());
  {
    // Without a scheduler the execution waits in the store; Start() resumes it from there.
    std::lock_guard<std::mutex> lock(im.mu);
    if (im.running && !im.stopping) {
      im.commands.push_back([&im, shared]() mutable {
        // A StopExecution that ran before this command aborted it in the store: let it go.
        // (A read that fails otherwise adopts it: the next commit finds out.)
        auto stored = im.store->Get(shared->rec.arn);
        if (stored.ok() ? stored->status != "RUNNING" : stored.status().code() == Status::Code::kNotFound) return;
        std::unique_ptr<Exec> owned(new Exec(std::move(*shared)));
        im.Adopt(std::move(owned));
      });
    }
  }
  im.cv.notify_all();
  return answer;
}

void Executor::Impl::Adopt(std::unique_ptr<Exec> exec) {
  Exec& e = *exec;
  const std::string arn = e.rec.arn;
  execs[arn] = std::move(exec);
  if (e.deadline_ms) AddTimer(e.deadline_ms, arn, 0);
  for (auto& [id, f] : e.frames) {
    if (f->status == "WAITING" || f->status == "RETRY" || f->status == "POLL") AddTimer(f->wake_at_ms, arn, id);
    if (f->status == "TOKEN") tokens[f->token] = {arn, id};
    if (f->deadline_ms) AddTimer(f->deadline_ms, arn, id);
    if (f->heartbeat_deadline_ms) AddHeartbeatTimer(e, *f);
  }
  if (!e.ready.empty()) MarkRunnable(e);
  touched.insert(arn);  // side effects of a resume (tasks run again) need their commit first
}

Status Executor::Impl::Resume(const std::string& arn) {
  auto rec = store->Get(arn);
  if (!rec.ok()) return rec.status();
  auto exec = std::make_unique<Exec>();
  exec->rec = *rec;
  auto last = store->LastEventId(arn);
  if (!last.ok()) return last.status();
  exec->last_event_id = *last;
  json input = json::parse(rec->doc.value("input", "{}"), nullptr, false);
  exec->input = input.is_discarded() ? json::object() : input;
  exec->context = BaseContext(exec->rec, exec->input);
  asl::ParsedDefinition parsed = asl::ParseDefinition(rec->doc.value("definition", ""));
  if (!parsed.machine) {
    EndExecution(*exec, "FAILED", json(), "States.Runtime", "the execution's definition no longer parses");
    Flush(*exec);
    return Status::Ok();
  }
  exec->machine = parsed.machine;
  if (exec->machine->timeout_seconds) exec->deadline_ms = AddMs(rec->start_ms, *exec->machine->timeout_seconds * 1000);
  auto frames = store->Frames(arn);
  if (!frames.ok()) return frames.status();
  std::map<int64_t, std::vector<store::FrameRecord>> ended_children;
  for (const auto& r : *frames) {
    exec->next_frame_id = std::max(exec->next_frame_id, r.id + 1);
    if (r.status == "DONE" || r.status == "FAILED") {
      ended_children[r.parent_id].push_back(r);
      continue;
    }
    auto f = std::make_unique<Frame>(Frame::FromRecord(r));
    // Where its state machine is: the path from the top, through Parallel branches and Map
    // processors.
    const asl::StateMachine* sm = exec->machine.get();
    for (const auto& step : f->path) {
      const asl::State* st = sm ? sm->Find(step[0].get<std::string>()) : nullptr;
      const int64_t branch = step[1].get<int64_t>();
      if (!st) {
        sm = nullptr;
        break;
      }
      sm = branch < 0 ? st->item_processor.get()
                      : (branch < static_cast<int64_t>(st->branches.size()) ? st->branches[branch].get() : nullptr);
    }
    if (!sm) {
      EndExecution(*exec, "FAILED", json(), "States.Runtime", "a stored frame names no state of the definition");
      Flush(*exec);
      return Status::Ok();
    }
    f->sm = sm;
    exec->frames[f->id] = std::move(f);
  }
  for (auto& [id, f] : exec->frames) {
    if (f->parent_id) {
      if (Frame* p = exec->Find(f->parent_id)) p->children.insert(id);
    }
  }
  for (auto& [id, f] : exec->frames) {
    if (f->status == "CHILDREN") RestoreParent(*exec, *f, ended_children[id]);
  }
  // What was under way when the process stopped.
  for (auto& [id, f] : exec->frames) {
    Frame& fr = *f;
    const asl::State* st = fr.sm->Find(fr.state);
    if (fr.status == "ENTER" || fr.status == "RUN") {
      exec->ready.push_back(id);
    } else if (fr.status == "TASK" || (fr.status == "TOKEN" && !fr.submitted)) {
      // Its answer was lost with the process: run it again (at least once), recorded anew.
      if (st) ScheduleTask(*exec, fr, *st);
    } else if (fr.status == "POLLING") {
      fr.status = "POLL";
      fr.wake_at_ms = Now();
      Touch(*exec, fr);
    }
  }
  Adopt(std::move(exec));
  return Status::Ok();
}

// ---- Ending ----

void Executor::Impl::ForgetToken(const std::string& token) {
  if (token.empty()) return;
  tokens.erase(token);
  if (ended_token_set.insert(token).second) ended_tokens.push_back(token);
  while (ended_tokens.size() > kEndedTokensKept) {
    ended_token_set.erase(ended_tokens.front());
    ended_tokens.pop_front();
  }
}

void Executor::Impl::EndExecution(Exec& exec, const std::string& status, const json& output, const std::string& error,
                                  const std::string& cause) {
  if (exec.ended) return;
  RecordEnd(exec, status, output, error, cause);
  // Every frame goes, those no longer in memory (ended Map iterations) included.
  for (auto& [id, f] : exec.frames) {
    if (f->status == "TOKEN") ForgetToken(f->token);
    if ((f->status == "POLL" || f->status == "POLLING" || f->status == "TOKEN") && status != "SUCCEEDED")
      CancelTask(exec, *f);
    ++f->gen;
  }
  for (int64_t id = 1; id < exec.next_frame_id; ++id) exec.deleted.insert(id);
  // The frames leave memory at the next Sweep, not here: the handler that ended the execution
  // (a StepFrame, a ChildEnded) may still hold one of them.
  exec.ready.clear();
  touched.insert(exec.rec.arn);
}

void Executor::Impl::RecordEnd(Exec& exec, const std::string& status, const json& output, const std::string& error,
                               const std::string& cause) {
  const std::string type = status == "SUCCEEDED" ? "ExecutionSucceeded"
                           : status == "FAILED"  ? "ExecutionFailed"
                           : status == "ABORTED" ? "ExecutionAborted"
                                                 : "ExecutionTimedOut";
  json details = status == "SUCCEEDED" ? OutputDetails(output) : json::object();
  if (status != "SUCCEEDED") {
    if (!error.empty()) details["error"] = error;
    if (!cause.empty()) details["cause"] = cause;
  }
  Emit(exec, nullptr, type, details);
  exec.ended = true;
  exec.rec.status = status;
  exec.rec.stop_ms = std::max(Now(), exec.rec.start_ms);
  if (status == "SUCCEEDED") exec.rec.doc["output"] = Dump(output);
  if (!error.empty()) exec.rec.doc["error"] = error;
  if (!cause.empty()) exec.rec.doc["cause"] = cause;
  exec.status_changed = true;
  exec.events.push_back(StatusEvent(exec));
}

Status Executor::Impl::Abort(Exec& exec, const std::string& error, const std::string& cause) {
  if (exec.ended) return Status::Conflict("execution " + exec.rec.arn + " has already ended");
  EndExecution(exec, "ABORTED", json(), error, cause);
  const std::string arn = exec.rec.arn;
  if (!Flush(exec)) {
    if (!exec.history.empty()) return Status::IOError("could not record the execution's stop");
    execs.erase(arn);
    return Status::Conflict("execution " + arn + " changed while it was being stopped");
  }
  execs.erase(arn);
  return Status::Ok();
}

// ---- API ----

Status Executor::Impl::EndInStore(const std::string& arn, const std::string& status, const std::string& error,
                                  const std::string& cause) {
  auto rec = store->Get(arn);
  if (!rec.ok()) return rec.status();
  if (rec->status != "RUNNING") return Status::Conflict("execution " + arn + " has already ended");
  Exec exec;
  exec.rec = *rec;
  auto last = store->LastEventId(arn);
  if (!last.ok()) return last.status();
  exec.last_event_id = *last;
  auto frames = store->Frames(arn);
  if (!frames.ok()) return frames.status();
  store::ExecutionCommit c;
  c.execution_arn = arn;
  for (const auto& f : *frames) c.delete_frames.push_back(f.id);
  RecordEnd(exec, status, json(), error, cause);
  c.update = exec.rec;
  c.expected_status = "RUNNING";
  c.history = std::move(exec.history);
  c.events = std::move(exec.events);
  Status s = store->Commit(c);
  if (s.code() == Status::Code::kConflict) return Status::Conflict("execution " + arn + " has already ended");
  return s;
}

Status Executor::StopExecution(const std::string& execution_arn, const std::string& error, const std::string& cause) {
  Impl& im = *impl_;
  bool running;
  {
    std::lock_guard<std::mutex> lock(im.mu);
    running = im.running && !im.stopping;
  }
  if (running) {
    return im.Call([&]() -> Status {
      auto it = im.execs.find(execution_arn);
      if (it != im.execs.end()) return im.Abort(*it->second, error, cause);
      // Not held by the scheduler: started and not yet adopted (its adoption finds it no longer
      // RUNNING and drops it), or ended. Abort it in the store.
      return im.EndInStore(execution_arn, "ABORTED", error, cause);
    });
  }
  // No scheduler: abort in the store alone (the next Start finds it ended).
  return im.EndInStore(execution_arn, "ABORTED", error, cause);
}

Status Executor::SendTaskSuccess(const std::string& token, const std::string& output_json) {
  json output = json::parse(output_json, nullptr, false);
  // AWS's InvalidOutput, named here so that it is not read as a bad token.
  if (output.is_discarded())
    return Status::Aws("InvalidOutput", 400, "Invalid Output: the task output is not JSON",
                       Status::Code::kInvalidArgument);
  return impl_->Call([this, token, output] { return impl_->TaskCallback(token, "success", output, "", ""); });
}

Status Executor::SendTaskFailure(const std::string& token, const std::string& error, const std::string& cause) {
  return impl_->Call([this, token, error, cause] { return impl_->TaskCallback(token, "failure", json(), error, cause); });
}

Status Executor::SendTaskHeartbeat(const std::string& token) {
  return impl_->Call([this, token] { return impl_->TaskCallback(token, "heartbeat", json(), "", ""); });
}

bool Executor::WaitIdle(int64_t timeout_ms) {
  Impl& im = *impl_;
  std::unique_lock<std::mutex> lock(im.mu);
  if (!im.running) return true;
  const uint64_t seq = ++im.poke_seq;
  im.poked = true;
  im.cv.notify_all();
  return im.idle_cv.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                             [&] { return !im.running || im.idle_seq >= seq; });
}

}  // namespace lathe::states
