#include "engine/sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace lathe::engine {
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
