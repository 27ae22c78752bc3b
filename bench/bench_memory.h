// The machine's memory read bandwidth, the limit of every batch-1 decode: the benches that print
// "fraction of the limit" divide by it.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <thread>
#include <vector>

namespace lathe::bench {

// Read bandwidth of this machine in GB/s: `threads` threads summing disjoint parts of a 1 GiB
// buffer, the best of 5 passes (what a batch-1 decode does with the weights).
inline double ReadBandwidth(int threads) {
  const size_t n = (size_t{1} << 30) / sizeof(float);
  std::vector<float> buf(n, 1.0f);
  double best = 0;
  for (int pass = 0; pass < 5; ++pass) {
    std::vector<double> sums(static_cast<size_t>(threads));
    const auto t0 = std::chrono::steady_clock::now();
    {
      std::vector<std::thread> pool;
      for (int t = 0; t < threads; ++t)
        pool.emplace_back([&, t] {
          const size_t begin = n / threads * t, end = t + 1 == threads ? n : n / threads * (t + 1);
          float acc[16] = {};
          for (size_t i = begin; i + 16 <= end; i += 16)
            for (int k = 0; k < 16; ++k) acc[k] += buf[i + k];
          for (float a : acc) sums[static_cast<size_t>(t)] += a;
        });
      for (auto& th : pool) th.join();
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, n * sizeof(float) / s / 1e9);
  }
  return best;
}

}  // namespace lathe::bench
