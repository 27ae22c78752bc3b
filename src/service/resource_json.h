// What every resource operation shares: Bedrock's List filters, sort order and pagination over
// stored rows, TagList parsing, and keeping lathe's private document keys out of responses.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/metadata_store.h"

namespace lathe::service {

struct ListQuery {
  std::string name_contains, status_equals;
  int64_t created_after = -1, created_before = -1;
  bool descending = true;  // Bedrock's default sortOrder is Descending
  size_t max_results = 100, start = 0;
};
Result<ListQuery> ParseListQuery(const std::map<std::string, std::string>& query);
// Filters and pages rows; sets *next_token when more remain.
std::vector<store::ResourceRow> ApplyListQuery(std::vector<store::ResourceRow> rows, const ListQuery& q,
                                               std::string* next_token);
// Bedrock's TagList ([{"key", "value"}, ...]) as a map; anything malformed is skipped (the API
// layer has already refused it).
std::map<std::string, std::string> TagsFromJson(const nlohmann::json& list);
// Removes lathe's private keys (those starting with '_') from a stored document.
nlohmann::json PublicFields(const nlohmann::json& doc);

}  // namespace lathe::service
