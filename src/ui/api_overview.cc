// The Overview page: running jobs with progress and ETA, job counts, deployments and their
// traffic, recent pipeline executions, the data directory's disk, and compute beside what Bedrock
// would have charged (service/costs.h over the rows `lathe costs` reads; deployments' own usage
// lines are `lathe costs`' alone). Costs are recomputed at most every 10 s: they read every row.
#include <sys/statvfs.h>

#include <mutex>

#include "core/arn.h"
#include "core/env.h"
#include "service/bedrock_service.h"
#include "service/costs.h"
#include "store/execution_store.h"
#include "ui/api.h"
#include "ui/json_fields.h"
#include "ui/live_feed.h"
#include "ui/query_params.h"

namespace lathe::ui {

using json = nlohmann::json;

namespace {

constexpr size_t kOverviewDeployments = 10;
constexpr size_t kOverviewExecutions = 10;
constexpr int64_t kCostCacheMs = 10000;

json Disk(const std::string& data_dir) {
  json out = json::object();
  struct statvfs fs {};
  if (::statvfs(data_dir.c_str(), &fs) == 0) {
    const double unit = static_cast<double>(fs.f_frsize);
    out["totalBytes"] = unit * static_cast<double>(fs.f_blocks);
    out["freeBytes"] = unit * static_cast<double>(fs.f_bavail);
  }
  uint64_t db = 0;
  if (Env::Default()->GetFileSize(data_dir + "/lathe.db", &db).ok()) out["databaseBytes"] = db;
  return out;
}

json ExecutionSummary(const store::ExecutionRecord& e) {
  json s = {{"arn", e.arn}, {"name", e.name}, {"stateMachineArn", e.state_machine_arn}, {"status", e.status},
            {"startDate", Iso8601(e.start_ms)}};
  if (e.stop_ms) s["stopDate"] = Iso8601(e.stop_ms);
  return s;
}

}  // namespace

json ExecutionSummaryJson(const store::ExecutionRecord& e) { return ExecutionSummary(e); }

ApiResult Api::Overview() {
  json out = {{"runningJobs", json::array()}, {"jobCounts", json::object()}, {"deployments", json::array()},
              {"executions", json::array()}, {"disk", Disk(b_.data_dir)}};
  if (b_.store) {
    store::MetadataStore::ListFilter running;
    running.statuses = {"InProgress", "Stopping"};
    running.limit = 50;
    auto rows = b_.store->List(service::kJobKind, running);
    if (!rows.ok()) return rows.status();
    for (const auto& r : *rows) out["runningJobs"].push_back(JobSummary(r));
    for (const char* status : {"InProgress", "Completed", "Failed", "Stopping", "Stopped"}) {
      store::MetadataStore::ListFilter f;
      f.statuses = {status};
      if (auto n = b_.store->Count(service::kJobKind, f); n.ok()) out["jobCounts"][status] = *n;
    }
  }
  if (b_.bedrock) {
    auto listed = b_.bedrock->deployments().List({{"maxResults", std::to_string(kOverviewDeployments)}});
    if (listed.ok())
      for (const auto& d : (*listed)["modelDeploymentSummaries"]) {
        json row = d;
        if (auto stats = b_.bedrock->deployments().Stats(StringField(d, "customModelDeploymentArn"), 3600 * 1000); stats.ok())
          row["variants"] = ArrayField((*stats), "variants");
        out["deployments"].push_back(row);
      }
  }
  if (b_.executions) {
    store::ExecutionFilter f;
    f.limit = kOverviewExecutions;
    if (auto list = b_.executions->List(f); list.ok())
      for (const auto& e : *list) out["executions"].push_back(ExecutionSummary(e));
  }
  out["costs"] = Costs();
  return out;
}

Api::~Api() {
  if (cost_recount_.joinable()) cost_recount_.join();
}

json Api::Costs() {
  if (!b_.store || !b_.bedrock) return json::object();
  {
    std::lock_guard<std::mutex> lock(cost_mu_);
    if (!cost_.is_null()) {
      if (NowMillis() - cost_at_ms_ >= kCostCacheMs && !cost_recounting_) {
        cost_recounting_ = true;
        if (cost_recount_.joinable()) cost_recount_.join();  // the last recount, which has ended
        cost_recount_ = std::thread([this] {
          json fresh = CountCosts();
          bool differs = false;
          {
            std::lock_guard<std::mutex> lock(cost_mu_);
            differs = !fresh.empty() && fresh["totals"] != cost_["totals"];
            if (!fresh.empty()) cost_ = std::move(fresh);
            cost_at_ms_ = NowMillis();
            cost_recounting_ = false;
          }
          if (differs && live_) live_->Changed();  // the overview shows the new figures
        });
      }
      return cost_;
    }
  }
  json fresh = CountCosts();
  std::lock_guard<std::mutex> lock(cost_mu_);
  if (!fresh.empty()) {
    cost_ = fresh;
    cost_at_ms_ = NowMillis();
  }
  return fresh;
}

json Api::CountCosts() {
  const int64_t now = NowMillis();
  Result<service::CostInputs> in = service::ReadCostInputs(*b_.store);
  if (!in.ok()) return json::object();
  const service::CostReport report = service::ComputeCosts(*in, b_.bedrock->config().prices, now, 0);
  json totals = service::CostReportJson(report);
  return json{{"currency", StringField(totals, "currency")}, {"priceSource", StringField(totals, "priceSource")},
              {"totals", ObjectField(totals, "totals")}, {"lines", report.lines.size()},
              {"countedAt", Iso8601(now)}};
}

}  // namespace lathe::ui
