// What the engine kernels' benches share: lathe's OpenMP wait, the matrices of a stories110M-shaped
// model (width 768, 12 layers, MLP 2048, vocabulary 32000), a best-of timer, and a row split over
// plain threads.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

#include "core/cpu_features.h"

namespace lathe::bench {

// Runs this bench under build/lathe's OpenMP wait (core/cpu_features.h) unless the caller chose
// one: libgomp came with torch and read the environment before main(), so the bench runs itself
// again with it set. Without it torch's threads spin ~3 ms after each of their operations and take
// the cores from whatever the bench measures next.
inline void WaitAsLathe(char** argv) {
  if (SetOpenMpWaitDefault()) execv("/proc/self/exe", argv);
}

struct Matrix {
  int64_t rows, cols, count;  // count: how many of it a token multiplies (per layer x layers)
};
// One token of the 110M shape: fused q/k/v, o, fused gate/up, down per layer; the output layer once.
inline constexpr Matrix kToken110M[] = {{2304, 768, 12}, {768, 768, 12}, {4096, 768, 12}, {768, 2048, 12}, {32000, 768, 1}};

inline double BestSeconds(int repeats, const std::function<void()>& fn) {
  double best = 1e9;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

// Runs kernel(r0, r1) over the rows split between `threads` threads.
inline void Split(int threads, int64_t rows, const std::function<void(int64_t, int64_t)>& kernel) {
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t)
    pool.emplace_back([&, t] { kernel(rows * t / threads, rows * (t + 1) / threads); });
  kernel(0, rows / threads);
  for (auto& th : pool) th.join();
}

}  // namespace lathe::bench
