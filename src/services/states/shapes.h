// Step Functions' wire shapes (botocore's stepfunctions/2016-11-23 model, awsJson 1.0): request
// members -> typed inputs, typed results -> response members. Timestamps are epoch seconds (JSON
// numbers), as botocore reads them. A member of the wrong JSON type is a SerializationException,
// a missing required member a ValidationException naming it, as AWS's front door answers.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "aws/json_members.h"
#include "services/states/backend.h"

namespace lathe::states {

// Members of a request object: aws::JsonMembers' readers, and Step Functions' paging and tags.
class Members : public aws::JsonMembers {
 public:
  explicit Members(const nlohmann::json& object) : JsonMembers(object) {}
  // maxResults (0..1000; 0 or absent = 100) and nextToken (≤ max_token bytes).
  Result<PageRequest> Paging(size_t max_token) const;
  Result<std::vector<Tag>> Tags(const char* name) const;
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
