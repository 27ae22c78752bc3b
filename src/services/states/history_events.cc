#include "services/states/history_events.h"

#include <map>

#include "asl/payload.h"

namespace lathe::states {

namespace {
std::string Text(const nlohmann::json& v) { return asl::DumpPayload(v); }
}  // namespace

std::string DetailsMember(const std::string& type) {
  // Types whose member is not simply lowerCamel(type) + "EventDetails".
  static const std::map<std::string, std::string> kShared = [] {
    std::map<std::string, std::string> m;
    for (const char* s : {"Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map"}) {
      m[std::string(s) + "StateEntered"] = "stateEnteredEventDetails";
      m[std::string(s) + "StateExited"] = "stateExitedEventDetails";
    }
    for (const char* s : {"Started", "Succeeded", "Failed", "Aborted"})
      m[std::string("MapIteration") + s] = "mapIteration" + std::string(s) + "EventDetails";
    return m;
  }();
  static const std::map<std::string, bool> kHasOwn = {
      {"ExecutionStarted", true},        {"ExecutionSucceeded", true},   {"ExecutionFailed", true},
      {"ExecutionAborted", true},        {"ExecutionTimedOut", true},    {"ExecutionRedriven", true},
      {"TaskScheduled", true},           {"TaskStarted", true},          {"TaskSubmitted", true},
      {"TaskSucceeded", true},           {"TaskFailed", true},           {"TaskTimedOut", true},
      {"TaskStartFailed", true},         {"TaskSubmitFailed", true},     {"MapStateStarted", true},
      {"LambdaFunctionScheduled", true}, {"LambdaFunctionFailed", true}, {"LambdaFunctionSucceeded", true},
      {"LambdaFunctionTimedOut", true},  {"LambdaFunctionStartFailed", true},
      {"LambdaFunctionScheduleFailed", true}, {"ActivityScheduled", true}, {"ActivityStarted", true},
      {"ActivitySucceeded", true},       {"ActivityFailed", true},       {"ActivityTimedOut", true},
      {"ActivityScheduleFailed", true},  {"MapRunStarted", true},        {"MapRunFailed", true},
      {"EvaluationFailed", true}};
  if (auto it = kShared.find(type); it != kShared.end()) return it->second;
  if (kHasOwn.count(type) == 0) return "";
  std::string member = type;
  member[0] = static_cast<char>(member[0] - 'A' + 'a');
  return member + "EventDetails";
}

nlohmann::json StateEnteredDetails(const std::string& state, const nlohmann::json& input) {
  return {{"name", state}, {"input", Text(input)}, {"inputDetails", {{"truncated", false}}}};
}

nlohmann::json StateExitedDetails(const std::string& state, const nlohmann::json& output) {
  return {{"name", state}, {"output", Text(output)}, {"outputDetails", {{"truncated", false}}}};
}

nlohmann::json ErrorDetails(const std::string& error, const std::string& cause) {
  return {{"error", error}, {"cause", cause}};
}

nlohmann::json OutputDetails(const nlohmann::json& output) {
  return {{"output", Text(output)}, {"outputDetails", {{"truncated", false}}}};
}

std::string EnteredType(const std::string& type_name) { return type_name + "StateEntered"; }
std::string ExitedType(const std::string& type_name) { return type_name + "StateExited"; }

}  // namespace lathe::states
