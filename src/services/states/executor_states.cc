// Entering, running and leaving states: Pass, Choice, Wait, Succeed and Fail, the input and
// output processing they share with Task, Parallel and Map (InputPath -> Parameters -> work ->
// ResultSelector -> ResultPath -> OutputPath, as AWS orders them), and errors: Retry, then
// Catch, then the frame fails.
#include <cmath>

#include "asl/errors.h"
#include "asl/payload.h"
#include "asl/timestamp.h"
#include "core/arn.h"
#include "services/states/executor_internal.h"
#include "services/states/history_events.h"

namespace lathe::states {

using internal::Exec;
using internal::Frame;
using nlohmann::json;

namespace {
// A value as AWS's Wait causes show it: a string as its text, anything else as JSON.
std::string ValueText(const json& v) { return Clip(v.is_string() ? v.get<std::string>() : Dump(v)); }
}  // namespace

int64_t Executor::Impl::Emit(Exec& exec, Frame* frame, const std::string& type, json details) {
  store::HistoryRecord h;
  h.id = ++exec.last_event_id;
  h.previous_id = frame ? frame->last_event_id : h.id - 1;
  h.type = type;
  h.timestamp_ms = Now();
  h.details = std::move(details);
  exec.history.push_back(std::move(h));
  if (frame) {
    frame->last_event_id = exec.last_event_id;
    // A Parallel or Map parent is not rewritten per child event (its document holds the Map's
    // items); after a restart its next event follows an older one, which only previousEventId shows.
    if (frame->status != "CHILDREN") Touch(exec, *frame);
  }
  return exec.last_event_id;
}

void Executor::Impl::Touch(Exec& exec, Frame& frame) {
  exec.dirty.insert(frame.id);
}

const json& Executor::Impl::Context(Exec& exec, const Frame& frame) {
  json& ctx = exec.context;
  ctx["State"] = {{"Name", frame.state}, {"EnteredTime", Iso8601(frame.entered_ms)}, {"RetryCount", frame.retry_count}};
  if (!frame.token.empty())
    ctx["Task"] = {{"Token", frame.token}};
  else
    ctx.erase("Task");
  ctx.erase("Map");
  return ctx;
}

void Executor::Impl::Sweep(Exec& exec) {
  for (int64_t id : exec.graveyard) {
    auto it = exec.frames.find(id);
    if (it == exec.frames.end()) continue;
    if (exec.dirty.count(id) && !exec.deleted.count(id)) exec.detached[id] = it->second->Record();
    exec.frames.erase(it);
  }
  exec.graveyard.clear();
  if (exec.ended) {
    exec.frames.clear();
    exec.ready.clear();
  }
}

int64_t Executor::Impl::ScaledMs(double seconds) const {
  if (seconds <= 0 || opt.wait_time_scale <= 0) return 0;
  const double ms = seconds * 1000.0 * opt.wait_time_scale;
  // !(ms < cap) is also true for NaN (a retry's backoff can overflow to inf, and inf * 0 is
  // NaN): llround of either is undefined. The cap plus any clock time stays within int64.
  constexpr int64_t kCapMs = 9000000000000000;
  return !(ms < double(kCapMs)) ? kCapMs : static_cast<int64_t>(std::llround(ms));
}

void Executor::Impl::StepFrame(Exec& exec, Frame& frame) {
  const int64_t now = Now();
  if (frame.status == "ENTER") {
    Enter(exec, frame);
    if (!exec.ended && frame.status == "RUN") Run(exec, frame);
  } else if (frame.status == "RUN") {
    Run(exec, frame);
  } else if (frame.status == "WAITING" && frame.wake_at_ms <= now) {
    const asl::State* st = frame.sm->Find(frame.state);
    if (st) ExitState(exec, frame, *st, frame.output);
  } else if (frame.status == "RETRY" && frame.wake_at_ms <= now) {
    frame.status = "RUN";
    Touch(exec, frame);
    Run(exec, frame);
  } else if (frame.status == "POLL" && frame.wake_at_ms <= now) {
    const asl::State* st = frame.sm->Find(frame.state);
    if (st) ScheduleTask(exec, frame, *st);
  } else if (frame.status == "CHILDREN") {
    ContinueParent(exec, frame);
  }
}

void Executor::Impl::Enter(Exec& exec, Frame& frame) {
  const asl::State* st = frame.sm ? frame.sm->Find(frame.state) : nullptr;
  frame.entered_ms = Now();
  frame.retry_count = 0;
  frame.attempts = json::array();
  frame.token.clear();
  if (!st) {
    FailFrame(exec, frame, asl::kStatesRuntime, "the state machine has no state '" + frame.state + "'");
    return;
  }
  Emit(exec, &frame, EnteredType(asl::StateTypeName(st->type)), StateEnteredDetails(st->name, frame.input));
  frame.status = "RUN";
}

void Executor::Impl::Run(Exec& exec, Frame& frame) {
  const asl::State* st = frame.sm->Find(frame.state);
  if (!st) {
    FailFrame(exec, frame, asl::kStatesRuntime, "the state machine has no state '" + frame.state + "'");
    return;
  }
  switch (st->type) {
    case asl::StateType::kPass:
      return RunPass(exec, frame, *st);
    case asl::StateType::kTask:
      return RunTask(exec, frame, *st);
    case asl::StateType::kChoice:
      return RunChoice(exec, frame, *st);
    case asl::StateType::kWait:
      return RunWait(exec, frame, *st);
    case asl::StateType::kSucceed: {
      const json& ctx = Context(exec, frame);
      auto eff = asl::ApplyInputPath(st->input_path, frame.input, ctx);
      if (!eff.ok()) return FailFrame(exec, frame, ErrorOf(eff.status()), eff.status().message());
      auto out = asl::ApplyInputPath(st->output_path, *eff, ctx);
      if (!out.ok()) return FailFrame(exec, frame, ErrorOf(out.status()), out.status().message());
      return ExitState(exec, frame, *st, std::move(*out));
    }
    case asl::StateType::kFail: {
      Result<FailOutput> failed = FailStateOutput(*st, frame.input, Context(exec, frame));
      if (!failed.ok()) return FailFrame(exec, frame, ErrorOf(failed.status()), failed.status().message());
      return FailFrame(exec, frame, failed->error, failed->cause);
    }
    case asl::StateType::kParallel:
      return RunParallel(exec, frame, *st);
    case asl::StateType::kMap:
      return RunMap(exec, frame, *st);
  }
}

void Executor::Impl::RunPass(Exec& exec, Frame& frame, const asl::State& st) {
  const json& ctx = Context(exec, frame);
  auto eff = asl::ApplyInputPath(st.input_path, frame.input, ctx);
  if (!eff.ok()) return HandleError(exec, frame, ErrorOf(eff.status()), eff.status().message());
  json result;
  if (st.result) {
    result = *st.result;
  } else if (st.parameters) {
    auto p = st.parameters->Apply(*eff, ctx);
    if (!p.ok()) return HandleError(exec, frame, ErrorOf(p.status()), p.status().message());
    result = std::move(*p);
  } else {
    result = std::move(*eff);
  }
  FinishWithResult(exec, frame, st, std::move(result));
}

void Executor::Impl::RunChoice(Exec& exec, Frame& frame, const asl::State& st) {
  const json& ctx = Context(exec, frame);
  auto eff = asl::ApplyInputPath(st.input_path, frame.input, ctx);
  if (!eff.ok()) return FailFrame(exec, frame, ErrorOf(eff.status()), eff.status().message());
  const std::string* next = nullptr;
  for (const asl::ChoiceRule& rule : st.choices) {
    auto holds = asl::Evaluate(rule, *eff, ctx);
    if (!holds.ok()) return FailFrame(exec, frame, ErrorOf(holds.status()), holds.status().message());
    if (*holds) {
      next = &rule.next;
      break;
    }
  }
  if (!next && !st.default_next.empty()) next = &st.default_next;
  if (!next)
    return FailFrame(exec, frame, asl::kStatesNoChoiceMatched,
                     "No Matches! in the Choice state '" + st.name + "' for input " + Clip(Dump(*eff)));
  auto out = asl::ApplyInputPath(st.output_path, *eff, ctx);
  if (!out.ok()) return FailFrame(exec, frame, ErrorOf(out.status()), out.status().message());
  ExitState(exec, frame, st, std::move(*out), next);
}

void Executor::Impl::RunWait(Exec& exec, Frame& frame, const asl::State& st) {
  const json& ctx = Context(exec, frame);
  auto eff = asl::ApplyInputPath(st.input_path, frame.input, ctx);
  if (!eff.ok()) return FailFrame(exec, frame, ErrorOf(eff.status()), eff.status().message());
  const int64_t now = Now();
  int64_t delay_ms = 0;
  if (st.seconds) {
    delay_ms = ScaledMs(*st.seconds);
  } else if (st.seconds_path) {
    // AWS's causes for each way a SecondsPath value is unusable; it takes whole seconds only.
    const std::string& where = st.seconds_path->text();
    auto v = st.seconds_path->Select(st.seconds_path->is_context() ? ctx : *eff);
    if (!v.ok())
      return FailFrame(exec, frame, asl::kStatesRuntime,
                       "The SecondsPath parameter does not reference an input value: " + where);
    const bool is_long = v->is_number_integer() &&
                         (!v->is_number_unsigned() || v->get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX));
    if (!is_long)
      return FailFrame(exec, frame, asl::kStatesRuntime,
                       "The SecondsPath parameter cannot be parsed as a long value: " + where + " == " + ValueText(*v));
    if (v->get<int64_t>() < 0)
      return FailFrame(exec, frame, asl::kStatesRuntime,
                       "The SecondsPath parameter references a negative value: " + where + " == " + ValueText(*v));
    if (v->get<int64_t>() > asl::kMaxSeconds)
      return FailFrame(exec, frame, asl::kStatesRuntime,
                       "The SecondsPath parameter references a value greater than " + std::to_string(asl::kMaxSeconds) +
                           ": " + where + " == " + ValueText(*v));
    delay_ms = ScaledMs(static_cast<double>(v->get<int64_t>()));
  } else if (st.timestamp || st.timestamp_path) {
    std::string text, quoted;  // quoted: how the cause names a bad value ("$.t == ...")
    if (st.timestamp) {
      text = quoted = *st.timestamp;
    } else {
      const std::string& where = st.timestamp_path->text();
      auto v = st.timestamp_path->Select(st.timestamp_path->is_context() ? ctx : *eff);
      if (!v.ok())
        return FailFrame(exec, frame, asl::kStatesRuntime,
                         "The TimestampPath parameter does not reference an input value: " + where);
      quoted = where + " == " + ValueText(*v);
      if (v->is_string()) text = v->get<std::string>();
    }
    const auto ts = asl::ParseTimestamp(text);
    const int64_t at = ts ? ts->seconds * 1000 + ts->nanos / 1000000 : -1;
    if (!ts)
      return FailFrame(exec, frame, asl::kStatesRuntime,
                       "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time "
                       "format string: " + quoted);
    if (at > now) delay_ms = ScaledMs(static_cast<double>(at - now) / 1000.0);
  }
  auto out = asl::ApplyInputPath(st.output_path, *eff, ctx);
  if (!out.ok()) return FailFrame(exec, frame, ErrorOf(out.status()), out.status().message());
  if (delay_ms <= 0) return ExitState(exec, frame, st, std::move(*out));
  frame.output = std::move(*out);
  frame.status = "WAITING";
  frame.wake_at_ms = AddMs(now, delay_ms);
  Touch(exec, frame);
  AddTimer(frame.wake_at_ms, exec.rec.arn, frame.id);
}

void Executor::Impl::FinishWithResult(Exec& exec, Frame& frame, const asl::State& st, json result) {
  const json& ctx = Context(exec, frame);
  if (st.result_selector) {
    auto r = st.result_selector->Apply(result, ctx);
    if (!r.ok()) return HandleError(exec, frame, ErrorOf(r.status()), r.status().message());
    result = std::move(*r);
  }
  auto placed = asl::ApplyResultPath(st.result_path, frame.input, std::move(result));
  if (!placed.ok()) return HandleError(exec, frame, ErrorOf(placed.status()), placed.status().message());
  auto out = asl::ApplyInputPath(st.output_path, *placed, ctx);
  if (!out.ok()) return HandleError(exec, frame, ErrorOf(out.status()), out.status().message());
  Status size = asl::CheckPayloadSize(*out, "the output of state '" + st.name + "'");
  if (!size.ok()) return HandleError(exec, frame, ErrorOf(size), size.message());
  ExitState(exec, frame, st, std::move(*out));
}

void Executor::Impl::ExitState(Exec& exec, Frame& frame, const asl::State& st, json output, const std::string* next) {
  Emit(exec, &frame, ExitedType(asl::StateTypeName(st.type)), StateExitedDetails(st.name, output));
  const std::string& to = next ? *next : st.next;
  frame.output = json();
  frame.params = json();
  frame.started = json();
  frame.items = json();
  frame.deadline_ms = frame.heartbeat_deadline_ms = frame.heartbeat_ms = frame.timeout_ms = 0;
  frame.submitted = false;
  if (to.empty() || (!next && st.end)) return CompleteFrame(exec, frame, std::move(output));
  frame.state = to;
  frame.input = std::move(output);
  frame.status = "ENTER";
  Touch(exec, frame);
  exec.ready.push_back(frame.id);
}

void Executor::Impl::CompleteFrame(Exec& exec, Frame& frame, json output) {
  if (frame.parent_id == 0) return EndExecution(exec, "SUCCEEDED", output, "", "");
  frame.status = "DONE";
  frame.output = std::move(output);
  Touch(exec, frame);
  ChildEnded(exec, frame);
}

void Executor::Impl::FailFrame(Exec& exec, Frame& frame, const std::string& error, const std::string& full_cause) {
  const std::string cause = ClipCause(full_cause);
  if (frame.parent_id == 0) return EndExecution(exec, "FAILED", json(), error, cause);
  frame.status = "FAILED";
  frame.output = {{"Error", error}, {"Cause", cause}};
  Touch(exec, frame);
  ChildEnded(exec, frame);
}

void Executor::Impl::HandleError(Exec& exec, Frame& frame, const std::string& error, const std::string& full_cause) {
  const std::string cause = ClipCause(full_cause);  // a Catch puts it into the state's output
  const asl::State* st = frame.sm->Find(frame.state);
  if (!st) return FailFrame(exec, frame, error, cause);
  // Retry: the first retrier that names the error decides; once its attempts are spent the
  // error goes on to Catch (later retriers are not asked).
  for (size_t i = 0; i < st->retry.size(); ++i) {
    const asl::Retrier& r = st->retry[i];
    bool matches = false;
    for (const auto& name : r.error_equals) matches = matches || asl::ErrorMatches(name, error);
    if (!matches) continue;
    while (frame.attempts.size() <= i) frame.attempts.push_back(0);
    const int done = frame.attempts[i].get<int>();
    if (done >= r.max_attempts) break;
    double delay = r.interval_seconds * std::pow(r.backoff_rate, done);
    if (r.max_delay_seconds) delay = std::min(delay, *r.max_delay_seconds);
    if (r.full_jitter) {
      // xorshift: jitter needs spread, not reproducibility.
      jitter_state ^= jitter_state << 13;
      jitter_state ^= jitter_state >> 7;
      jitter_state ^= jitter_state << 17;
      delay *= static_cast<double>(jitter_state >> 11) / 9007199254740992.0;
    }
    frame.attempts[i] = done + 1;
    ++frame.retry_count;
    const int64_t delay_ms = ScaledMs(delay);
    frame.status = delay_ms > 0 ? "RETRY" : "RUN";
    frame.wake_at_ms = AddMs(Now(), delay_ms);
    Touch(exec, frame);
    if (delay_ms > 0)
      AddTimer(frame.wake_at_ms, exec.rec.arn, frame.id);
    else
      exec.ready.push_back(frame.id);
    return;
  }
  for (const asl::Catcher& c : st->catches) {
    bool matches = false;
    for (const auto& name : c.error_equals) matches = matches || asl::ErrorMatches(name, error);
    if (!matches) continue;
    auto out = asl::ApplyResultPath(c.result_path, frame.input, json{{"Error", error}, {"Cause", cause}});
    if (!out.ok()) return FailFrame(exec, frame, ErrorOf(out.status()), out.status().message());
    // The error placed into a 256 KiB input can pass the bound, as any state's output can.
    Status size = asl::CheckPayloadSize(*out, "the output of state '" + st->name + "'");
    if (!size.ok()) return FailFrame(exec, frame, ErrorOf(size), size.message());
    return ExitState(exec, frame, *st, std::move(*out), &c.next);
  }
  FailFrame(exec, frame, error, cause);
}

Result<FailOutput> FailStateOutput(const asl::State& st, const json& input, const json& ctx) {
  FailOutput out{st.error.value_or(""), st.cause.value_or("")};
  // ErrorPath / CausePath name strings in the state's input (or $$), or are intrinsic calls
  // returning one; AWS fails the execution with States.Runtime when they give anything else.
  struct Field {
    const char* name;
    const std::optional<asl::JsonPath>* path;
    const std::optional<asl::Intrinsic>* intrinsic;
    std::string* out;
  };
  for (const Field& f : {Field{"ErrorPath", &st.error_path, &st.error_intrinsic, &out.error},
                         Field{"CausePath", &st.cause_path, &st.cause_intrinsic, &out.cause}}) {
    Result<json> v = json();
    std::string text;
    if (*f.intrinsic) {
      text = (*f.intrinsic)->text();
      v = (*f.intrinsic)->Evaluate(input, ctx);
      if (!v.ok()) return v.status();
    } else if (*f.path) {
      text = (*f.path)->text();
      v = (*f.path)->Select((*f.path)->is_context() ? ctx : input);
      if (!v.ok())
        return asl::Fail(asl::kStatesRuntime, "The JSONPath '" + text + "' specified for the field '" + f.name +
                                                  "' could not be found in the input '" + Clip(Dump(input)) + "'");
    } else {
      continue;
    }
    if (!v->is_string())
      return asl::Fail(asl::kStatesRuntime, "The value at " + text + " in the Fail state '" + st.name + "' is not a string");
    *f.out = v->get<std::string>();
  }
  return out;
}

}  // namespace lathe::states
