// History events as GetExecutionHistory answers them: the event type names of botocore's
// HistoryEventType and, for each type, the HistoryEvent member its details go in
// ("TaskStateEntered" -> "stateEnteredEventDetails"). The executor stores each event's details
// as that member's value (store::HistoryRecord::details); the API puts it under DetailsMember.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace lathe::states {

// The HistoryEvent member that carries `type`'s details, or "" for types that have none
// (ParallelStateStarted, LambdaFunctionStarted, MapStateSucceeded ...).
std::string DetailsMember(const std::string& type);

// Detail values, AWS's members: inputs and outputs are JSON text with {"truncated": false}.
nlohmann::json StateEnteredDetails(const std::string& state, const nlohmann::json& input);
nlohmann::json StateExitedDetails(const std::string& state, const nlohmann::json& output);
nlohmann::json ErrorDetails(const std::string& error, const std::string& cause);
nlohmann::json OutputDetails(const nlohmann::json& output);  // ExecutionSucceeded

// "<Pass|Task|...>StateEntered"; `type_name` is asl::StateTypeName's.
std::string EnteredType(const std::string& type_name);
std::string ExitedType(const std::string& type_name);

}  // namespace lathe::states
