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
// One page of a kind's rows for a List operation: the query's filters, plus doc_equals (a document
// key -> value, e.g. {"baseModelArn", ARN}), all applied by the store; sets *next_token when more
// remain.
Result<std::vector<store::ResourceRow>> ListPage(store::MetadataStore* db, const std::string& kind, const ListQuery& q,
                                                 const std::map<std::string, std::string>& doc_equals,
                                                 std::string* next_token);
// Bedrock's TagList ([{"key", "value"}, ...]) as a map; anything malformed is skipped (the API
// layer has already refused it).
std::map<std::string, std::string> TagsFromJson(const nlohmann::json& list);
// Bedrock allows 200 tags a resource. Exceeding it is a QuotaExceeded Status whose message starts
// with kTooManyTags: the API answers TooManyTagsException for those (ServiceQuotaExceeded else).
inline constexpr size_t kMaxTags = 200;
inline constexpr const char* kTooManyTags = "Too many tags";
Status CheckTagCount(size_t count, const std::string& field);

// Removes lathe's private keys (those starting with '_') from a stored document.
nlohmann::json PublicFields(const nlohmann::json& doc);

}  // namespace lathe::service
