#include "cli/costs_deployments.h"

#include "service/deployment_service.h"
#include "service/deployment_stats.h"

namespace lathe::cli {

Result<std::vector<service::DeploymentUsage>> DeploymentUsages(store::MetadataStore* db, int64_t now_ms,
                                                               int64_t since_ms) {
  std::vector<service::DeploymentUsage> out;
  auto stats = db->List(service::kDeploymentStatsKind);
  if (!stats.ok()) return stats.status();
  const bool windowed = since_ms > 0 && now_ms - since_ms <= service::kStatsBucketMs * int64_t{service::kMaxStatsBuckets};
  for (const auto& row : *stats) {
    auto deployment = db->Find(service::kDeploymentKind, row.id);
    const nlohmann::json doc = deployment.ok() ? deployment->doc : nlohmann::json::object();
    for (const auto& v : service::DeploymentStats::SummaryFromRow(row, now_ms, windowed ? now_ms - since_ms : 0)) {
      const service::WindowStats& w = windowed ? v.window : v.total;
      service::DeploymentUsage u;
      u.deployment_id = row.id;
      u.deployment_name = deployment.ok() ? deployment->name : row.name;
      u.created_ms = deployment.ok() ? deployment->created_ms : row.created_ms;
      u.served = v.served;
      // The model that served it: the routing's record of it, else the served name when it is an
      // ARN, else the deployment's model.
      for (const char* variant : {"champion", "challenger"}) {
        const nlohmann::json s = doc.value(nlohmann::json::json_pointer(std::string("/_serving/") + variant), nlohmann::json());
        if (s.is_object() && s.value("served", "") == v.served) u.model_arn = s.value("modelArn", "");
      }
      if (u.model_arn.empty()) u.model_arn = v.served.rfind("arn:", 0) == 0 ? v.served : doc.value("modelArn", "");
      u.requests = w.requests;
      u.input_tokens = w.input_tokens;
      u.output_tokens = w.output_tokens;
      u.compute_ms = w.compute_ms;
      u.last_request_ms = v.last_request_ms;
      out.push_back(std::move(u));
    }
  }
  return out;
}

}  // namespace lathe::cli
