#include "service/custom_model_service.h"

#include <algorithm>
#include <filesystem>

#include "core/arn.h"

namespace lathe::service {

nlohmann::json PublicFields(const nlohmann::json& doc) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [k, v] : doc.items())
    if (k.empty() || k[0] != '_') out[k] = v;
  return out;
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

Result<std::string> CustomModelService::Register(const store::ResourceRow& job, const std::string& model_dir) {
  const nlohmann::json& j = job.doc;
  store::ResourceRow m;
  m.kind = kCustomModelKind;
  m.id = NewResourceId();
  m.name = j.value("outputModelName", job.name);
  m.arn = BedrockArn(config_.scope, "custom-model/" + j.value("_baseModelId", std::string(kDefaultModelId)) + "/" + m.id);
  m.status = "Active";
  m.created_ms = NowMillis();
  m.doc = {{"modelArn", m.arn},
           {"modelName", m.name},
           {"jobName", job.name},
           {"jobArn", job.arn},
           {"baseModelArn", j.value("baseModelArn", "")},
           {"baseModelName", j.value("_baseModelId", "")},
           {"customizationType", j.value("customizationType", "FINE_TUNING")},
           {"hyperParameters", j.value("hyperParameters", nlohmann::json::object())},
           {"trainingDataConfig", j.value("trainingDataConfig", nlohmann::json::object())},
           {"outputDataConfig", j.value("outputDataConfig", nlohmann::json::object())},
           {"creationTime", Iso8601(m.created_ms)},
           {"modelStatus", "Active"},
           {"_dir", model_dir}};
  if (j.contains("validationDataConfig")) m.doc["validationDataConfig"] = j["validationDataConfig"];
  if (j.contains("trainingMetrics")) m.doc["trainingMetrics"] = j["trainingMetrics"];
  if (j.contains("validationMetrics")) m.doc["validationMetrics"] = j["validationMetrics"];
  LATHE_RETURN_IF_ERROR(db_->Insert(m));
  if (j.contains("_customModelTags")) {
    std::map<std::string, std::string> tags;
    for (const auto& t : j["_customModelTags"]) tags[t.value("key", "")] = t.value("value", "");
    LATHE_RETURN_IF_ERROR(db_->SetTags(m.arn, tags));
  }
  return m.arn;
}

Result<store::ResourceRow> CustomModelService::Find(const std::string& identifier) {
  auto row = db_->Find(kCustomModelKind, identifier);
  if (!row.ok() && row.status().code() == Status::Code::kNotFound)
    return Status::NotFound("Custom model " + identifier + " not found");
  return row;
}

Result<nlohmann::json> CustomModelService::Get(const std::string& identifier) {
  auto row = Find(identifier);
  if (!row.ok()) return row.status();
  return PublicFields(row->doc);
}

Result<nlohmann::json> CustomModelService::List(const std::map<std::string, std::string>& query) {
  auto q = ParseListQuery(query);
  if (!q.ok()) return q.status();
  auto rows = db_->List(kCustomModelKind);
  if (!rows.ok()) return rows.status();
  std::vector<store::ResourceRow> filtered;
  for (auto& r : *rows) {
    auto base = query.find("baseModelArnEquals");
    if (base != query.end() && r.doc.value("baseModelArn", "") != base->second) continue;
    filtered.push_back(std::move(r));
  }
  std::string next;
  nlohmann::json summaries = nlohmann::json::array();
  for (const auto& r : ApplyListQuery(std::move(filtered), *q, &next))
    summaries.push_back({{"modelArn", r.arn},
                         {"modelName", r.name},
                         {"creationTime", Iso8601(r.created_ms)},
                         {"baseModelArn", r.doc.value("baseModelArn", "")},
                         {"baseModelName", r.doc.value("baseModelName", "")},
                         {"customizationType", r.doc.value("customizationType", "FINE_TUNING")},
                         {"ownerAccountId", config_.scope.account},
                         {"modelStatus", r.status}});
  nlohmann::json out = {{"modelSummaries", summaries}};
  if (!next.empty()) out["nextToken"] = next;
  return out;
}

Status CustomModelService::Delete(const std::string& identifier,
                                  const std::function<bool(const std::string& arn)>& in_use) {
  auto row = Find(identifier);
  if (!row.ok()) return row.status();
  if (in_use(row->arn))
    return Status::Conflict("Custom model " + row->name + " is used by a provisioned throughput; delete that first");
  LATHE_RETURN_IF_ERROR(db_->Delete(kCustomModelKind, row->id));
  std::error_code ec;
  const std::string dir = row->doc.value("_dir", "");
  // Only files lathe made: the job's folder under the data dir holds the model.
  if (!dir.empty() && dir.rfind(config_.data_dir, 0) == 0) std::filesystem::remove_all(dir, ec);
  auto tags = db_->Tags(row->arn);
  if (!tags.ok()) return tags.status();
  std::vector<std::string> keys;
  for (const auto& [k, v] : *tags) keys.push_back(k);
  return db_->RemoveTags(row->arn, keys);
}

}  // namespace lathe::service
