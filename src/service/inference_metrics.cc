#include "service/inference_metrics.h"

#include <string>

#include "core/metrics.h"

namespace lathe::service {

void RecordInference(std::string_view target, bool ok, int64_t input_tokens, int64_t output_tokens,
                     int64_t compute_ms, int64_t latency_ms) {
  metrics::Registry& r = metrics::DefaultRegistry();
  static auto& requests = r.Counters("lathe_inference_requests_total", "Generations answered, by outcome",
                                     {"target", "outcome"}, 20);
  static auto& tokens = r.Counters("lathe_inference_tokens_total", "Prompt (input) and generated (output) tokens",
                                   {"target", "direction"}, 20);
  static auto& compute = r.Counters("lathe_inference_compute_seconds_total", "Time the model spent generating",
                                    {"target"}, 10);
  static auto& latency = r.Histograms("lathe_inference_latency_seconds", "From the request to its last token",
                                      {"target"}, metrics::LatencyBuckets(), 10);
  const std::string t(target);
  requests.With({t, ok ? "ok" : "error"}).Add();
  latency.With({t}).Observe(static_cast<double>(latency_ms) / 1000);
  if (!ok) return;
  tokens.With({t, "input"}).Add(static_cast<double>(input_tokens));
  tokens.With({t, "output"}).Add(static_cast<double>(output_tokens));
  compute.With({t}).Add(static_cast<double>(compute_ms) / 1000);
}

}  // namespace lathe::service
