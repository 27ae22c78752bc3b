// What /metrics tells of InvokeModel, Converse and their streams (RuntimeService::Record calls
// it once per generation; docs/scale-out.md, Operations):
//   lathe_inference_requests_total{target, outcome}        counter (outcome: ok | error)
//   lathe_inference_tokens_total{target, direction}        counter (direction: input | output)
//   lathe_inference_compute_seconds_total{target}          counter: the model's own time
//   lathe_inference_latency_seconds{target}                histogram: request to last token
// target: on-demand | provisioned | deployment. Tokens per second is a rate of the counters:
// rate(lathe_inference_tokens_total{direction="output"}[5m]) overall, or divided by
// rate(lathe_inference_compute_seconds_total[5m]) for the model's speed while generating.
#pragma once

#include <cstdint>
#include <string_view>

namespace lathe::service {

void RecordInference(std::string_view target, bool ok, int64_t input_tokens, int64_t output_tokens,
                     int64_t compute_ms, int64_t latency_ms);

}  // namespace lathe::service
