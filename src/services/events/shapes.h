// EventBridge's wire shapes (botocore's events/2015-10-07 model, awsJson 1.1): request members
// -> typed inputs, typed results -> response members. A member of the wrong JSON type is a
// SerializationException, as AWS's JSON protocols answer it; a missing required member a
// ValidationException naming it.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "aws/json_members.h"
#include "services/events/backend.h"

namespace lathe::events {

// Members of a request object: aws::JsonMembers' readers, and EventBridge's paging and tags.
class Members : public aws::JsonMembers {
 public:
  explicit Members(const nlohmann::json& object) : JsonMembers(object) {}
  // Limit (1-100, default 100) and NextToken.
  Result<PageRequest> Paging() const;
  Result<std::vector<Tag>> Tags(const char* name) const;
};

Result<Target> TargetFromWire(const nlohmann::json& member, size_t index);
Result<PutEventsEntry> EntryFromWire(const nlohmann::json& member, size_t index);

nlohmann::json RuleToWire(const Rule& rule);
nlohmann::json TargetToWire(const Target& target);
nlohmann::json BusToWire(const EventBus& bus, bool times);
// {"FailedEntryCount", <entries_member>: [...]} with each failure as {"TargetId"|"EventId", ...}.
nlohmann::json EntryResultsToWire(const std::vector<EntryResult>& results, const char* entries_member,
                                  const char* id_member, bool all_entries);

}  // namespace lathe::events
