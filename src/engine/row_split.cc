#include "engine/row_split.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>

namespace lathe::engine {

void SplitRows(int64_t rows, const std::function<void(int64_t, int64_t)>& work) {
  const int64_t threads = at::get_num_threads();
  if (threads <= 1) return work(0, rows);
  const int64_t chunk = std::max<int64_t>(4, (rows / (8 * threads) + 3) / 4 * 4);
  std::atomic<int64_t> next{0};
  at::parallel_for(0, threads, 1, [&](int64_t, int64_t) {
    for (int64_t r0 = next.fetch_add(chunk); r0 < rows; r0 = next.fetch_add(chunk)) work(r0, std::min(rows, r0 + chunk));
  });
}

}  // namespace lathe::engine
