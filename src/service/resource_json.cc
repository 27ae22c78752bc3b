#include "service/resource_json.h"

#include <cstdlib>

#include "core/arn.h"
#include "core/page_token.h"

namespace lathe::service {
using nlohmann::json;

nlohmann::json PublicFields(const nlohmann::json& doc) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [k, v] : doc.items())
    if (k.empty() || k[0] != '_') out[k] = v;
  return out;
}

std::map<std::string, std::string> TagsFromJson(const nlohmann::json& list) {
  std::map<std::string, std::string> tags;
  if (!list.is_array()) return tags;
  for (const auto& t : list)
    if (t.is_object() && t.value("key", nlohmann::json()).is_string() && t.value("value", nlohmann::json()).is_string())
      tags[t["key"].get<std::string>()] = t["value"].get<std::string>();
  return tags;
}

json TagsToJson(const std::map<std::string, std::string>& tags) {
  json list = json::array();
  for (const auto& [k, v] : tags) list.push_back({{"key", k}, {"value", v}});
  return list;
}

Status RemoveAllTags(store::MetadataStore* db, const std::string& arn) {
  auto tags = db->Tags(arn);
  if (!tags.ok()) return tags.status();
  std::vector<std::string> keys;
  for (const auto& [k, v] : *tags) keys.push_back(k);
  return db->RemoveTags(arn, keys);
}

Status CheckTagCount(size_t count, const std::string& field) {
  if (count <= kMaxTags) return Status::Ok();
  return Status::Aws("TooManyTagsException", 400,
                     "Too many tags: " + field + " holds " + std::to_string(count) + " tags, at most " +
                         std::to_string(kMaxTags),
                     Status::Code::kQuotaExceeded);
}

namespace {

// Each Bedrock list has its own token space ("bedrock:list:<kind>"): a token is an offset into
// that kind's rows, and a ListCustomModels token given to ListEvaluationJobs is refused.
std::string TokenScope(const std::string& kind) { return "bedrock:list:" + kind; }

// The offset a nextToken this server issued for `kind` stands for (core/page_token.h), at most
// kMaxListOffset.
Result<size_t> ParseNextToken(const std::string& token, const std::string& kind) {
  const Status invalid = Status::Aws("ValidationException", 400,
                                     "Invalid nextToken: not a token this server issued for this list");
  std::optional<std::string> position = DecodePageToken(TokenScope(kind), token);
  if (!position || position->empty() || position->size() > 10) return invalid;
  size_t offset = 0;
  for (char c : *position) {
    if (c < '0' || c > '9') return invalid;
    offset = offset * 10 + static_cast<size_t>(c - '0');
  }
  if (offset > kMaxListOffset) return invalid;
  return offset;
}

}  // namespace

Result<ListQuery> ParseListQuery(const std::map<std::string, std::string>& query, const FieldRule& name_rule) {
  ListQuery q;
  for (const auto& [k, v] : query) {
    if (k == "nameContains") {
      LATHE_RETURN_IF_ERROR(CheckLength(v, k, name_rule));
      q.name_contains = v;
    } else if (k == "baseModelArnEquals" || k == "modelArnEquals") {
      LATHE_RETURN_IF_ERROR(CheckLength(v, k, rules::kModelArn));  // the caller filters on it
    }
    else if (k == "statusEquals" || k == "modelStatus") q.status_equals = v;
    else if (k == "creationTimeAfter" || k == "creationTimeBefore") {
      int64_t t = ParseIso8601(v);
      if (t < 0) return Status::InvalidArgument(k + ": expected an ISO-8601 timestamp, got \"" + v + "\"");
      (k == "creationTimeAfter" ? q.created_after : q.created_before) = t;
    } else if (k == "sortOrder") {
      if (v != "Ascending" && v != "Descending")
        return Status::InvalidArgument("sortOrder: expected Ascending or Descending, got \"" + v + "\"");
      q.descending = v == "Descending";
    } else if (k == "sortBy") {
      if (v != "CreationTime") return Status::InvalidArgument("sortBy: expected CreationTime, got \"" + v + "\"");
    } else if (k == "maxResults") {
      char* end = nullptr;
      long n = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end || n < 1 || n > 1000)
        return Status::InvalidArgument("maxResults: expected an integer in [1, 1000], got \"" + v + "\"");
      q.max_results = static_cast<size_t>(n);
    } else if (k == "nextToken") {
      LATHE_RETURN_IF_ERROR(CheckString(v, "nextToken", rules::kPaginationToken));
      q.next_token = v;  // decoded by ListPage, which knows the list's kind
    }
    // Other filters (baseModelArnEquals, ...) are applied by the caller.
  }
  return q;
}

Result<std::vector<store::ResourceRow>> ListPage(store::MetadataStore* db, const std::string& kind, const ListQuery& q,
                                                 const std::map<std::string, std::string>& doc_equals,
                                                 std::string* next_token) {
  size_t start = 0;
  if (!q.next_token.empty()) {
    auto offset = ParseNextToken(q.next_token, kind);
    if (!offset.ok()) return offset.status();
    start = *offset;
  }
  store::MetadataStore::ListFilter f;
  if (!q.status_equals.empty()) f.statuses = {q.status_equals};
  f.name_contains = q.name_contains;
  f.created_after = q.created_after;
  f.created_before = q.created_before;
  f.doc_equals = doc_equals;
  f.descending = q.descending;
  f.offset = start;
  f.limit = q.max_results + 1;  // one more than asked tells whether a next page exists
  auto rows = db->List(kind, f);
  if (!rows.ok()) return rows;
  next_token->clear();
  if (rows->size() > q.max_results && start + q.max_results <= kMaxListOffset) {
    rows->resize(q.max_results);
    *next_token = EncodePageToken(TokenScope(kind), std::to_string(start + q.max_results));
  }
  return rows;
}

}  // namespace lathe::service
