// The Pipelines page: Step Functions' state machines (every region's: the dashboard is the
// server's, not one signer's), their executions newest first, and one execution with the graph of
// the definition it runs, each state's progress, its history and each step's input and output.
#include <algorithm>
#include <set>

#include "core/arn.h"
#include "services/states/backend.h"
#include "store/execution_store.h"
#include "ui/api.h"
#include "ui/pipeline_graph.h"
#include "ui/query_params.h"

namespace lathe::ui {

using json = nlohmann::json;

namespace {

constexpr size_t kMaxMachinesListed = 500;
constexpr size_t kMaxHistoryRead = 2000;
constexpr size_t kMaxArnBytes = 2048;
// A history event's input and output (256 KiB each at most) are cut to this much in the
// execution's answer, which the page refetches as the execution runs; a step's full input and
// output are fetched on click (GET executions/<arn>/events/<id>). Past the budget, the rest of
// the history's payloads are cut to nothing.
constexpr size_t kMaxInlinedPayloadBytes = 2048;
constexpr size_t kMaxInlinedPayloadsBytes = 256 * 1024;

json ParsedOrText(const json& v) {
  if (!v.is_string()) return v;
  json parsed = json::parse(v.get<std::string>(), nullptr, false);
  return parsed.is_discarded() ? v : parsed;
}

// The start of a UTF-8 text, at most `max` bytes, not splitting a character.
std::string Preview(const std::string& text, size_t max) {
  if (text.size() <= max) return text;
  size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

// An event's details for the history list: input and output longer than the allowance (what is
// left of `budget`) become their first bytes as text, named in "truncated" with their sizes.
json ListedDetails(const json& details, size_t* budget) {
  if (!details.is_object()) return details;
  json out = details, truncated = json::object();
  for (const char* key : {"input", "output"}) {
    if (!details.contains(key)) continue;
    const json& v = details[key];
    const std::string text = v.is_string() ? v.get<std::string>() : v.dump();
    const size_t allowance = std::min(kMaxInlinedPayloadBytes, *budget);
    if (text.size() <= allowance) {
      out[key] = ParsedOrText(v);
      *budget -= text.size();
      continue;
    }
    out[key] = Preview(text, allowance);
    *budget -= out[key].get<std::string>().size();
    truncated[key] = text.size();
  }
  if (!truncated.empty()) out["truncated"] = truncated;
  return out;
}

}  // namespace

ApiResult Api::StateMachines() {
  if (!b_.store) return Unavailable("state machines");
  store::MetadataStore::ListFilter f;
  f.descending = true;
  f.limit = kMaxMachinesListed;
  auto rows = b_.store->List(states::kMachineKind, f);
  if (!rows.ok()) return rows.status();
  json out = json::array();
  for (const auto& row : *rows) {
    states::StateMachineInfo m = states::MachineFromRow(row);
    json item = {{"arn", m.arn}, {"name", m.name}, {"type", m.type}, {"status", m.status},
                 {"creationDate", Iso8601(m.created_ms)}};
    if (b_.executions) {
      store::ExecutionFilter last;
      last.state_machine_arn = m.arn;
      last.limit = 1;
      if (auto e = b_.executions->List(last); e.ok() && !e->empty()) item["lastExecution"] = ExecutionSummaryJson(e->front());
    }
    out.push_back(item);
  }
  return json{{"stateMachines", out}};
}

ApiResult Api::Executions(const ApiCall& call, const std::string& machine_arn) {
  if (!b_.executions) return Unavailable("executions");
  if (!machine_arn.empty()) LATHE_RETURN_IF_ERROR(CheckName("state machine", machine_arn, kMaxArnBytes));
  auto limit = IntParam(call.query, "limit", 50, 1, 500);
  if (!limit.ok()) return limit.status();
  store::ExecutionFilter f;
  f.state_machine_arn = machine_arn;
  f.limit = static_cast<size_t>(*limit);
  if (auto after = call.query.find("after"); after != call.query.end() && !after->second.empty()) {
    LATHE_RETURN_IF_ERROR(CheckName("after", after->second, kMaxArnBytes));
    f.after = after->second;
  }
  if (auto status = call.query.find("status"); status != call.query.end() && !status->second.empty()) {
    static const std::set<std::string> kStatuses = {"RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"};
    if (!kStatuses.count(status->second)) return Status::InvalidArgument("status: RUNNING, SUCCEEDED, FAILED, TIMED_OUT or ABORTED");
    f.status = status->second;
  }
  auto list = b_.executions->List(f);
  if (!list.ok()) return list.status();
  json items = json::array();
  for (const auto& e : *list) items.push_back(ExecutionSummaryJson(e));
  json out = {{"executions", items}};
  if (list->size() == f.limit) out["next"] = list->back().arn;
  return out;
}

ApiResult Api::Execution(const std::string& arn) {
  if (!b_.executions) return Unavailable("executions");
  LATHE_RETURN_IF_ERROR(CheckName("execution", arn, kMaxArnBytes));
  auto rec = b_.executions->Get(arn);
  if (!rec.ok()) return rec.status();
  auto history = b_.executions->History(arn, 0, kMaxHistoryRead);
  if (!history.ok()) return history.status();
  json out = ExecutionSummaryJson(*rec);
  for (const char* key : {"input", "output", "error", "cause"})
    if (rec->doc.contains(key)) out[key] = ParsedOrText(rec->doc[key]);
  json definition = json::object();
  if (rec->doc.contains("definition") && rec->doc["definition"].is_string())
    definition = json::parse(rec->doc["definition"].get<std::string>(), nullptr, false);
  if (auto graph = LayoutStateMachine(definition); graph.ok()) out["graph"] = GraphJson(*graph);
  else out["graphError"] = graph.status().message();
  json progress = json::object();
  for (const auto& [name, state] : StateProgress(*history, rec->status)) progress[name] = state;
  out["states"] = progress;
  json events = json::array();
  size_t budget = kMaxInlinedPayloadsBytes;
  for (const auto& h : *history) {
    json e = {{"id", h.id}, {"previousEventId", h.previous_id}, {"type", h.type}, {"timestamp", Iso8601(h.timestamp_ms)}};
    e["details"] = ListedDetails(h.details, &budget);
    events.push_back(std::move(e));
  }
  out["history"] = events;
  out["historyTruncated"] = history->size() == kMaxHistoryRead;
  return out;
}

}  // namespace lathe::ui

namespace lathe::ui {

ApiResult Api::ExecutionEvent(const std::string& arn, const std::string& id) {
  if (!b_.executions) return Unavailable("executions");
  LATHE_RETURN_IF_ERROR(CheckName("execution", arn, kMaxArnBytes));
  auto event_id = IntParam({{"id", id}}, "id", 0, 1, 1'000'000'000);
  if (!event_id.ok() || id.empty()) return Status::InvalidArgument("event: an event id from 1");
  LATHE_RETURN_IF_ERROR(b_.executions->Get(arn).status());
  auto history = b_.executions->History(arn, *event_id - 1, 1);
  if (!history.ok()) return history.status();
  if (history->empty() || history->front().id != *event_id) return Status::NotFound("no such history event");
  const store::HistoryRecord& h = history->front();
  json details = h.details;
  for (const char* key : {"input", "output"})
    if (details.is_object() && details.contains(key)) details[key] = ParsedOrText(details[key]);
  return json{{"id", h.id}, {"previousEventId", h.previous_id}, {"type", h.type}, {"timestamp", Iso8601(h.timestamp_ms)},
              {"details", details}};
}

}  // namespace lathe::ui
