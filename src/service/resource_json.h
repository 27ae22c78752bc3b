// What every resource operation shares: Bedrock's List filters, sort order and pagination over
// stored rows, TagList parsing, and keeping lathe's private document keys out of responses.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/status.h"
#include "service/field_rules.h"
#include "store/metadata_store.h"

namespace lathe::service {

struct ListQuery {
  std::string name_contains, status_equals;
  int64_t created_after = -1, created_before = -1;
  bool descending = true;  // Bedrock's default sortOrder is Descending
  size_t max_results = 100;
  std::string next_token;  // as given (length and pattern checked); ListPage decodes it
};
// `name_rule` bounds nameContains (JobName, CustomModelName, ProvisionedModelName). nextToken is
// opaque to clients: a decimal offset this server issued for the same list (kind), at most
// kMaxListOffset; anything else (another list's token too) is ValidationException "Invalid
// nextToken" from ListPage (it never reaches the store).
inline constexpr size_t kMaxListOffset = 1000000000;
Result<ListQuery> ParseListQuery(const std::map<std::string, std::string>& query, const FieldRule& name_rule);
// One page of a kind's rows for a List operation: the query's filters, plus doc_equals (a document
// key -> value, e.g. {"baseModelArn", ARN}), all applied by the store; sets *next_token when more
// remain.
Result<std::vector<store::ResourceRow>> ListPage(store::MetadataStore* db, const std::string& kind, const ListQuery& q,
                                                 const std::map<std::string, std::string>& doc_equals,
                                                 std::string* next_token);
// A TagList lathe stored after checking it (request_fields.h's TagList) back as a map.
std::map<std::string, std::string> TagsFromJson(const nlohmann::json& list);
// The same map as a TagList, for storing.
nlohmann::json TagsToJson(const std::map<std::string, std::string>& tags);
// Bedrock allows 200 tags a resource. More is Bedrock's TooManyTagsException (HTTP 400), carried
// by the Status itself (Status::Aws), with code() QuotaExceeded for layers that know no AWS names.
inline constexpr size_t kMaxTags = 200;
Status CheckTagCount(size_t count, const std::string& field);

// Removes every tag of `arn` (its resource is being deleted).
Status RemoveAllTags(store::MetadataStore* db, const std::string& arn);

// Removes lathe's private keys (those starting with '_') from a stored document.
nlohmann::json PublicFields(const nlohmann::json& doc);

}  // namespace lathe::service
