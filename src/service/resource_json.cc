#include "service/resource_json.h"

#include <algorithm>
#include <cstdlib>

#include "core/arn.h"

namespace lathe::service {

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

Result<ListQuery> ParseListQuery(const std::map<std::string, std::string>& query) {
  ListQuery q;
  for (const auto& [k, v] : query) {
    if (k == "nameContains") q.name_contains = v;
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
      char* end = nullptr;
      unsigned long n = std::strtoul(v.c_str(), &end, 10);
      if (v.empty() || *end) return Status::InvalidArgument("nextToken: not a token this server issued");
      q.start = n;
    }
    // Other filters (baseModelArnEquals, ...) are applied by the caller.
  }
  return q;
}

std::vector<store::ResourceRow> ApplyListQuery(std::vector<store::ResourceRow> rows, const ListQuery& q,
                                               std::string* next_token) {
  std::vector<store::ResourceRow> kept;
  for (auto& r : rows) {
    if (!q.name_contains.empty() && r.name.find(q.name_contains) == std::string::npos) continue;
    if (!q.status_equals.empty() && r.status != q.status_equals) continue;
    if (q.created_after >= 0 && r.created_ms <= q.created_after) continue;
    if (q.created_before >= 0 && r.created_ms >= q.created_before) continue;
    kept.push_back(std::move(r));
  }
  if (q.descending) std::reverse(kept.begin(), kept.end());  // rows arrive oldest first
  next_token->clear();
  if (q.start >= kept.size()) return {};
  size_t end = std::min(kept.size(), q.start + q.max_results);
  if (end < kept.size()) *next_token = std::to_string(end);
  return {std::make_move_iterator(kept.begin() + static_cast<std::ptrdiff_t>(q.start)),
          std::make_move_iterator(kept.begin() + static_cast<std::ptrdiff_t>(end))};
}

}  // namespace lathe::service
