#include "services/events/task_integration.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <set>
#include <spdlog/spdlog.h>
#include <string_view>
#include <variant>
#include <vector>

#include "aws/wire.h"
#include "core/arn.h"
#include "services/events/errors.h"
#include "services/events/shapes.h"
#include "services/states/sdk_result.h"

namespace lathe::events {
namespace {

using nlohmann::json;
using states::MemberNamed;
using states::TaskOutcome;
using states::UnsupportedField;

// PutEventsRequestEntry's members (botocore's events/2015-10-07 model).
constexpr std::array<std::string_view, 7> kEntryMembers = {"Time",   "Source",       "Resources", "DetailType",
                                                            "Detail", "EventBusName", "TraceHeader"};

TaskOutcome EventsFailure(const Status& s) {
  auto [code, http] = aws::ErrorCodeFor(aws::Protocol::kAwsJson11, s);
  // As the AWS SDK for Java words a service's error, which is what Step Functions shows.
  return TaskOutcome::Failure("EventBridge." + code, states::SdkErrorCause(s.message(), "AmazonEventBridge", http, code));
}

// One entry in PutEvents' member names, with Step Functions' changes: string members that are
// not strings as their JSON text (a Detail object), the execution's ARNs appended to Resources.
std::variant<json, TaskOutcome> NormalEntry(const json& entry, const std::vector<std::string>& appended) {
  if (!entry.is_object()) return entry;  // EntryFromWire words the error
  json out = json::object();
  for (const auto& [key, value] : entry.items()) {
    std::string_view member = MemberNamed(key, kEntryMembers);
    if (member.empty()) return UnsupportedField("Entries." + key);
    const std::string name(member);
    if (out.contains(name))
      return TaskOutcome::Failure("States.Runtime", "The field \"Entries." + name + "\" is given twice");
    if (value.is_null() || name == "Time" || name == "Resources")
      out[name] = value;
    else
      out[name] = value.is_string() ? value : json(value.dump());
  }
  if (!appended.empty()) {
    json& resources = out["Resources"];
    if (resources.is_null()) resources = json::array();
    if (resources.is_array())  // anything else: EntryFromWire words the error
      for (const std::string& arn : appended) resources.push_back(arn);
  }
  return out;
}

}  // namespace

std::string StateMachineArnOfExecution(const std::string& execution_arn) {
  // arn : aws : states : region : account : execution : machine : name
  std::vector<std::string> parts;
  size_t start = 0;
  while (parts.size() <= 8) {  // a ninth part is one too many
    size_t colon = execution_arn.find(':', start);
    parts.push_back(execution_arn.substr(start, colon == std::string::npos ? std::string::npos : colon - start));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  if (parts.size() != 8 || parts[0] != "arn" || parts[2] != "states" || parts[5] != "execution" || parts[6].empty())
    return "";
  return "arn:" + parts[1] + ":states:" + parts[3] + ":" + parts[4] + ":stateMachine:" + parts[6];
}

bool EventsTaskIntegration::Supports(const std::string& action, const std::string& pattern) const {
  return action == "putEvents" && (pattern.empty() || pattern == "waitForTaskToken");
}

TaskOutcome EventsTaskIntegration::Start(const states::TaskCall& call) {
  const json& p = call.parameters;
  if (!p.is_object())
    return TaskOutcome::Failure("States.Runtime", "The Parameters of events:putEvents must be a JSON object");
  const json* entries = nullptr;
  for (const auto& [key, value] : p.items()) {
    if (key != "Entries" && key != "entries") return UnsupportedField(key);
    if (entries) return TaskOutcome::Failure("States.Runtime", "The field \"Entries\" is given twice");
    entries = &value;
  }
  if (!entries || entries->is_null())
    return EventsFailure(ValidationError("1 validation error detected: Value null at 'entries' failed to satisfy "
                                         "constraint: Member must not be null"));
  if (!entries->is_array())
    return EventsFailure(Status::Aws("SerializationException", 400,
                                     "Member Entries must be a list of PutEventsRequestEntry objects."));

  std::vector<std::string> appended;
  if (!call.execution_arn.empty()) appended.push_back(call.execution_arn);
  if (std::string machine = StateMachineArnOfExecution(call.execution_arn); !machine.empty())
    appended.push_back(machine);
  // One entry past the limit is enough for the backend to refuse the request with its own words.
  const size_t n = std::min(entries->size(), kMaxPutEventsEntries + 1);
  std::vector<PutEventsEntry> typed;
  for (size_t i = 0; i < n; ++i) {
    std::variant<json, TaskOutcome> entry = NormalEntry((*entries)[i], appended);
    if (auto* failed = std::get_if<TaskOutcome>(&entry)) return *failed;
    Result<PutEventsEntry> e = EntryFromWire(std::get<json>(entry), i);
    if (!e.ok()) return EventsFailure(e.status());
    typed.push_back(std::move(*e));
  }
  Result<std::vector<EntryResult>> results = backend_->PutEvents(Scope{call.account, call.region}, typed, NowMillis());
  if (!results.ok()) return EventsFailure(results.status());
  json response = EntryResultsToWire(*results, "Entries", "EventId", /*all_entries=*/true);
  const int failed = response["FailedEntryCount"].get<int>();
  if (failed < static_cast<int>(results->size()) && events_put_) events_put_();  // some were put
  if (failed > 0) return TaskOutcome::Failure("EventBridge.FailedEntry", response.dump());
  spdlog::info("events: {} (state {}) put {} event(s)", call.execution_arn, call.state_name, results->size());
  return TaskOutcome::Success(std::move(response));
}

}  // namespace lathe::events
