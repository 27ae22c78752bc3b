// The arithmetic and the row format behind DeploymentStats: counting into minute buckets,
// windows over them, latency percentiles from the bounded histogram, and the JSON document of a
// "deployment-stats" row. Pure functions on stats_detail's structs; DeploymentStats holds the lock.
#pragma once

#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "service/deployment_stats.h"

namespace lathe::service::stats_detail {

// The minute a time falls in (floor, also before 1970).
int64_t MinuteOf(int64_t time_ms);

void CountOutcome(Counters* c, const Outcome& outcome);
// sign +1 counts one feedback, -1 takes back one counted earlier with the same values.
void CountFeedback(Counters* c, int sign, bool positive, double score);

// The bucket of `minute`, created when `create` (and within the kept day); nullptr when there is
// none (older than the kept day, or not created). Drops buckets a day older than the newest.
Counters* BucketFor(Served* served, int64_t minute, bool create);

// Sums with p50/p95 filled in from the histogram.
WindowStats Finish(const Counters& c);
// Buckets overlapping [now - window, now], rounded out to whole minutes.
WindowStats WindowOf(const Served& served, int64_t now_ms, int64_t window_ms);
std::vector<VariantStats> SummaryOf(const Deployment& deployment, int64_t now_ms, int64_t window_ms);

// The row document: {"served": {"<served>": {"lastRequestMs", "total", "buckets", "comments"}}}.
nlohmann::json DeploymentToJson(const Deployment& deployment);
// Corruption naming what is wrong; every count and size bounded as in memory.
Result<Deployment> DeploymentFromJson(const nlohmann::json& doc);

}  // namespace lathe::service::stats_detail
