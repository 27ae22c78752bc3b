#include "services/states/shapes.h"

#include <set>

#include "services/states/errors.h"
#include "services/states/history_events.h"
#include "services/states/names.h"

namespace lathe::states {
namespace {

using nlohmann::json;

// A JSON text member of an execution's document, as the API answers it (always a string).
std::optional<std::string> TextMember(const json& doc, const char* key) {
  auto it = doc.find(key);
  if (it == doc.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  return it->dump();
}

}  // namespace

Result<PageRequest> Members::Paging(size_t max_token) const {
  PageRequest page;
  Result<std::optional<int64_t>> limit = OptInt("maxResults");
  if (!limit.ok()) return limit.status();
  if (*limit) {
    if (**limit < 0 || **limit > static_cast<int64_t>(kMaxPageSize))
      return ConstraintViolation(std::to_string(**limit), "maxResults",
                                 "Member must have value between 0 and " + std::to_string(kMaxPageSize));
    if (**limit > 0) page.limit = static_cast<size_t>(**limit);
  }
  Result<std::string> token = String("nextToken");
  if (!token.ok()) return token.status();
  if (token->size() > max_token) return CheckLength(*token, "nextToken", 1, max_token);
  page.next_token = *token;
  return page;
}

Result<std::vector<Tag>> Members::Tags(const char* name) const {
  std::vector<Tag> tags;
  auto it = j_.find(name);
  if (it == j_.end() || it->is_null()) return tags;
  if (!it->is_array()) return aws::WrongMemberType(name, "a list of tags");
  if (it->size() > kMaxTagsPerResource)
    return TooManyTags("Too many tags: a resource may have at most " + std::to_string(kMaxTagsPerResource) + " tags.");
  for (const json& t : *it) {
    if (!t.is_object()) return aws::WrongMemberType(name, "a list of {key, value} objects");
    Members m(t);
    Result<std::string> key = m.String("key");
    if (!key.ok()) return key.status();
    Result<std::string> value = m.String("value");
    if (!value.ok()) return value.status();
    tags.push_back({*key, *value});
  }
  return tags;
}

double Seconds(int64_t ms) { return static_cast<double>(ms) / 1000.0; }

json MachineToWire(const StateMachineInfo& m) {
  json out = {{"stateMachineArn", m.arn}, {"name", m.name},         {"status", m.status},
              {"definition", m.definition}, {"roleArn", m.role_arn}, {"type", m.type},
              {"creationDate", Seconds(m.created_ms)}};
  out["loggingConfiguration"] = m.logging.empty() ? json{{"level", "OFF"}, {"includeExecutionData", false}} : m.logging;
  out["tracingConfiguration"] = m.tracing.empty() ? json{{"enabled", false}} : m.tracing;
  if (!m.revision_id.empty()) out["revisionId"] = m.revision_id;
  if (!m.description.empty()) out["description"] = m.description;
  return out;
}

json ExecutionListItem(const store::ExecutionRecord& e) {
  json out = {{"executionArn", e.arn},
              {"stateMachineArn", e.state_machine_arn},
              {"name", e.name},
              {"status", e.status},
              {"startDate", Seconds(e.start_ms)}};
  if (e.stop_ms != 0) out["stopDate"] = Seconds(e.stop_ms);
  return out;
}

json ExecutionToWire(const store::ExecutionRecord& e, bool with_data) {
  json out = ExecutionListItem(e);
  const std::optional<std::string> input = TextMember(e.doc, "input");
  const std::optional<std::string> output = TextMember(e.doc, "output");
  if (with_data) {
    if (input) out["input"] = *input;
    out["inputDetails"] = {{"included", true}};
    if (output) {
      out["output"] = *output;
      out["outputDetails"] = {{"included", true}};
    }
  } else {
    out["inputDetails"] = {{"included", false}};
    if (output) out["outputDetails"] = {{"included", false}};
  }
  for (const char* key : {"error", "cause", "traceHeader"})
    if (auto v = TextMember(e.doc, key)) out[key] = *v;
  out["redriveCount"] = 0;
  out["redriveStatus"] = "NOT_REDRIVABLE";
  return out;
}

json HistoryEventToWire(const store::HistoryRecord& e, bool include_data) {
  json out = {{"timestamp", Seconds(e.timestamp_ms)}, {"type", e.type}, {"id", e.id},
              {"previousEventId", e.previous_id}};
  const std::string member = DetailsMember(e.type);
  if (member.empty()) return out;
  json details = e.details.is_object() ? e.details : json::object();
  for (const char* key : {"input", "output"}) {
    auto it = details.find(key);
    if (it == details.end()) continue;
    if (!include_data) {
      details.erase(key);
      continue;
    }
    if (!it->is_string()) *it = it->dump();  // AWS carries them as JSON text
  }
  out[member] = details;
  return out;
}

}  // namespace lathe::states
