// Compact matrices: rounding bounds per format, the Q8_0 fallback, and the threaded product equal
// to the single-threaded one row for row.
#include "engine/compact_matrix.h"
#include "engine/gemv_kernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <thread>
#include <vector>

namespace lathe::engine {
namespace {

std::vector<float> Random(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, 0.5f);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = d(rng);
  return v;
}

// Rows split between this thread and another, at a multiple of 4 (as the model splits them).
RowSplitter TwoThreads() {
  return [](int64_t n, const std::function<void(int64_t, int64_t)>& work) {
    const int64_t half = n / 2 / 4 * 4;
    std::thread t([&] { work(half, n); });
    work(0, half);
    t.join();
  };
}

TEST(CompactMatrix, RoundsEachFormatWithinItsBound) {
  const int64_t rows = 8, cols = 64;
  const std::vector<float> w = Random(rows * cols, 1);
  // bf16 keeps 8 significant bits (relative error <= 2^-9). Q8_0 steps by d = max|block|/127: half
  // a step, plus the scale's own rounding to f16 (2^-11 relative) times up to 127 steps.
  for (auto [p, bytes_per_weight] : {std::pair{WeightPrecision::kF32, 4.0}, std::pair{WeightPrecision::kBf16, 2.0},
                                     std::pair{WeightPrecision::kQ8_0, 34.0 / 32}}) {
    CompactMatrix m = Compact(w.data(), rows, cols, p);
    EXPECT_EQ(m.format, p);
    EXPECT_DOUBLE_EQ(static_cast<double>(m.bytes.size()), bytes_per_weight * rows * cols);
    std::vector<float> back(w.size());
    Expand(m, back.data());
    for (int64_t b = 0; b < rows * cols / 32; ++b) {
      float block_max = 0;
      for (int j = 0; j < 32; ++j) block_max = std::max(block_max, std::fabs(w[b * 32 + j]));
      for (int j = 0; j < 32; ++j) {
        const float x = w[b * 32 + j], err = std::fabs(back[b * 32 + j] - x);
        if (p == WeightPrecision::kF32) {
          EXPECT_EQ(err, 0.0f);
        } else if (p == WeightPrecision::kBf16) {
          EXPECT_LE(err, std::fabs(x) / 256);
        } else {
          EXPECT_LE(err, block_max / 127 * (0.5f + 127.0f / 2048) + 1e-6f);
        }
      }
    }
  }
}

TEST(CompactMatrix, Q8_0OfRowsOutsideWholeBlocksFallsBackToBf16) {
  const std::vector<float> w = Random(4 * 40, 2);
  CompactMatrix m = Compact(w.data(), 4, 40, WeightPrecision::kQ8_0);
  EXPECT_EQ(m.format, WeightPrecision::kBf16);
  EXPECT_EQ(m.bytes.size(), 4u * 40 * 2);
}

// The product over the expanded values equals MatVec on the compact bytes (for q8_0, on x as the
// kernel rounds it: gemv_kernels.h), and splitting the rows among threads (as the model does)
// changes no row: each row is one thread's sum.
TEST(CompactMatrix, ThreadedProductEqualsTheSerialOneAndTheExpandedMatrix) {
  const int64_t rows = 1030, cols = 128;  // above the threading threshold, rows not a multiple of 4
  const std::vector<float> w = Random(rows * cols, 3), x = Random(cols, 4);
  const RowSplitter split = TwoThreads();
  for (WeightPrecision p : {WeightPrecision::kF32, WeightPrecision::kBf16, WeightPrecision::kQ8_0}) {
    CompactMatrix m = Compact(w.data(), rows, cols, p);
    std::vector<float> serial(rows), threaded(rows), expanded(w.size());
    MatVec(m.view(), x.data(), serial.data(), nullptr);
    MatVec(m.view(), x.data(), threaded.data(), split);
    Expand(m, expanded.data());
    std::vector<float> xr = x;
    if (p == WeightPrecision::kQ8_0) {
      std::vector<int8_t> q(cols);
      std::vector<float> d(cols / 32);
      QuantizeQ8Activations(x.data(), cols, q.data(), d.data());
      for (int64_t c = 0; c < cols; ++c) xr[c] = d[c / 32] * q[c];
    }
    for (int64_t r = 0; r < rows; ++r) {
      double ref = 0;
      for (int64_t c = 0; c < cols; ++c) ref += static_cast<double>(expanded[r * cols + c]) * xr[c];
      EXPECT_EQ(threaded[r], serial[r]) << WeightPrecisionName(p) << " row " << r;
      EXPECT_NEAR(serial[r], ref, 1e-4 * (1 + std::fabs(ref))) << WeightPrecisionName(p) << " row " << r;
    }
  }
}

// Continuous batching's product: n vectors through one read of the matrix give, bit for bit, what
// each vector alone gets from MatVec (so batching never changes a token), threaded or not, with
// rows spanning several cache tiles and a partial last one.
TEST(CompactMatrix, BatchedProductEqualsEachVectorsOwnProductBitForBit) {
  const int64_t rows = 1030, cols = 160, n = 5;
  const std::vector<float> w = Random(rows * cols, 5), x = Random(n * cols, 6);
  const RowSplitter split = TwoThreads();
  for (WeightPrecision p : {WeightPrecision::kF32, WeightPrecision::kBf16, WeightPrecision::kQ8_0}) {
    CompactMatrix m = Compact(w.data(), rows, cols, p);
    std::vector<float> serial(n * rows), threaded(n * rows), alone(rows);
    MatMul(m.view(), x.data(), n, serial.data(), nullptr);
    MatMul(m.view(), x.data(), n, threaded.data(), split);
    for (int64_t b = 0; b < n; ++b) {
      MatVec(m.view(), x.data() + b * cols, alone.data(), nullptr);
      for (int64_t r = 0; r < rows; ++r) {
        ASSERT_EQ(serial[b * rows + r], alone[r]) << WeightPrecisionName(p) << " vector " << b << " row " << r;
        ASSERT_EQ(threaded[b * rows + r], alone[r]) << WeightPrecisionName(p) << " vector " << b << " row " << r;
      }
    }
  }
}

TEST(WeightPrecision, NamesParseBackAndStrangersAreRefused) {
  for (WeightPrecision p : {WeightPrecision::kF32, WeightPrecision::kBf16, WeightPrecision::kQ8_0})
    EXPECT_EQ(ParseWeightPrecision(WeightPrecisionName(p)).value(), p);
  for (const char* bad : {"", "Q8_0", "fp16", "q4_k", "f32 "}) EXPECT_FALSE(ParseWeightPrecision(bad).ok()) << bad;
  const auto long_name = ParseWeightPrecision(std::string(100000, 'x'));
  ASSERT_FALSE(long_name.ok());
  EXPECT_LT(long_name.status().message().size(), 200u);
}

}  // namespace
}  // namespace lathe::engine
