// The prefill matrix product against a double-precision reference on the values each format
// holds (Expand), on shapes with every tail: rows not a multiple of the 4-row (16 for q8_0 in
// int8) tile, tokens not of the 6-token (12) tile, columns not of 16; with and without a bias;
// threaded and serial alike; q8_0 in int8 (activations quantized as decode quantizes them) and
// expanded to f32 (CPUs without AVX512_VNNI).
#include "engine/prefill_kernel.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "engine/gemv_kernels.h"

namespace lathe::engine {
namespace {

std::vector<float> Random(int64_t n, unsigned seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0, 1);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = scale * normal(rng);
  return v;
}

RowSplitter TwoThreads() {
  return [](int64_t rows, const std::function<void(int64_t, int64_t)>& work) {
    std::thread other([&] { work(rows / 2, rows); });
    work(0, rows / 2);
    other.join();
  };
}

TEST(PrefillMatMul, MatchesTheReferenceForEveryFormatAndTail) {
  if (!GemvVectorKernels()) GTEST_SKIP() << "this CPU has no AVX-512: callers use ATen's product";
  struct Shape {
    int64_t rows, cols, tokens;
  };
  for (Shape s : {Shape{7, 33, 1}, Shape{13, 64, 5}, Shape{16, 96, 6}, Shape{9, 288, 13}, Shape{1, 16, 7},
                  Shape{6, 2048, 2}}) {
    const std::vector<float> w = Random(s.rows * s.cols, 1, 0.05f), x = Random(s.tokens * s.cols, 2, 1.0f),
                             bias = Random(s.rows, 3, 1.0f);
    for (auto [p, vnni] : {std::pair{WeightPrecision::kF32, true}, std::pair{WeightPrecision::kBf16, true},
                           std::pair{WeightPrecision::kQ8_0, true}, std::pair{WeightPrecision::kQ8_0, false}}) {
      SetGemvVnni(vnni);
      const CompactMatrix m = Compact(w.data(), s.rows, s.cols, p);
      std::vector<float> held(w.size());
      Expand(m, held.data());
      // The activations the product multiplies: x, or in int8 x as QuantizeQ8Activations rounds it.
      std::vector<float> xs = x;
      if (m.format == WeightPrecision::kQ8_0 && GemvVnni()) {
        std::vector<int8_t> q(static_cast<size_t>(s.cols));
        std::vector<float> d(static_cast<size_t>(s.cols / 32));
        for (int64_t t = 0; t < s.tokens; ++t) {
          QuantizeQ8Activations(&x[t * s.cols], s.cols, q.data(), d.data());
          for (int64_t c = 0; c < s.cols; ++c) xs[t * s.cols + c] = q[c] * d[c / 32];
        }
      }
      for (bool with_bias : {false, true}) {
        SCOPED_TRACE(::testing::Message() << WeightPrecisionName(p) << (vnni ? "" : " without VNNI") << " " << s.rows
                                          << "x" << s.cols << " tokens " << s.tokens << (with_bias ? " bias" : ""));
        std::vector<float> serial(static_cast<size_t>(s.tokens * s.rows), -1), threaded = serial;
        const float* b = with_bias ? bias.data() : nullptr;
        ASSERT_TRUE(PrefillMatMul(m.view(), x.data(), s.tokens, b, serial.data(), nullptr));
        ASSERT_TRUE(PrefillMatMul(m.view(), x.data(), s.tokens, b, threaded.data(), TwoThreads()));
        for (int64_t t = 0; t < s.tokens; ++t)
          for (int64_t r = 0; r < s.rows; ++r) {
            double ref = with_bias ? bias[r] : 0, magnitude = with_bias ? std::fabs(bias[r]) : 0;
            for (int64_t c = 0; c < s.cols; ++c) {
              ref += double{held[r * s.cols + c]} * xs[t * s.cols + c];
              magnitude += std::fabs(double{held[r * s.cols + c]} * xs[t * s.cols + c]);
            }
            const size_t i = static_cast<size_t>(t * s.rows + r);
            ASSERT_NEAR(serial[i], ref, 1e-6 * magnitude + 1e-6) << "token " << t << " row " << r;
            ASSERT_EQ(threaded[i], serial[i]) << "token " << t << " row " << r;
          }
      }
    }
  }
  SetGemvVnni(true);
}

// In int8, a prompt's token gets what the decode kernel gives the same token: the same quantized
// activations, the same integer block products and scales (summed in another order).
TEST(PrefillMatMul, Q8_0InInt8AgreesWithTheDecodeKernel) {
  if (!GemvVnni()) GTEST_SKIP() << "this CPU has no AVX512_VNNI: q8_0 prefill expands to f32";
  const int64_t rows = 45, cols = 256, tokens = 14;
  const std::vector<float> w = Random(rows * cols, 4, 0.05f), x = Random(tokens * cols, 5, 1.0f);
  const CompactMatrix m = Compact(w.data(), rows, cols, WeightPrecision::kQ8_0);
  std::vector<float> y(static_cast<size_t>(tokens * rows));
  ASSERT_TRUE(PrefillMatMul(m.view(), x.data(), tokens, nullptr, y.data(), TwoThreads()));
  std::vector<int8_t> q(static_cast<size_t>(cols));
  std::vector<float> d(static_cast<size_t>(cols / 32)), decoded(static_cast<size_t>(rows));
  for (int64_t t = 0; t < tokens; ++t) {
    QuantizeQ8Activations(&x[t * cols], cols, q.data(), d.data());
    GemvQ8_0(static_cast<const char*>(m.view().data), q.data(), d.data(), cols, 0, rows, decoded.data());
    for (int64_t r = 0; r < rows; ++r)
      ASSERT_NEAR(y[t * rows + r], decoded[r], 1e-5 * (1 + std::fabs(decoded[r]))) << "token " << t << " row " << r;
  }
}

TEST(PrefillMatMul, DeclinesWithoutTheVectorKernels) {
  SetGemvVectorKernels(false);
  const std::vector<float> w(64, 1.0f), x(32, 1.0f);
  std::vector<float> y(4, -1.0f);
  const CompactMatrix m = Compact(w.data(), 2, 32, WeightPrecision::kF32);
  EXPECT_FALSE(PrefillMatMul(m.view(), x.data(), 1, nullptr, y.data(), nullptr));
  EXPECT_EQ(y[0], -1.0f) << "y is left alone";
  SetGemvVectorKernels(true);
}

}  // namespace
}  // namespace lathe::engine
