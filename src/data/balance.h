// `lathe data balance`: at most N records per category, the category being the first word of the
// prompt (the tutorial's balance_dataset heuristic). Which records stay is chosen with lathe's
// seeded generator, so the output is the same on every machine; kept records keep source order.
#pragma once

#include <string>
#include <vector>

#include "core/env.h"

namespace lathe::data {

struct CategoryBalance {
  std::string category;
  uint64_t before = 0, after = 0;
};
struct BalanceResult {
  uint64_t before = 0, after = 0;
  std::vector<CategoryBalance> categories;  // by size before, descending
};

Result<BalanceResult> BalanceFile(Env* env, const std::string& in, const std::string& out, uint64_t max_per_category,
                                  uint64_t seed);

}  // namespace lathe::data
