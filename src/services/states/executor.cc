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
// The scheduler looks at the clock at least this often (a fake clock that tests move, or a
// system clock that jumps).
constexpr int64_t kMaxSleepMs = 1000;
// A commit that failed (a full disk) is tried again after this long; a timer on frame -1.
constexpr int64_t kCommitRetryMs = 1000;
constexpr int64_t kFlushTimer = -1;

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
    if (exec.last_event_id >= opt.max_history_events) {
      EndExecution(exec, "FAILED", json(), "States.Runtime",
                   "The execution reached the maximum number of history events (" +
                       std::to_string(opt.max_history_events) + ").");
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

}  // namespace lathe::states
