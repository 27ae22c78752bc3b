// Token choice from logits, reproducible on every machine: lathe's own xoshiro256** generator and
// its own top-k / top-p arithmetic (in double), never the standard library's distributions.
#pragma once

#include <cstdint>
#include <cstddef>

namespace lathe::engine {

// xoshiro256** seeded through splitmix64 (Blackman & Vigna).
class Rng {
 public:
  explicit Rng(uint64_t seed);
  uint64_t Next();
  double Uniform();  // [0, 1), 53 random bits

 private:
  uint64_t s_[4];
};

struct SamplingParams {
  float temperature = 0.0f;  // <= 0: greedy (the first maximum)
  int top_k = 0;             // <= 0: all tokens
  float top_p = 1.0f;        // >= 1: all tokens
};

int SampleToken(const float* logits, size_t vocab, const SamplingParams& params, Rng* rng);

}  // namespace lathe::engine
