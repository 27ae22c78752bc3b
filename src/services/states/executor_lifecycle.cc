// Executions begun, resumed and ended: StartExecution and Resume (after a restart), the end of
// an execution and its status event, StopExecution and the task-token callbacks, as the API
// calls them. The scheduler's loop and commits are in executor.cc.
#include <algorithm>
#include <chrono>

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

// Task tokens remembered after their state ended (TaskTimedOut rather than TaskDoesNotExist).
constexpr size_t kEndedTokensKept = 10000;
// Commands (started executions, stops, task callbacks) waiting for the scheduler; StartExecution
// answers Throttled past it rather than queueing without bound.
constexpr size_t kMaxPendingCommands = 10000;

}  // namespace

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
