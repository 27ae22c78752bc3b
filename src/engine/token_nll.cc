#include "engine/token_nll.h"

#include <algorithm>
#include <cmath>

namespace lathe::engine {

double NextTokenNll(const float* row, size_t vocab, int target) {
  double max = row[0];
  for (size_t v = 1; v < vocab; ++v) max = std::max(max, static_cast<double>(row[v]));
  double z = 0;
  for (size_t v = 0; v < vocab; ++v) z += std::exp(static_cast<double>(row[v]) - max);
  return max + std::log(z) - static_cast<double>(row[static_cast<size_t>(target)]);
}

}  // namespace lathe::engine
