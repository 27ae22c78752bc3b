// The decode matrix-vector kernels against a double-precision reference on the same encoded
// weights, on shapes with every tail (cols not a multiple of 16, rows not of 4), through the
// AVX-512 paths (where the CPU has them) and the portable loops.
#include "engine/gemv_kernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
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

TEST_P(GemvKernels, Q8_0MatchesTheReferenceOnTheQuantizedWeights) {
  for (auto [rows, cols] : {std::pair<int64_t, int64_t>{11, 32}, {8, 288}, {6, 2048}}) {
    const Problem p = Random(rows, cols, 3);
    const std::string q = QuantizeGgufQ8_0(p.w.data(), p.w.size());
    std::vector<float> decoded(p.w.size());
    ASSERT_TRUE(DequantizeGguf(GgmlType::kQ8_0, q, p.w.size(), decoded.data()).ok());
    std::vector<float> y(static_cast<size_t>(rows));
    GemvQ8_0(q.data(), p.x.data(), cols, 0, rows, y.data());
    ExpectClose(y, Reference(p, [&](int64_t r, int64_t c) { return decoded[static_cast<size_t>(r * cols + c)]; }), p, 0,
                rows);
  }
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
