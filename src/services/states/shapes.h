// Step Functions' wire shapes (botocore's stepfunctions/2016-11-23 model, awsJson 1.0): request
// members -> typed inputs, typed results -> response members. Timestamps are epoch seconds (JSON
// numbers), as botocore reads them. A member of the wrong JSON type is a SerializationException,
// a missing required member a ValidationException naming it, as AWS's front door answers.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "services/states/backend.h"

namespace lathe::states {

class Members {
 public:
  explicit Members(const nlohmann::json& object) : j_(object) {}
  Result<std::optional<std::string>> OptString(const char* name) const;
  Result<std::string> String(const char* name) const;    // "" when absent
  Result<std::string> Required(const char* name) const;  // ValidationException when absent
  Result<std::optional<int64_t>> OptInt(const char* name) const;
  Result<bool> Bool(const char* name, bool fallback) const;
  Result<std::optional<nlohmann::json>> OptObject(const char* name) const;
  Result<std::vector<std::string>> Strings(const char* name) const;
  // maxResults (0..1000; 0 or absent = 100) and nextToken (≤ max_token bytes).
  Result<PageRequest> Paging(size_t max_token) const;
  Result<std::vector<Tag>> Tags(const char* name) const;

 private:
  const nlohmann::json& j_;
};

// Seconds since the epoch, with milliseconds, as awsJson's timestamps.
double Seconds(int64_t ms);

nlohmann::json MachineToWire(const StateMachineInfo& machine);
nlohmann::json ExecutionToWire(const store::ExecutionRecord& execution, bool with_data);
nlohmann::json ExecutionListItem(const store::ExecutionRecord& execution);
// One HistoryEvent: {"timestamp", "type", "id", "previousEventId", "<...>EventDetails"}; without
// data, input and output are left out, as AWS does. The member is history_events.h's.
nlohmann::json HistoryEventToWire(const store::HistoryRecord& event, bool include_data);

}  // namespace lathe::states
