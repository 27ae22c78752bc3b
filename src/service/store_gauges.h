// Gauges read from the (shared) store at each scrape of /metrics (docs/scale-out.md, Operations):
//   lathe_work_items{kind, state}                 items queued, leased, done (store/work_leases.h)
//   lathe_nodes{role, state}                      nodes alive or stale (store/nodes.h)
//   lathe_training_tokens_per_second{job}         running fine-tuning jobs, from their progress
//   lathe_training_trained_tokens{job}            likewise
// Every node reads the same store, so every node reports the same values: aggregate with max(),
// not sum(). The gauges stop being read when the returned handles go.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "core/metrics.h"
#include "store/metadata_store.h"

namespace lathe::service {

// At most this many running jobs are reported.
inline constexpr size_t kMaxReportedRunningJobs = 100;

std::vector<std::unique_ptr<metrics::CallbackGauge>> AddStoreGauges(store::MetadataStore* store,
                                                                    metrics::Registry* registry,
                                                                    std::function<int64_t()> now_ms = nullptr);

}  // namespace lathe::service
