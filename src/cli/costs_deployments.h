// The deployments' numbers for `lathe costs`: each served model of each deployment with its
// tokens, requests and compute, read from the flushed deployment-stats rows through
// DeploymentStats::SummaryFromRow (deployment_stats.h). Within the stats' 24-hour buckets a
// --since window reads the window, beyond it the all-time totals.
#pragma once

#include <vector>

#include "core/status.h"
#include "service/costs.h"
#include "store/metadata_store.h"

namespace lathe::cli {

Result<std::vector<service::DeploymentUsage>> DeploymentUsages(store::MetadataStore* db, int64_t now_ms, int64_t since_ms);

}  // namespace lathe::cli
