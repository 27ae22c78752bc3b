#include "service/store_gauges.h"

#include "core/arn.h"
#include "service/job_service.h"
#include "service/node_heartbeat.h"
#include "store/nodes.h"
#include "store/work_leases.h"

namespace lathe::service {

std::vector<std::unique_ptr<metrics::CallbackGauge>> AddStoreGauges(store::MetadataStore* store,
                                                                    metrics::Registry* registry,
                                                                    std::function<int64_t()> now_ms) {
  if (!now_ms) now_ms = [] { return NowMillis(); };
  using Samples = Result<std::vector<metrics::Sample>>;
  std::vector<std::unique_ptr<metrics::CallbackGauge>> gauges;
  gauges.push_back(registry->AddCallbackGauge(
      "lathe_work_items", "Work items in the shared queue, by kind and state", {"kind", "state"}, [store]() -> Samples {
        auto depth = store::WorkLeases(store).DepthByKind();
        if (!depth.ok()) return depth.status();
        std::vector<metrics::Sample> out;
        for (const auto& [kind, d] : *depth) {
          out.push_back({{kind, "queued"}, static_cast<double>(d.queued)});
          out.push_back({{kind, "leased"}, static_cast<double>(d.leased)});
          out.push_back({{kind, "done"}, static_cast<double>(d.done)});
        }
        return out;
      }));
  gauges.push_back(registry->AddCallbackGauge(
      "lathe_nodes", "Nodes sharing the store, by role, alive or stale (silent for 30 s)", {"role", "state"},
      [store, now_ms]() -> Samples {
        auto nodes = store::NodeRegistry(store).List();
        if (!nodes.ok()) return nodes.status();
        std::map<std::pair<std::string, std::string>, double> counts;
        for (const std::string role : {"api", "worker"})
          for (const std::string state : {"alive", "stale"}) counts[{role, state}] = 0;
        const int64_t now = now_ms();
        for (const auto& n : *nodes)
          ++counts[{n.role, now - n.last_seen_ms > kNodeStaleAfter.count() ? "stale" : "alive"}];
        std::vector<metrics::Sample> out;
        for (const auto& [key, count] : counts) out.push_back({{key.first, key.second}, count});
        return out;
      }));
  // Both training gauges from one read would need a shared cache; two small reads are simpler.
  auto running = [store](const char* key) -> Samples {
    store::MetadataStore::ListFilter filter;
    filter.statuses = {"InProgress"};
    filter.limit = kMaxReportedRunningJobs;
    auto jobs = store->List(kJobKind, filter);
    if (!jobs.ok()) return jobs.status();
    std::vector<metrics::Sample> out;
    for (const auto& job : *jobs) {
      auto progress = job.doc.find("_progress");
      if (progress == job.doc.end() || !progress->is_object()) continue;
      auto value = progress->find(key);
      if (value != progress->end() && value->is_number()) out.push_back({{job.id}, value->get<double>()});
    }
    return out;
  };
  gauges.push_back(registry->AddCallbackGauge("lathe_training_tokens_per_second",
                                              "Running fine-tuning jobs' training speed, from their progress", {"job"},
                                              [running] { return running("tokensPerSecond"); }));
  gauges.push_back(registry->AddCallbackGauge("lathe_training_trained_tokens",
                                              "Tokens running fine-tuning jobs have trained on so far", {"job"},
                                              [running] { return running("trainedTokens"); }));
  return gauges;
}

}  // namespace lathe::service
