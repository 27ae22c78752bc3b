// EventBridge's wire shapes (botocore's events/2015-10-07 model, awsJson 1.1): request members
// -> typed inputs, typed results -> response members. A member of the wrong JSON type is a
// SerializationException, as AWS's JSON protocols answer it; a missing required member a
// ValidationException naming it.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "services/events/backend.h"

namespace lathe::events {

// Members of a request object.
class Members {
 public:
  explicit Members(const nlohmann::json& object) : j_(object) {}
  Result<std::optional<std::string>> OptString(const char* name) const;
  Result<std::string> String(const char* name) const;    // "" when absent
  Result<std::string> Required(const char* name) const;  // ValidationException when absent
  Result<std::optional<int64_t>> OptInt(const char* name) const;
  Result<std::vector<std::string>> Strings(const char* name) const;
  // Limit (1-100, default 100) and NextToken.
  Result<PageRequest> Paging() const;
  Result<std::vector<Tag>> Tags(const char* name) const;
  const nlohmann::json& object() const { return j_; }

 private:
  const nlohmann::json& j_;
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
