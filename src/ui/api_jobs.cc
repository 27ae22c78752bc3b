// Jobs for the Overview and Job pages: summaries from the store's rows (one SQL page, newest
// first), one job as Bedrock answers it plus its log's tail, and its loss curves: the step CSVs
// the trainer writes at each epoch's end, then the live samples the poller saw since.
#include <algorithm>
#include <set>

#include "core/arn.h"
#include "service/bedrock_service.h"
#include "services/registry/registry.h"
#include "ui/api.h"
#include "ui/files.h"
#include "ui/json_fields.h"
#include "ui/live_feed.h"
#include "ui/query_params.h"

namespace lathe::ui {

using json = nlohmann::json;

namespace {

constexpr size_t kMaxCurvePoints = 5000;  // per answer; longer curves are thinned evenly

json Points(const std::vector<std::pair<int64_t, double>>& rows) {
  json out = json::array();
  const size_t stride = rows.size() > kMaxCurvePoints ? (rows.size() + kMaxCurvePoints - 1) / kMaxCurvePoints : 1;
  for (size_t i = 0; i < rows.size(); i += stride) out.push_back({rows[i].first, rows[i].second});
  if (stride > 1 && !rows.empty() && (rows.size() - 1) % stride != 0) out.push_back({rows.back().first, rows.back().second});
  return out;
}

}  // namespace

json JobSummary(const store::ResourceRow& r) {
  json s = {{"id", r.id},
            {"name", r.name},
            {"arn", r.arn},
            {"status", r.status},
            {"creationTime", Iso8601(r.created_ms)},
            {"baseModelArn", StringField(r.doc, "baseModelArn")},
            {"customModelName", StringField(r.doc, "outputModelName")}};
  for (const char* key : {"endTime", "outputModelArn", "failureMessage", "trainingMetrics", "statusDetails"})
    if (r.doc.contains(key)) s[key] = r.doc[key];
  if (r.doc.contains("_progress")) s["progress"] = r.doc["_progress"];
  return s;
}

ApiResult Api::Jobs(const ApiCall& call) {
  if (!b_.store) return Unavailable("jobs");
  static const std::set<std::string> kStatuses = {"InProgress", "Completed", "Failed", "Stopping", "Stopped"};
  store::MetadataStore::ListFilter filter;
  if (auto status = call.query.find("status"); status != call.query.end() && !status->second.empty()) {
    if (!kStatuses.count(status->second)) return Status::InvalidArgument("status: one of InProgress, Completed, Failed, Stopping, Stopped");
    filter.statuses = {status->second};
  }
  auto limit = IntParam(call.query, "limit", 50, 1, 200);
  auto offset = IntParam(call.query, "offset", 0, 0, 1000000);
  if (!limit.ok()) return limit.status();
  if (!offset.ok()) return offset.status();
  auto total = b_.store->Count(service::kJobKind, filter);
  if (!total.ok()) return total.status();
  filter.descending = true;
  filter.limit = static_cast<size_t>(*limit);
  filter.offset = static_cast<size_t>(*offset);
  auto rows = b_.store->List(service::kJobKind, filter);
  if (!rows.ok()) return rows.status();
  json jobs = json::array();
  for (const auto& r : *rows) jobs.push_back(JobSummary(r));
  return json{{"jobs", jobs}, {"total", *total}, {"offset", *offset}, {"limit", *limit}};
}

ApiResult Api::Job(const std::string& id) {
  if (!b_.bedrock || !b_.store) return Unavailable("jobs");
  LATHE_RETURN_IF_ERROR(CheckName("job", id, 2048));
  auto row = b_.store->Find(service::kJobKind, id);
  if (!row.ok()) return row.status();
  auto job = b_.bedrock->jobs().Get(row->arn);
  if (!job.ok()) return job.status();
  (*job)["id"] = row->id;
  (*job)["log"] = ReadTail(b_.data_dir + "/jobs/" + row->id + "/train.log", kMaxLogTailBytes);
  // The registry's versions this job made, with their data manifests (the registry finds versions
  // by the data they were trained on; of those, this job's).
  json made = json::array();
  const std::string data = StringField(ObjectField(*job, "trainingDataConfig"), "s3Uri");
  if (b_.registry && !data.empty())
    if (auto versions = b_.registry->VersionsTrainedOn(data); versions.ok())
      for (const auto& v : *versions)
        if (v.training_job_arn == row->arn) made.push_back(VersionJson(v));
  (*job)["latheRegisteredVersions"] = made;
  return *job;
}

ApiResult Api::JobMetrics(const std::string& id, const ApiCall& call) {
  if (!b_.store) return Unavailable("jobs");
  LATHE_RETURN_IF_ERROR(CheckName("job", id, 2048));
  auto after = IntParam(call.query, "afterStep", -1, -1, int64_t{1} << 50);
  if (!after.ok()) return after.status();
  auto row = b_.store->Find(service::kJobKind, id);
  if (!row.ok()) return row.status();
  const std::string run = b_.data_dir + "/jobs/" + row->id + "/run";
  std::vector<std::pair<int64_t, double>> training =
      ReadMetricsCsv(run + "/training_artifacts/step_wise_training_metrics.csv");
  const int64_t csv_last = training.empty() ? -1 : training.back().first;
  for (const LossSample& s : live_->Samples(row->id, csv_last)) training.emplace_back(s.step, s.loss);
  training.erase(std::remove_if(training.begin(), training.end(), [&](const auto& p) { return p.first <= *after; }),
                 training.end());
  const auto validation =
      ReadMetricsCsv(run + "/validation_artifacts/post_fine_tuning_validation/validation/validation_metrics.csv");
  return json{{"id", row->id},
              {"status", row->status},
              {"progress", ObjectField(row->doc, "_progress")},
              {"training", Points(training)},
              {"validation", Points(validation)}};
}

ApiResult Api::StopJob(const std::string& id) {
  if (!b_.bedrock || !b_.store) return Unavailable("jobs");
  LATHE_RETURN_IF_ERROR(CheckName("job", id, 2048));
  auto row = b_.store->Find(service::kJobKind, id);
  if (!row.ok()) return row.status();
  LATHE_RETURN_IF_ERROR(b_.bedrock->jobs().Stop(row->arn));
  return json{{"id", row->id}, {"stopping", true}};
}

ApiResult Api::Models() {
  if (!b_.bedrock) return Unavailable("models");
  json out = {{"foundation", json::array()}, {"custom", json::array()}, {"deployments", json::array()}};
  if (auto f = b_.bedrock->ListFoundationModels({}); f.ok())
    for (const auto& m : (*f)["modelSummaries"]) out["foundation"].push_back({{"id", StringField(m, "modelId")}, {"name", StringField(m, "modelName")}});
  if (auto c = b_.bedrock->custom_models().List({{"maxResults", "100"}, {"sortOrder", "Descending"}}); c.ok())
    for (const auto& m : (*c)["modelSummaries"]) out["custom"].push_back({{"id", StringField(m, "modelArn")}, {"name", StringField(m, "modelName")}});
  if (auto d = b_.bedrock->deployments().List({{"maxResults", "100"}}); d.ok())
    for (const auto& m : (*d)["modelDeploymentSummaries"])
      out["deployments"].push_back({{"id", StringField(m, "customModelDeploymentArn")},
                                    {"name", StringField(m, "customModelDeploymentName")},
                                    {"status", StringField(m, "status")}});
  return out;
}

}  // namespace lathe::ui
