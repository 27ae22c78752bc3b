// The decode matrix-vector kernels against a double-precision reference on the same encoded
// weights, on shapes with every tail (cols not a multiple of 16, rows not of 4), through the
// AVX-512 paths (where the CPU has them) and the portable loops.
#include "engine/gemv_kernels.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <limits>
#include <vector>

#include "engine/float_formats.h"
#include "engine/gguf.h"

namespace lathe::engine {
namespace {

struct Problem {
  int64_t rows, cols;
  std::vector<float> w, x;
};

Problem Random(int64_t rows, int64_t cols, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0, 1);
  Problem p{rows, cols, std::vector<float>(static_cast<size_t>(rows * cols)), std::vector<float>(static_cast<size_t>(cols))};
  for (auto& v : p.w) v = 0.05f * normal(rng);
  for (auto& v : p.x) v = normal(rng);
  return p;
}

// sum_c w(r, c) x(c) in double, with w given by `weight(r, c)` (the decoded weight).
template <typename Weight>
std::vector<double> Reference(const Problem& p, Weight weight) {
  std::vector<double> y(static_cast<size_t>(p.rows));
  for (int64_t r = 0; r < p.rows; ++r)
    for (int64_t c = 0; c < p.cols; ++c) y[static_cast<size_t>(r)] += double{weight(r, c)} * p.x[static_cast<size_t>(c)];
  return y;
}

// |y - reference| within float32 accumulation error: a few ulps of the sum of |terms|.
void ExpectClose(const std::vector<float>& y, const std::vector<double>& ref, const Problem& p, int64_t r0, int64_t r1) {
  for (int64_t r = r0; r < r1; ++r) {
    double magnitude = 0;
    for (int64_t c = 0; c < p.cols; ++c)
      magnitude += std::fabs(p.w[static_cast<size_t>(r * p.cols + c)] * p.x[static_cast<size_t>(c)]);
    ASSERT_NEAR(y[static_cast<size_t>(r)], ref[static_cast<size_t>(r)], 1e-6 * p.cols * magnitude / std::sqrt(p.cols) + 1e-6)
        << "row " << r;
  }
}

class GemvKernels : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    SetGemvVectorKernels(GetParam());
    if (GetParam() && !GemvVectorKernels()) GTEST_SKIP() << "this CPU has no AVX-512: the portable loops ran";
  }
  void TearDown() override { SetGemvVectorKernels(true); }
};

TEST_P(GemvKernels, F32MatchesTheReferenceOnEveryTail) {
  for (auto [rows, cols] : {std::pair<int64_t, int64_t>{7, 33}, {16, 64}, {13, 768}, {1, 5}, {5, 1}}) {
    const Problem p = Random(rows, cols, 1);
    std::vector<float> y(static_cast<size_t>(rows), -1.0f);
    GemvF32(p.w.data(), p.x.data(), cols, 1, rows, y.data());  // rows [1, rows): row 0 untouched
    EXPECT_EQ(y[0], -1.0f);
    ExpectClose(y, Reference(p, [&](int64_t r, int64_t c) { return p.w[static_cast<size_t>(r * cols + c)]; }), p, 1, rows);
  }
}

TEST_P(GemvKernels, Bf16MatchesTheReferenceOnTheRoundedWeights) {
  for (auto [rows, cols] : {std::pair<int64_t, int64_t>{9, 47}, {12, 256}, {3, 16}}) {
    const Problem p = Random(rows, cols, 2);
    std::vector<uint16_t> w(p.w.size());
    for (size_t i = 0; i < w.size(); ++i) w[i] = FloatToBf16(p.w[i]);
    std::vector<float> y(static_cast<size_t>(rows));
    GemvBf16(w.data(), p.x.data(), cols, 0, rows, y.data());
    ExpectClose(y, Reference(p, [&](int64_t r, int64_t c) { return Bf16ToFloat(w[static_cast<size_t>(r * cols + c)]); }),
                p, 0, rows);
  }
}

// Q8_0 multiplies the quantized weights by x quantized per block: against the double reference on
// both decoded, it is exact integer arithmetic per block and float32 across blocks. Odd and even
// block counts take the kernel's two paths.
TEST_P(GemvKernels, Q8_0MatchesTheReferenceOnTheQuantizedWeightsAndActivations) {
  // With and without AVX512_VNNI's instruction (the second is what a CPU without it runs).
  for (bool vnni : {true, false}) {
    SetGemvVnni(vnni);
    SCOPED_TRACE(vnni ? "vnni" : "avx512bw");
    for (auto [rows, cols] : {std::pair<int64_t, int64_t>{11, 32}, {8, 288}, {6, 2048}, {5, 96}, {3, 160}}) {
      const Problem p = Random(rows, cols, 3);
      const std::string q = QuantizeGgufQ8_0(p.w.data(), p.w.size());
      std::vector<float> decoded(p.w.size());
      ASSERT_TRUE(DequantizeGguf(GgmlType::kQ8_0, q, p.w.size(), decoded.data()).ok());
      std::vector<int8_t> xq(static_cast<size_t>(cols));
      std::vector<float> xd(static_cast<size_t>(cols / 32));
      QuantizeQ8Activations(p.x.data(), cols, xq.data(), xd.data());
      Problem on_quantized = p;
      for (int64_t c = 0; c < cols; ++c) on_quantized.x[c] = xd[c / 32] * xq[c];
      std::vector<float> y(static_cast<size_t>(rows));
      GemvQ8_0(q.data(), xq.data(), xd.data(), cols, 0, rows, y.data());
      ExpectClose(y, Reference(on_quantized, [&](int64_t r, int64_t c) { return decoded[static_cast<size_t>(r * cols + c)]; }),
                  on_quantized, 0, rows);
    }
  }
  SetGemvVnni(true);
}

// The activations' rounding: each value within half a step (max|block| / 254) of x, the block's
// largest at +-127, a block of zeros all zeros with scale 0, and a NaN or infinity turns its
// block's scale into NaN (so the product is NaN, as in f32) instead of into undefined int8s.
TEST(Q8Activations, RoundEachValueWithinHalfAStepOfItsBlock) {
  const Problem p = Random(1, 96, 4);
  std::vector<float> x = p.x;
  for (int j = 32; j < 64; ++j) x[static_cast<size_t>(j)] = 0;
  x[70] = std::nanf("");
  std::vector<int8_t> q(96);
  std::vector<float> d(3);
  QuantizeQ8Activations(x.data(), 96, q.data(), d.data());
  float amax = 0;
  for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[static_cast<size_t>(j)]));
  EXPECT_FLOAT_EQ(d[0], amax / 127);
  int extremes = 0;
  for (int j = 0; j < 32; ++j) {
    EXPECT_NEAR(d[0] * q[static_cast<size_t>(j)], x[static_cast<size_t>(j)], d[0] / 2 * 1.0001) << j;
    extremes += std::abs(q[static_cast<size_t>(j)]) == 127;
  }
  EXPECT_GE(extremes, 1);
  EXPECT_EQ(d[1], 0.0f);
  for (int j = 32; j < 64; ++j) EXPECT_EQ(q[static_cast<size_t>(j)], 0);
  EXPECT_TRUE(std::isnan(d[2]));
  // Through the kernel: the NaN block makes the product NaN, in both paths.
  const std::string w = QuantizeGgufQ8_0(p.x.data(), 96);
  for (bool vector : {true, false}) {
    SetGemvVectorKernels(vector);
    float y = 0;
    GemvQ8_0(w.data(), q.data(), d.data(), 96, 0, 1, &y);
    EXPECT_TRUE(std::isnan(y));
  }
  SetGemvVectorKernels(true);
}

// The AVX-512 quantizer gives the portable loop's bytes and scales exactly: blocks of random,
// zero, tiny, huge, infinite and NaN values, halves exactly between two steps (ties to even), and
// values so small that 127 / max would overflow (held as zeros).
TEST(Q8Activations, VectorAndPortableAgreeBitForBit) {
  if (!GemvVectorKernels()) GTEST_SKIP() << "this CPU has no AVX-512: the portable loop ran";
  std::vector<float> x = Random(1, 8 * 32, 9).x;
  for (int j = 224; j < 256; ++j) x[static_cast<size_t>(j)] *= 1e-39f;
  for (int j = 32; j < 64; ++j) x[static_cast<size_t>(j)] = 0;
  for (int j = 64; j < 96; ++j) x[static_cast<size_t>(j)] *= 1e-30f;
  for (int j = 96; j < 128; ++j) x[static_cast<size_t>(j)] *= 1e30f;
  x[130] = std::numeric_limits<float>::infinity();
  x[170] = std::nanf("");
  for (int j = 192; j < 224; ++j) x[static_cast<size_t>(j)] = (j % 2 ? 0.5f : -2.5f) + static_cast<float>(j - 208);
  std::vector<int8_t> qv(x.size()), qp(x.size());
  std::vector<float> dv(x.size() / 32), dp(x.size() / 32);
  QuantizeQ8Activations(x.data(), static_cast<int64_t>(x.size()), qv.data(), dv.data());
  SetGemvVectorKernels(false);
  QuantizeQ8Activations(x.data(), static_cast<int64_t>(x.size()), qp.data(), dp.data());
  SetGemvVectorKernels(true);
  EXPECT_EQ(qv, qp);
  for (int j = 224; j < 256; ++j) EXPECT_EQ(qv[static_cast<size_t>(j)], 0) << j;
  for (size_t b = 0; b < dv.size(); ++b) {
    if (std::isnan(dp[b])) {
      EXPECT_TRUE(std::isnan(dv[b])) << "block " << b;
    } else {
      EXPECT_EQ(dv[b], dp[b]) << "block " << b;
    }
  }
}

// What quantizing the activations costs against f32 activations on the same weights: a bounded
// fraction of the products' magnitude (the bound docs/performance.md states for q8_0 decode).
TEST(Q8Activations, CostAFractionOfAPercentOfTheProducts) {
  const Problem p = Random(64, 768, 5);
  const std::string w = QuantizeGgufQ8_0(p.w.data(), p.w.size());
  std::vector<float> decoded(p.w.size());
  ASSERT_TRUE(DequantizeGguf(GgmlType::kQ8_0, w, p.w.size(), decoded.data()).ok());
  std::vector<int8_t> xq(768);
  std::vector<float> xd(24), y(64);
  QuantizeQ8Activations(p.x.data(), 768, xq.data(), xd.data());
  GemvQ8_0(w.data(), xq.data(), xd.data(), 768, 0, 64, y.data());
  const std::vector<double> exact = Reference(p, [&](int64_t r, int64_t c) { return decoded[static_cast<size_t>(r * 768 + c)]; });
  double err = 0, norm = 0;
  for (size_t r = 0; r < 64; ++r) {
    err += (y[r] - exact[r]) * (y[r] - exact[r]);
    norm += exact[r] * exact[r];
  }
  const double relative = std::sqrt(err / norm);
  EXPECT_GT(relative, 1e-5) << "the activations were not rounded";
  EXPECT_LT(relative, 1e-2);
}

TEST(FloatFormats, Bf16RoundsToNearestEvenAndKeepsNaN) {
  EXPECT_EQ(FloatToBf16(1.0f), 0x3f80);
  EXPECT_EQ(Bf16ToFloat(0x3f80), 1.0f);
  // 1 + 2^-8 is halfway between bf16 1.0 and 1 + 2^-7: ties go to the even mantissa (1.0).
  EXPECT_EQ(FloatToBf16(1.0f + std::ldexp(1.0f, -8)), 0x3f80);
  EXPECT_EQ(FloatToBf16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3f82);
  EXPECT_TRUE(std::isnan(Bf16ToFloat(FloatToBf16(std::nanf("")))));
  EXPECT_TRUE(std::isinf(Bf16ToFloat(FloatToBf16(INFINITY))));
}

INSTANTIATE_TEST_SUITE_P(VectorAndPortable, GemvKernels, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Avx512" : "Portable"; });

}  // namespace
}  // namespace lathe::engine
