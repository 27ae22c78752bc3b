#include "engine/sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace lathe::engine {
namespace {

uint64_t SplitMix64(uint64_t* x) {
  uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

Rng::Rng(uint64_t seed) {
  for (uint64_t& s : s_) s = SplitMix64(&seed);
}

uint64_t Rng::Next() {
  const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = Rotl(s_[3], 45);
  return result;
}

double Rng::Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

int SampleToken(const float* logits, size_t vocab, const SamplingParams& p, Rng* rng) {
  if (p.temperature <= 0.0f) return static_cast<int>(std::max_element(logits, logits + vocab) - logits);
  // Candidates sorted by logit, highest first (ties by id, so the order is total and portable).
  std::vector<int> ids(vocab);
  std::iota(ids.begin(), ids.end(), 0);
  auto better = [&](int a, int b) { return logits[a] != logits[b] ? logits[a] > logits[b] : a < b; };
  size_t keep = vocab;
  if (p.top_k > 0 && static_cast<size_t>(p.top_k) < vocab) {
    keep = static_cast<size_t>(p.top_k);
    std::partial_sort(ids.begin(), ids.begin() + static_cast<long>(keep), ids.end(), better);
  } else {
    std::sort(ids.begin(), ids.end(), better);
  }
  std::vector<double> probs(keep);
  const double max_logit = logits[ids[0]];
  double sum = 0;
  for (size_t i = 0; i < keep; ++i) {
    probs[i] = std::exp((logits[ids[i]] - max_logit) / p.temperature);
    sum += probs[i];
  }
  if (p.top_p < 1.0f) {
    double cumulative = 0;
    size_t n = 0;
    while (n < keep) {
      cumulative += probs[n] / sum;
      ++n;
      if (cumulative >= p.top_p) break;
    }
    keep = n;
    sum = std::accumulate(probs.begin(), probs.begin() + static_cast<long>(keep), 0.0);
  }
  double u = rng->Uniform() * sum;
  for (size_t i = 0; i < keep; ++i) {
    u -= probs[i];
    if (u < 0) return ids[i];
  }
  return ids[keep - 1];
}

}  // namespace lathe::engine
