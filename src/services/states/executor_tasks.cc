// Task states: the call to an integration on a task thread (only after TaskScheduled is
// committed), `.sync` (Start, then Poll until the work ends, durably: a restart polls again
// rather than starting again), `.waitForTaskToken` (the token stored in the frame, answered by
// SendTask*), TimeoutSeconds and HeartbeatSeconds, and a bare Lambda ARN (LambdaFunction*
// events; the result is the function's Payload).
#include <openssl/rand.h>

#include "asl/errors.h"
#include "asl/payload.h"
#include "services/states/executor_internal.h"
#include "services/states/history_events.h"

namespace lathe::states {

using internal::Completion;
using internal::Exec;
using internal::Frame;
using internal::TaskJob;
using nlohmann::json;

namespace {

// 48 random bytes as hex: unguessable, so a token is its own permission.
std::string NewTaskToken() {
  unsigned char bytes[48];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    for (auto& b : bytes) b = static_cast<unsigned char>(std::rand());
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

struct Resource {
  asl::TaskResource r;
  bool bare_lambda = false;
  std::string resource_type, resource;  // as TaskScheduled names them
};

Result<Resource> ResourceOf(const asl::State& st) {
  auto parsed = asl::ParseTaskResource(st.resource);
  if (!parsed.ok()) return asl::Fail(asl::kStatesRuntime, parsed.status().message());
  Resource out;
  out.r = *parsed;
  out.bare_lambda = parsed->service == "lambda" && parsed->action == "function";
  out.resource_type = parsed->service;
  out.resource = parsed->action + (parsed->pattern.empty() ? "" : "." + parsed->pattern);
  return out;
}

// A timeout from the state (TimeoutSeconds or its path in the effective input), in ms; 0 = none.
Result<int64_t> SecondsField(const std::optional<int64_t>& fixed, const std::optional<asl::JsonPath>& path,
                             const json& eff, const json& ctx, const char* name) {
  if (fixed) return *fixed * 1000;  // the definition bounds it by kMaxSeconds
  if (!path) return int64_t{0};
  auto v = path->Select(path->is_context() ? ctx : eff);
  if (!v.ok()) return v.status();
  const bool positive = v->is_number_unsigned() ? v->get<uint64_t>() > 0
                                                : v->is_number_integer() && v->get<int64_t>() > 0;
  if (!positive)
    return asl::Fail(asl::kStatesRuntime, std::string("The ") + name + " path " + path->text() +
                                              " does not reference a positive integer: " + Clip(Dump(*v)));
  if (v->is_number_unsigned() ? v->get<uint64_t>() > uint64_t(asl::kMaxSeconds) : v->get<int64_t>() > asl::kMaxSeconds)
    return asl::Fail(asl::kStatesRuntime, std::string("The ") + name + " path " + path->text() +
                                              " references a value greater than " + std::to_string(asl::kMaxSeconds) +
                                              ": " + Clip(Dump(*v)));
  return v->get<int64_t>() * 1000;
}

}  // namespace

TaskCall Executor::Impl::MakeCall(const Exec& exec, const Frame& frame, const asl::State& st) const {
  TaskCall call;
  call.resource = st.resource;
  auto res = ResourceOf(st);
  if (res.ok()) {
    call.service = res->r.service;
    call.action = res->bare_lambda ? "invoke" : res->r.action;
    call.pattern = res->r.pattern;
    call.parameters = res->bare_lambda ? json{{"FunctionName", st.resource}, {"Payload", frame.params}} : frame.params;
  }
  call.task_token = frame.token;
  call.execution_arn = exec.rec.arn;
  call.state_name = st.name;
  call.account = exec.rec.doc.value("account", "");
  call.region = exec.rec.doc.value("region", "");
  call.timeout_ms = frame.timeout_ms;
  return call;
}

void Executor::Impl::RunTask(Exec& exec, Frame& frame, const asl::State& st) {
  auto res = ResourceOf(st);
  if (!res.ok()) return HandleError(exec, frame, asl::ErrorName(res.status()), res.status().message());
  frame.token = res->r.pattern == "waitForTaskToken" ? NewTaskToken() : "";
  const json& ctx = Context(exec, frame);  // with $$.Task.Token when there is one
  auto eff = asl::ApplyInputPath(st.input_path, frame.input, ctx);
  if (!eff.ok()) return HandleError(exec, frame, asl::ErrorName(eff.status()), eff.status().message());
  json params = *eff;
  if (st.parameters) {
    auto p = st.parameters->Apply(*eff, ctx);
    if (!p.ok()) return HandleError(exec, frame, asl::ErrorName(p.status()), p.status().message());
    params = std::move(*p);
  }
  auto timeout = SecondsField(st.timeout_seconds, st.timeout_seconds_path, *eff, ctx, "TimeoutSecondsPath");
  if (!timeout.ok()) return HandleError(exec, frame, asl::ErrorName(timeout.status()), timeout.status().message());
  auto heartbeat = SecondsField(st.heartbeat_seconds, st.heartbeat_seconds_path, *eff, ctx, "HeartbeatSecondsPath");
  if (!heartbeat.ok())
    return HandleError(exec, frame, asl::ErrorName(heartbeat.status()), heartbeat.status().message());
  frame.params = std::move(params);
  frame.timeout_ms = *timeout;
  frame.heartbeat_ms = *heartbeat;
  ScheduleTask(exec, frame, st);
}

void Executor::Impl::ScheduleTask(Exec& exec, Frame& frame, const asl::State& st) {
  auto res = ResourceOf(st);
  if (!res.ok()) return HandleError(exec, frame, asl::ErrorName(res.status()), res.status().message());
  const bool poll = frame.status == "POLL";
  TaskCall call = MakeCall(exec, frame, st);
  TaskIntegration* integration = integrations ? integrations->Find(call.service) : nullptr;
  if (!integration || !integration->Supports(call.action, call.pattern))
    return HandleError(exec, frame, asl::kStatesRuntime,
                       "lathe has no integration for the resource '" + st.resource + "'");
  const int64_t now = Now();
  if (!poll) {
    // A re-run after a restart is recorded like a new attempt: the history shows both.
    if (res->bare_lambda) {
      json d = {{"resource", st.resource}, {"input", Dump(frame.params)}, {"inputDetails", {{"truncated", false}}}};
      if (frame.timeout_ms) d["timeoutInSeconds"] = frame.timeout_ms / 1000;
      Emit(exec, &frame, "LambdaFunctionScheduled", d);
      Emit(exec, &frame, "LambdaFunctionStarted", json::object());
    } else {
      json d = {{"resourceType", res->resource_type},
                {"resource", res->resource},
                {"region", call.region},
                {"parameters", Dump(frame.params)}};
      if (frame.timeout_ms) d["timeoutInSeconds"] = frame.timeout_ms / 1000;
      if (frame.heartbeat_ms) d["heartbeatInSeconds"] = frame.heartbeat_ms / 1000;
      Emit(exec, &frame, "TaskScheduled", d);
      Emit(exec, &frame, "TaskStarted", {{"resourceType", res->resource_type}, {"resource", res->resource}});
    }
    frame.started = json();
    frame.submitted = false;
    frame.deadline_ms = frame.timeout_ms ? AddMs(now, frame.timeout_ms) : 0;
    frame.heartbeat_deadline_ms = 0;
    if (res->r.pattern == "waitForTaskToken") {
      frame.status = "TOKEN";
      tokens[frame.token] = {exec.rec.arn, frame.id};
      if (frame.heartbeat_ms) {
        frame.heartbeat_deadline_ms = AddMs(now, frame.heartbeat_ms);
        AddHeartbeatTimer(exec, frame);
      }
    } else {
      frame.status = "TASK";
    }
    if (frame.deadline_ms) AddTimer(frame.deadline_ms, exec.rec.arn, frame.id);
  } else {
    frame.status = "POLLING";
  }
  ++frame.gen;
  Touch(exec, frame);
  TaskJob job;
  job.arn = exec.rec.arn;
  job.frame = frame.id;
  job.gen = frame.gen;
  job.kind = poll ? TaskJob::Kind::kPoll : TaskJob::Kind::kStart;
  job.integration = integration;
  job.call = std::move(call);
  job.started = frame.started;
  // The task runs only once its TaskScheduled (and the frame that expects its answer) is stored.
  exec.after_commit.push_back([this, job = std::move(job)]() mutable { Dispatch(std::move(job)); });
  touched.insert(exec.rec.arn);
}

void Executor::Impl::ApplyCompletion(Completion c) {
  auto it = execs.find(c.arn);
  Exec* live = (it == execs.end() || it->second->ended) ? nullptr : it->second.get();
  if (live && live->commit_pending) {
    held_completions[c.arn].push_back(std::move(c));
    return;
  }
  Frame* frame = live ? live->Find(c.frame) : nullptr;
  if (!frame || frame->gen != c.gen) {
    // The state moved on (timed out, stopped) meanwhile. Work a .sync Start began has no owner
    // now (CancelTask had nothing to cancel while Start ran): cancel it.
    const bool sync = c.call.pattern == "sync" || c.call.pattern == "sync:2";
    if (c.kind == TaskJob::Kind::kStart && sync && c.integration && c.outcome && c.outcome->ok) {
      TaskJob job;
      job.arn = c.arn;
      job.frame = c.frame;
      job.kind = TaskJob::Kind::kCancel;
      job.integration = c.integration;
      job.call = std::move(c.call);
      job.started = std::move(c.outcome->result);
      Dispatch(std::move(job));
    }
    return;
  }
  Exec& exec = *live;
  TaskAnswered(exec, *frame, std::move(c));
  touched.insert(exec.rec.arn);
  Sweep(exec);
  MarkRunnable(exec);
}

void Executor::Impl::TaskAnswered(Exec& exec, Frame& frame, Completion c) {
  // ApplyCompletion's first step for a live frame. A task's answer is untrusted (a Lambda
  // function's result, another service's response): its depth and size are checked before
  // anything dumps it into history or copies it further. AWS fails the task with
  // States.DataLimitExceeded rather than record an oversized result.
  if (c.outcome && c.outcome->ok) {
    Status size = asl::CheckPayloadSize(c.outcome->result, "task result");
    if (!size.ok()) c.outcome = TaskOutcome::Failure(asl::kStatesDataLimitExceeded, size.message());
  }
  const asl::State* st = frame.sm->Find(frame.state);
  if (!st) return;
  auto res = ResourceOf(*st);
  if (!res.ok()) return;
  const std::string& pattern = res->r.pattern;
  if (c.kind == TaskJob::Kind::kPoll) {
    if (frame.status != "POLLING") return;
    if (!c.outcome) {
      frame.status = "POLL";
      frame.wake_at_ms = Now() + std::max<int64_t>(opt.sync_poll_ms, 1);
      Touch(exec, frame);
      AddTimer(frame.wake_at_ms, exec.rec.arn, frame.id);
      return;
    }
    if (c.outcome->ok) return TaskSucceeded(exec, frame, *st, std::move(c.outcome->result));
    return TaskFailed(exec, frame, *st, c.outcome->error, c.outcome->cause, false);
  }
  if (!c.outcome) return;
  TaskOutcome& out = *c.outcome;
  if (frame.status == "TOKEN" && !frame.submitted) {
    if (!out.ok) return TaskFailed(exec, frame, *st, out.error, out.cause, false);
    frame.submitted = true;
    Emit(exec, &frame, "TaskSubmitted",
         {{"resourceType", res->resource_type}, {"resource", res->resource}, {"output", Dump(out.result)},
          {"outputDetails", {{"truncated", false}}}});
    return;
  }
  if (frame.status != "TASK") return;
  if (!out.ok) return TaskFailed(exec, frame, *st, out.error, out.cause, false);
  if (pattern == "sync" || pattern == "sync:2") {
    // Started: what Poll is asked about from now on, after a restart too.
    frame.started = out.result;
    Emit(exec, &frame, "TaskSubmitted",
         {{"resourceType", res->resource_type}, {"resource", res->resource}, {"output", Dump(out.result)},
          {"outputDetails", {{"truncated", false}}}});
    frame.status = "POLL";
    frame.wake_at_ms = Now();
    exec.ready.push_back(frame.id);
    return;
  }
  TaskSucceeded(exec, frame, *st, std::move(out.result));
}

void Executor::Impl::TaskSucceeded(Exec& exec, Frame& frame, const asl::State& st, json result) {
  auto res = ResourceOf(st);
  const bool bare = res.ok() && res->bare_lambda;
  if (bare && result.is_object() && result.contains("Payload")) result = result["Payload"];
  if (bare) {
    Emit(exec, &frame, "LambdaFunctionSucceeded", OutputDetails(result));
  } else {
    Emit(exec, &frame, "TaskSucceeded",
         {{"resourceType", res.ok() ? res->resource_type : ""}, {"resource", res.ok() ? res->resource : ""},
          {"output", Dump(result)}, {"outputDetails", {{"truncated", false}}}});
  }
  ForgetToken(frame.token);
  ++frame.gen;
  FinishWithResult(exec, frame, st, std::move(result));
}

void Executor::Impl::TaskFailed(Exec& exec, Frame& frame, const asl::State& st, const std::string& error,
                                const std::string& full_cause, bool timed_out) {
  const std::string cause = ClipCause(full_cause);
  auto res = ResourceOf(st);
  const bool bare = res.ok() && res->bare_lambda;
  json d = bare ? json::object()
                : json{{"resourceType", res.ok() ? res->resource_type : ""}, {"resource", res.ok() ? res->resource : ""}};
  if (!error.empty()) d["error"] = error;
  if (!cause.empty()) d["cause"] = cause;
  const char* type = bare ? (timed_out ? "LambdaFunctionTimedOut" : "LambdaFunctionFailed")
                          : (timed_out ? "TaskTimedOut" : "TaskFailed");
  Emit(exec, &frame, type, d);
  ForgetToken(frame.token);
  ++frame.gen;
  frame.started = json();
  frame.deadline_ms = frame.heartbeat_deadline_ms = 0;
  HandleError(exec, frame, error.empty() ? asl::kStatesTaskFailed : error, cause);
}

void Executor::Impl::TaskTimer(Exec& exec, Frame& frame) {
  const asl::State* st = frame.sm->Find(frame.state);
  if (!st) return;
  const int64_t now = Now();
  if (frame.deadline_ms && frame.deadline_ms <= now) {
    CancelTask(exec, frame);
    TaskFailed(exec, frame, *st, asl::kStatesTimeout, "The task did not finish within its TimeoutSeconds", true);
  } else if (frame.status == "TOKEN" && frame.heartbeat_deadline_ms && frame.heartbeat_deadline_ms <= now) {
    TaskFailed(exec, frame, *st, asl::kStatesHeartbeatTimeout, "No heartbeat within the task's HeartbeatSeconds",
               true);
  } else {
    return;
  }
  touched.insert(exec.rec.arn);
  Sweep(exec);
  MarkRunnable(exec);
}

void Executor::Impl::CancelTask(Exec& exec, Frame& frame) {
  if (frame.started.is_null()) return;
  const asl::State* st = frame.sm->Find(frame.state);
  if (!st) return;
  TaskCall call = MakeCall(exec, frame, *st);
  TaskIntegration* integration = integrations ? integrations->Find(call.service) : nullptr;
  if (!integration) return;
  TaskJob job;
  job.arn = exec.rec.arn;
  job.frame = frame.id;
  job.kind = TaskJob::Kind::kCancel;
  job.integration = integration;
  job.call = std::move(call);
  job.started = frame.started;
  exec.after_commit.push_back([this, job = std::move(job)]() mutable { Dispatch(std::move(job)); });
}

Status Executor::Impl::TaskCallback(const std::string& token, const std::string& kind, const json& output,
                                    const std::string& error, const std::string& cause) {
  auto it = tokens.find(token);
  if (it == tokens.end()) {
    if (ended_token_set.count(token)) return Status::Conflict("Task Timed Out: the task of this token has ended");
    return Status::NotFound("Task Does Not Exist: no task waits on this token");
  }
  auto eit = execs.find(it->second.first);
  Frame* frame = eit == execs.end() ? nullptr : eit->second->Find(it->second.second);
  if (!frame || frame->status != "TOKEN") return Status::NotFound("Task Does Not Exist: no task waits on this token");
  Exec& exec = *eit->second;
  const asl::State* st = frame->sm->Find(frame->state);
  if (!st) return Status::Internal("the token's state is gone from the definition");
  if (kind == "heartbeat") {
    if (frame->heartbeat_ms) {
      frame->heartbeat_deadline_ms = AddMs(Now(), frame->heartbeat_ms);
      Touch(exec, *frame);
      // The armed timer, when it fires before this deadline, sets itself again for it.
      if (frame->heartbeat_timers == 0) AddHeartbeatTimer(exec, *frame);
    }
  } else if (kind == "success") {
    Status size = asl::CheckPayloadSize(output, "the task output");
    if (!size.ok())
      return Status::Aws("InvalidOutput", 400, "Invalid Output: " + size.message(), Status::Code::kInvalidArgument);
    TaskSucceeded(exec, *frame, *st, output);
  } else {
    TaskFailed(exec, *frame, *st, error, cause, false);
  }
  // The caller is answered once the transition is stored.
  Sweep(exec);
  MarkRunnable(exec);
  touched.insert(exec.rec.arn);
  if (!Flush(exec)) {
    // Not stored yet (a full disk): it is kept and committed once the disk allows, before the
    // execution goes on, so the answer stands.
    if (exec.commit_pending) return Status::Ok();
    return Status::NotFound("Task Does Not Exist: the execution changed while the answer was recorded");
  }
  return Status::Ok();
}

}  // namespace lathe::states
