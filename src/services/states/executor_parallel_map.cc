// Parallel and Map (inline): the state's frame waits (CHILDREN) while child frames run its
// branches or iterations. A child that ends is stored as DONE (its output) or FAILED and leaves
// memory; the parent's stored document is written when the state starts and when it ends, not
// per child, so a Map of 10,000 items does not rewrite its items 10,000 times. After a restart
// the parent's counts are rebuilt from its children's frames.
#include <algorithm>

#include "asl/errors.h"
#include "asl/payload.h"
#include "services/states/executor_internal.h"
#include "services/states/history_events.h"

namespace lathe::states {

using internal::Exec;
using internal::Frame;
using nlohmann::json;

namespace {

// One result's share of the results array: its JSON text and a separating comma.
size_t ResultBytes(const json& v) { return Dump(v).size() + 1; }

bool HasTolerance(const asl::State& st) {
  return st.tolerated_failure_count || st.tolerated_failure_percentage || st.tolerated_failure_count_path ||
         st.tolerated_failure_percentage_path;
}

// AWS's causes for a ToleratedFailureCountPath / ToleratedFailurePercentagePath value that is
// not usable: not a number (an integer for the count), negative, or a percentage over 100.
Status CheckToleranceValues(const asl::State& st, const json& effective_input) {
  if (st.tolerated_failure_count_path) {
    const std::string& where = st.tolerated_failure_count_path->text();
    auto v = st.tolerated_failure_count_path->Select(effective_input);
    if (!v.ok()) return v.status();
    if (!v->is_number_integer())
      return Status::InvalidArgument("The ToleratedFailureCountPath field refers to value " + Clip(Dump(*v)) +
                             " which is not a valid integer: " + where);
    if (!v->is_number_unsigned() && v->get<int64_t>() < 0)
      return Status::InvalidArgument("ToleratedFailureCount cannot be negative.");
  }
  if (st.tolerated_failure_percentage_path) {
    const std::string& where = st.tolerated_failure_percentage_path->text();
    auto v = st.tolerated_failure_percentage_path->Select(effective_input);
    if (!v.ok()) return v.status();
    if (!v->is_number())
      return Status::InvalidArgument("The ToleratedFailurePercentagePath field refers to value " + Clip(Dump(*v)) +
                             " which is not a valid float: " + where);
    const double percent = v->get<double>();
    if (!(percent >= 0 && percent <= 100))
      return Status::InvalidArgument("ToleratedFailurePercentage must be between 0 and 100.");
  }
  return Status::Ok();
}

}  // namespace

Frame& Executor::Impl::NewChild(Exec& exec, Frame& parent, const asl::State& st, int64_t branch, int64_t index,
                                json input) {
  auto child = std::make_unique<Frame>();
  Frame& c = *child;
  c.id = exec.next_frame_id++;
  c.parent_id = parent.id;
  c.sm = branch < 0 ? st.item_processor.get() : st.branches[static_cast<size_t>(branch)].get();
  c.path = parent.path;
  c.path.push_back(json::array({st.name, branch}));
  c.state = c.sm ? c.sm->start_at : "";
  c.input = std::move(input);
  c.index = index;
  c.status = "ENTER";
  c.last_event_id = parent.last_event_id;
  parent.children.insert(c.id);
  exec.frames[c.id] = std::move(child);
  exec.ready.push_back(c.id);
  Touch(exec, c);
  return c;
}

void Executor::Impl::RunParallel(Exec& exec, Frame& frame, const asl::State& st) {
  const json& ctx = Context(exec, frame);
  auto eff = asl::ApplyInputPath(st.input_path, frame.input, ctx);
  if (!eff.ok()) return HandleError(exec, frame, ErrorOf(eff.status()), eff.status().message());
  json branch_input = std::move(*eff);
  if (st.parameters) {
    auto p = st.parameters->Apply(branch_input, ctx);
    if (!p.ok()) return HandleError(exec, frame, ErrorOf(p.status()), p.status().message());
    branch_input = std::move(*p);
  }
  Emit(exec, &frame, "ParallelStateStarted", json::object());
  frame.status = "CHILDREN";
  frame.total = static_cast<int64_t>(st.branches.size());
  frame.launched = frame.total;
  frame.finished = frame.failed = 0;
  frame.results.assign(static_cast<size_t>(frame.total), json());
  frame.results_bytes = 0;
  frame.ended_children.clear();
  Touch(exec, frame);
  for (int64_t i = 0; i < frame.total; ++i) NewChild(exec, frame, st, i, i, branch_input);
  if (frame.total == 0) FinishParent(exec, frame, st);
}

void Executor::Impl::RunMap(Exec& exec, Frame& frame, const asl::State& st) {
  const json& ctx = Context(exec, frame);
  auto eff = asl::ApplyInputPath(st.input_path, frame.input, ctx);
  if (!eff.ok()) return HandleError(exec, frame, ErrorOf(eff.status()), eff.status().message());
  json items = *eff;
  if (st.items_path) {
    auto v = st.items_path->Select(st.items_path->is_context() ? ctx : *eff);
    if (!v.ok()) return HandleError(exec, frame, ErrorOf(v.status()), v.status().message());
    items = std::move(*v);
  }
  if (!items.is_array())
    return HandleError(exec, frame, asl::kStatesRuntime,
                       "The ItemsPath of the Map state '" + st.name + "' does not reference an array: " +
                           Clip(Dump(items)));
  int64_t max_concurrency = st.max_concurrency;
  if (st.max_concurrency_path) {
    auto v = st.max_concurrency_path->Select(st.max_concurrency_path->is_context() ? ctx : *eff);
    if (!v.ok()) return HandleError(exec, frame, ErrorOf(v.status()), v.status().message());
    if (!v->is_number_integer() || v->get<int64_t>() < 0)
      return HandleError(exec, frame, asl::kStatesRuntime,
                         "The MaxConcurrencyPath does not reference a non-negative integer: " + Clip(Dump(*v)));
    max_concurrency = v->get<int64_t>();
  }
  if (max_concurrency <= 0) max_concurrency = std::max<int64_t>(1, opt.max_map_concurrency);
  // Thresholds from paths are checked once, when the Map starts, as AWS does (before any item
  // runs); CompleteChild reads them again only when an item fails.
  Status tolerance = CheckToleranceValues(st, *eff);
  if (!tolerance.ok()) return HandleError(exec, frame, asl::kStatesRuntime, tolerance.message());
  Emit(exec, &frame, "MapStateStarted", {{"length", items.size()}});
  frame.status = "CHILDREN";
  frame.total = static_cast<int64_t>(items.size());
  frame.launched = frame.finished = frame.failed = 0;
  frame.max_concurrency = max_concurrency;
  frame.results.assign(items.size(), json());
  frame.results_bytes = 0;
  frame.items = std::move(items);
  frame.ended_children.clear();
  Touch(exec, frame);
  if (frame.total == 0) return FinishParent(exec, frame, st);
  LaunchMapItems(exec, frame, st);
}

void Executor::Impl::LaunchMapItems(Exec& exec, Frame& frame, const asl::State& st) {
  if (frame.launched >= frame.total) return;
  json eff;
  if (st.item_selector) {
    auto e = asl::ApplyInputPath(st.input_path, frame.input, Context(exec, frame));
    if (!e.ok()) return FailParent(exec, frame, st, ErrorOf(e.status()), e.status().message());
    eff = std::move(*e);
  }
  while (frame.launched < frame.total && static_cast<int64_t>(frame.children.size()) < frame.max_concurrency) {
    const int64_t i = frame.launched++;
    const json& item = frame.items[static_cast<size_t>(i)];
    json input = item;
    if (st.item_selector) {
      json& ctx = exec.context;
      Context(exec, frame);
      ctx["Map"] = {{"Item", {{"Index", i}, {"Value", item}}}};
      auto sel = st.item_selector->Apply(eff, ctx);
      ctx.erase("Map");
      if (!sel.ok()) return FailParent(exec, frame, st, ErrorOf(sel.status()), sel.status().message());
      input = std::move(*sel);
    }
    Emit(exec, &frame, "MapIterationStarted", {{"name", st.name}, {"index", i}});
    NewChild(exec, frame, st, -1, i, std::move(input));
  }
}

void Executor::Impl::ChildEnded(Exec& exec, Frame& child) {
  exec.graveyard.push_back(child.id);
  Frame* parent = exec.Find(child.parent_id);
  if (!parent) return;
  parent->children.erase(child.id);
  parent->ended_children.push_back(child.id);
  if (parent->status != "CHILDREN") return;
  const asl::State* st = parent->sm->Find(parent->state);
  if (!st) return FailFrame(exec, *parent, asl::kStatesRuntime, "the state '" + parent->state + "' is gone");
  const bool failed = child.status == "FAILED";
  const std::string error = failed ? child.output.value("Error", "") : "";
  const std::string cause = failed ? child.output.value("Cause", "") : "";
  const size_t index = static_cast<size_t>(child.index);
  if (index < parent->results.size()) parent->results[index] = child.output;
  ++parent->finished;
  parent->last_event_id = std::max(parent->last_event_id, child.last_event_id);
  // The results become the state's output, which may not pass 256 KiB: failing as soon as they
  // do keeps a large Map from holding (and storing) every iteration's output first.
  parent->results_bytes += ResultBytes(child.output);
  if (parent->results_bytes > asl::kMaxPayloadBytes)
    return FailParent(exec, *parent, *st, asl::kStatesDataLimitExceeded,
                      "The results of the " + std::string(st->type == asl::StateType::kMap ? "Map" : "Parallel") +
                          " state '" + st->name + "' exceed the maximum number of bytes service limit (" +
                          std::to_string(asl::kMaxPayloadBytes) + " bytes)");
  if (st->type == asl::StateType::kParallel) {
    if (failed) return FailParent(exec, *parent, *st, error, cause);
  } else {
    Emit(exec, parent, failed ? "MapIterationFailed" : "MapIterationSucceeded",
         {{"name", st->name}, {"index", child.index}});
    if (failed) {
      ++parent->failed;
      if (!HasTolerance(*st)) return FailParent(exec, *parent, *st, error, cause);
      // The thresholds, from the definition or from the Map's effective input.
      const json& ctx = Context(exec, *parent);
      auto eff = asl::ApplyInputPath(st->input_path, parent->input, ctx);
      std::optional<double> count, percent;
      if (st->tolerated_failure_count) count = static_cast<double>(*st->tolerated_failure_count);
      if (st->tolerated_failure_percentage) percent = *st->tolerated_failure_percentage;
      if (eff.ok() && st->tolerated_failure_count_path) {
        auto v = st->tolerated_failure_count_path->Select(*eff);
        if (v.ok() && v->is_number()) count = v->get<double>();
      }
      if (eff.ok() && st->tolerated_failure_percentage_path) {
        auto v = st->tolerated_failure_percentage_path->Select(*eff);
        if (v.ok() && v->is_number()) percent = v->get<double>();
      }
      const double failed_n = static_cast<double>(parent->failed);
      const bool over = (count && failed_n > *count) ||
                        (percent && parent->total > 0 && failed_n * 100.0 / static_cast<double>(parent->total) > *percent) ||
                        (!count && !percent);
      if (over)
        return FailParent(exec, *parent, *st, asl::kStatesExceedToleratedFailureThreshold,
                          "The specified tolerated failure threshold was exceeded");
    }
  }
  ContinueParent(exec, *parent);
}

void Executor::Impl::ContinueParent(Exec& exec, Frame& frame) {
  if (frame.status != "CHILDREN") return;
  const asl::State* st = frame.sm->Find(frame.state);
  if (!st) return;
  if (frame.finished >= frame.total) return FinishParent(exec, frame, *st);
  if (st->type == asl::StateType::kMap) LaunchMapItems(exec, frame, *st);
}

void Executor::Impl::FinishParent(Exec& exec, Frame& frame, const asl::State& st) {
  const bool map = st.type == asl::StateType::kMap;
  Emit(exec, &frame, map ? "MapStateSucceeded" : "ParallelStateSucceeded", json::object());
  json results = json::array();
  for (auto& r : frame.results) results.push_back(std::move(r));
  frame.results.clear();
  frame.results_bytes = 0;
  for (int64_t id : frame.ended_children) exec.deleted.insert(id);
  frame.ended_children.clear();
  frame.status = "RUN";  // what is left is the state's output processing
  FinishWithResult(exec, frame, st, std::move(results));
}

void Executor::Impl::FailParent(Exec& exec, Frame& frame, const asl::State& st, const std::string& error,
                                const std::string& cause) {
  RemoveChildren(exec, frame);
  Emit(exec, &frame, st.type == asl::StateType::kMap ? "MapStateFailed" : "ParallelStateFailed", json::object());
  frame.results.clear();
  frame.results_bytes = 0;
  frame.status = "RUN";
  HandleError(exec, frame, error, cause);
}

void Executor::Impl::RemoveChildren(Exec& exec, Frame& frame) {
  for (int64_t id : frame.children) {
    Frame* c = exec.Find(id);
    if (!c) continue;
    RemoveChildren(exec, *c);
    if (c->status == "TOKEN") ForgetToken(c->token);
    if (c->status == "POLL" || c->status == "POLLING") CancelTask(exec, *c);
    ++c->gen;
    c->status = "GONE";
    exec.deleted.insert(id);
    exec.graveyard.push_back(id);
  }
  frame.children.clear();
  for (int64_t id : frame.ended_children) exec.deleted.insert(id);
  frame.ended_children.clear();
}

void Executor::Impl::RestoreParent(Exec& exec, Frame& frame, const std::vector<store::FrameRecord>& ended) {
  const asl::State* st = frame.sm->Find(frame.state);
  if (st && st->type == asl::StateType::kParallel) frame.total = static_cast<int64_t>(st->branches.size());
  frame.results.assign(static_cast<size_t>(std::max<int64_t>(frame.total, 0)), json());
  int64_t launched = 0;
  for (const auto& r : ended) {
    const int64_t index = r.doc.value("index", int64_t{0});
    frame.ended_children.push_back(r.id);
    if (index >= 0 && index < frame.total) {
      frame.results[static_cast<size_t>(index)] = r.doc.value("output", json());
      frame.results_bytes += ResultBytes(frame.results[static_cast<size_t>(index)]);
    }
    ++frame.finished;
    if (r.status == "FAILED") ++frame.failed;
    launched = std::max(launched, index + 1);
  }
  for (int64_t id : frame.children) {
    if (Frame* c = exec.Find(id)) launched = std::max(launched, c->index + 1);
  }
  frame.launched = (st && st->type == asl::StateType::kParallel) ? frame.total : launched;
  exec.ready.push_back(frame.id);  // launches what the Map had not launched yet, or finishes it
}

}  // namespace lathe::states
