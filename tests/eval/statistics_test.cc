// Paired statistics against closed forms: the bootstrap interval of a large sample's mean against
// mean +- 1.96 s / sqrt(n), sign-test p-values against exact binomial sums, Spearman by hand.
#include "eval/statistics.h"

#include <cmath>
#include <random>

#include <gtest/gtest.h>

namespace lathe::eval {
namespace {

// Normal values by Box-Muller from a seeded generator (std::normal_distribution is
// implementation-defined; this is not).
std::vector<double> NormalSample(size_t n, double mean, double sd, uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto uniform = [&] { return (static_cast<double>(rng() >> 11) + 0.5) / 9007199254740992.0; };
  std::vector<double> out;
  while (out.size() < n) {
    double r = std::sqrt(-2 * std::log(uniform())), t = 2 * M_PI * uniform();
    out.push_back(mean + sd * r * std::cos(t));
    if (out.size() < n) out.push_back(mean + sd * r * std::sin(t));
  }
  return out;
}

TEST(Percentile, NumpyLinearInterpolation) {
  // numpy.percentile([1, 2, 3, 4], q): h = (n - 1) q / 100; 50 -> 2.5, 25 -> 1.75, 90 -> 3.7.
  EXPECT_DOUBLE_EQ(Percentile({4, 1, 3, 2}, 50), 2.5);
  EXPECT_DOUBLE_EQ(Percentile({4, 1, 3, 2}, 25), 1.75);
  EXPECT_DOUBLE_EQ(Percentile({4, 1, 3, 2}, 90), 3.7);
  EXPECT_DOUBLE_EQ(Percentile({4, 1, 3, 2}, 0), 1);
  EXPECT_DOUBLE_EQ(Percentile({4, 1, 3, 2}, 100), 4);
  EXPECT_DOUBLE_EQ(Percentile({7}, 95), 7);
  EXPECT_DOUBLE_EQ(Percentile({}, 50), 0);
  EXPECT_DOUBLE_EQ(Percentile({1, NAN, 3}, 50), 2);  // NaN is dropped, not sorted
}

TEST(BootstrapMean, SmallCases) {
  auto none = BootstrapMean({}, 1);
  EXPECT_EQ(none.n, 0u);
  EXPECT_EQ(none.mean, 0);
  auto one = BootstrapMean({0.7}, 1);
  EXPECT_EQ(one.n, 1u);
  EXPECT_EQ(one.low, 0.7);
  EXPECT_EQ(one.high, 0.7);
  auto constant = BootstrapMean({0.5, 0.5, 0.5}, 1);
  EXPECT_DOUBLE_EQ(constant.low, 0.5);
  EXPECT_DOUBLE_EQ(constant.high, 0.5);
}

TEST(BootstrapMean, MatchesTheClosedFormForALargeSample) {
  // For n = 2000 the sample mean is close to normal, so the percentile bootstrap's 95 % interval
  // must be close to mean +- 1.96 s / sqrt(n). With 10,000 resamples the Monte Carlo error of
  // each end is about 1.5 % of the half-width; 5 % is the tolerance.
  auto values = NormalSample(2000, 3.0, 2.0, 42);
  double mean = 0;
  for (double v : values) mean += v;
  mean /= values.size();
  double ss = 0;
  for (double v : values) ss += (v - mean) * (v - mean);
  const double s = std::sqrt(ss / (values.size() - 1));
  const double half = 1.96 * s / std::sqrt(static_cast<double>(values.size()));
  auto ci = BootstrapMean(values, 7, 10000);
  EXPECT_NEAR(ci.mean, mean, 1e-12);
  EXPECT_NEAR(ci.low, mean - half, 0.05 * half);
  EXPECT_NEAR(ci.high, mean + half, 0.05 * half);
  // A 90 % interval: z = 1.6449.
  auto ci90 = BootstrapMean(values, 7, 10000, 0.90);
  const double half90 = 1.6448536 * s / std::sqrt(static_cast<double>(values.size()));
  EXPECT_NEAR(ci90.high - ci90.low, 2 * half90, 0.05 * 2 * half90);
}

TEST(BootstrapMean, SameSeedSameInterval) {
  auto values = NormalSample(50, 0, 1, 3);
  auto a = BootstrapMean(values, 99), b = BootstrapMean(values, 99), c = BootstrapMean(values, 100);
  EXPECT_EQ(a.low, b.low);
  EXPECT_EQ(a.high, b.high);
  EXPECT_NE(a.low, c.low);
}

TEST(ComparePaired, IdenticalModelsTie) {
  auto a = NormalSample(200, 0.5, 0.2, 5);
  auto cmp = ComparePaired(a, a, true, 1);
  EXPECT_EQ(cmp.n, 200u);
  EXPECT_EQ(cmp.ties, 200u);
  EXPECT_EQ(cmp.wins + cmp.losses, 0u);
  EXPECT_EQ(cmp.mean_diff, 0);
  EXPECT_EQ(cmp.ci_low, 0);
  EXPECT_EQ(cmp.ci_high, 0);
  EXPECT_EQ(cmp.sign_test_p, 1);
  EXPECT_EQ(cmp.verdict, Verdict::kNoSignificantDifference);
  EXPECT_STREQ(VerdictName(cmp.verdict), "no significant difference");
}

TEST(ComparePaired, ClearShiftIsBetterOrWorseByDirection) {
  auto a = NormalSample(100, 0.4, 0.2, 11);
  auto noise = NormalSample(100, 0.0, 0.05, 12);
  std::vector<double> b(a.size());
  for (size_t i = 0; i < a.size(); ++i) b[i] = a[i] + 0.2 + noise[i];
  auto up = ComparePaired(a, b, true, 1);
  EXPECT_EQ(up.verdict, Verdict::kBetter);
  EXPECT_GT(up.ci_low, 0);
  EXPECT_GT(up.wins, 95u);
  EXPECT_NEAR(up.mean_b - up.mean_a, up.mean_diff, 1e-12);
  EXPECT_LT(up.sign_test_p, 1e-20);
  // Same numbers for a lower-is-better metric (latency, refusal): B went up, so B is worse, and
  // the wins and losses swap.
  auto down = ComparePaired(a, b, false, 1);
  EXPECT_EQ(down.verdict, Verdict::kWorse);
  EXPECT_EQ(down.losses, up.wins);
  EXPECT_STREQ(VerdictName(down.verdict), "worse");
  EXPECT_EQ(ComparePaired(b, a, true, 1).verdict, Verdict::kWorse);
}

TEST(ComparePaired, FiveOutOfFiveIsNotEnough) {
  // B wins all 5 cases by a full point: the interval is [1, 1], but the sign test's two-sided p
  // is 2 * (1/2)^5 = 0.0625 >= 0.05, so this is not "better". Six of six: 2/64 = 0.03125.
  auto five = ComparePaired({0, 0, 0, 0, 0}, {1, 1, 1, 1, 1}, true, 1);
  EXPECT_EQ(five.wins, 5u);
  EXPECT_DOUBLE_EQ(five.sign_test_p, 0.0625);
  EXPECT_EQ(five.verdict, Verdict::kNoSignificantDifference);
  auto six = ComparePaired(std::vector<double>(6, 0), std::vector<double>(6, 1), true, 1);
  EXPECT_DOUBLE_EQ(six.sign_test_p, 0.03125);
  EXPECT_EQ(six.verdict, Verdict::kBetter);
}

PairedComparison WinsLosses(size_t wins, size_t losses, size_t ties = 0) {
  std::vector<double> a(wins + losses + ties, 0), b;
  b.insert(b.end(), wins, 1.0);
  b.insert(b.end(), losses, -1.0);
  b.insert(b.end(), ties, 0.0);
  return ComparePaired(a, b, true, 1, 200);
}

TEST(ComparePaired, SignTestAgainstExactBinomialSums) {
  // p = 2 * sum_{i <= min(w, l)} C(w + l, i) / 2^(w + l), capped at 1; ties are left out.
  // 7 vs 3: 2 * (1 + 10 + 45 + 120) / 1024 = 352/1024.
  EXPECT_NEAR(WinsLosses(7, 3, 4).sign_test_p, 352.0 / 1024, 1e-12);
  // 9 vs 1: 2 * (1 + 10) / 1024 = 22/1024.
  EXPECT_NEAR(WinsLosses(9, 1).sign_test_p, 22.0 / 1024, 1e-12);
  EXPECT_EQ(WinsLosses(5, 5).sign_test_p, 1.0);
  // n = 10,000: values from Python's exact integer arithmetic
  // (2 * sum(math.comb(m, i) for i in range(k + 1)) / 2**m, as a Fraction, then float).
  EXPECT_NEAR(WinsLosses(5050, 4950).sign_test_p, 0.322174199795312, 1e-9);
  EXPECT_NEAR(WinsLosses(5100, 4900).sign_test_p, 0.04658552770494739, 1e-10);
  // 1.74e-89: far below what 0.5^10000 in plain doubles could give (it underflows to 0).
  const double tiny = WinsLosses(6000, 4000).sign_test_p;
  EXPECT_NEAR(tiny / 1.7404316412268784e-89, 1.0, 1e-6);
}

TEST(ComparePaired, BadInputGivesNoDifference) {
  auto mismatched = ComparePaired({1, 2}, {1}, true, 1);
  EXPECT_EQ(mismatched.n, 0u);
  EXPECT_EQ(mismatched.verdict, Verdict::kNoSignificantDifference);
  EXPECT_EQ(ComparePaired({}, {}, true, 1).n, 0u);
  EXPECT_EQ(ComparePaired({1, NAN}, {2, 3}, true, 1).n, 0u);
  auto one = ComparePaired({0}, {1}, true, 1);
  EXPECT_EQ(one.ci_low, 1);
  EXPECT_EQ(one.verdict, Verdict::kNoSignificantDifference);
}

TEST(ComparePaired, SameSeedSameInterval) {
  auto a = NormalSample(40, 0.5, 0.2, 1), b = NormalSample(40, 0.55, 0.2, 2);
  auto x = ComparePaired(a, b, true, 5), y = ComparePaired(a, b, true, 5);
  EXPECT_EQ(x.ci_low, y.ci_low);
  EXPECT_EQ(x.ci_high, y.ci_high);
}

// Holm (1979) by hand: p = (0.01, 0.04, 0.03, 0.005), m = 4. Sorted: 0.005, 0.01, 0.03, 0.04 times
// 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04; made monotone: 0.02, 0.03, 0.06, 0.06.
TEST(HolmAdjust, ClosedForm) {
  const std::vector<double> adjusted = HolmAdjust({0.01, 0.04, 0.03, 0.005});
  ASSERT_EQ(adjusted.size(), 4u);
  EXPECT_NEAR(adjusted[0], 0.03, 1e-15);
  EXPECT_NEAR(adjusted[1], 0.06, 1e-15);
  EXPECT_NEAR(adjusted[2], 0.06, 1e-15);
  EXPECT_NEAR(adjusted[3], 0.02, 1e-15);
  EXPECT_EQ(HolmAdjust({0.5, 0.9}), (std::vector<double>{1.0, 1.0}));  // capped at 1
  EXPECT_EQ(HolmAdjust({0.02}), (std::vector<double>{0.02}));          // one test: unchanged
  EXPECT_TRUE(HolmAdjust({}).empty());
}

// A verdict read at the adjusted p: 7 wins of 7 (p = 0.0156) is "better" alone, not among four.
TEST(HolmAdjust, AVerdictThatPassesAloneFailsAmongFour) {
  const std::vector<double> a(7, 0.0), b(7, 1.0);
  PairedComparison p = ComparePaired(a, b, true, 1);
  EXPECT_NEAR(p.sign_test_p, 2.0 / 128, 1e-12);
  EXPECT_EQ(p.adjusted_p, p.sign_test_p);
  EXPECT_EQ(p.verdict, Verdict::kBetter);
  const double adjusted = HolmAdjust({p.sign_test_p, 0.5, 0.5, 0.5})[0];
  EXPECT_NEAR(adjusted, 4 * 2.0 / 128, 1e-12);
  EXPECT_EQ(VerdictAt(p, adjusted, true), Verdict::kNoSignificantDifference);
}

TEST(Spearman, ByHand) {
  // x ranks 1..5; y = [5, 6, 7, 8, 7] ranks [1, 2, 3.5, 5, 3.5] (the two 7s share 3 and 4).
  // Pearson of ranks: sxy = 8, sxx = 10, syy = 9.5 -> 8 / sqrt(95) = 0.8207826816681233.
  EXPECT_NEAR(SpearmanCorrelation({1, 2, 3, 4, 5}, {5, 6, 7, 8, 7}), 8 / std::sqrt(95.0), 1e-12);
  EXPECT_NEAR(SpearmanCorrelation({1, 2, 3, 4}, {1, 4, 9, 16}), 1, 1e-12);   // monotone, not linear
  EXPECT_NEAR(SpearmanCorrelation({1, 2, 3, 4}, {4, 3, 2, 1}), -1, 1e-12);
  EXPECT_EQ(SpearmanCorrelation({1, 2, 3}, {2, 2, 2}), 0);
  EXPECT_EQ(SpearmanCorrelation({1}, {2}), 0);
  EXPECT_EQ(SpearmanCorrelation({1, 2}, {1}), 0);
}

}  // namespace
}  // namespace lathe::eval
