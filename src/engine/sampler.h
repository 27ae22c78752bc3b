// Token choice from logits, reproducible on every machine: lathe's own generator (core/random.h) and
// its own top-k / top-p arithmetic (in double), never the standard library's distributions.
#pragma once

#include <cstdint>
#include <cstddef>

#include "core/random.h"

namespace lathe::engine {

using lathe::Rng;

struct SamplingParams {
  float temperature = 0.0f;  // <= 0: greedy (the first maximum)
  int top_k = 0;             // <= 0: all tokens
  float top_p = 1.0f;        // >= 1: all tokens
};

int SampleToken(const float* logits, size_t vocab, const SamplingParams& params, Rng* rng);

}  // namespace lathe::engine
