// Paired comparison of two models on the same cases, and the summaries reports show. All
// resampling is seeded (std::mt19937_64): the same inputs and seed give the same interval.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lathe::eval {

inline constexpr int kDefaultResamples = 2000;
inline constexpr double kDefaultConfidence = 0.95;

struct MeanInterval {
  size_t n = 0;
  double mean = 0, low = 0, high = 0;  // percentile bootstrap interval of the mean
};
// Bootstrap (percentile method) interval of the mean of `values`; n = 0 gives all zeros, n = 1 a
// zero-width interval at the value.
MeanInterval BootstrapMean(const std::vector<double>& values, uint64_t seed, int resamples = kDefaultResamples,
                           double confidence = kDefaultConfidence);

// Linear-interpolation percentile (numpy's default), p in [0, 100]; 0 for no values.
double Percentile(std::vector<double> values, double p);

enum class Verdict { kBetter, kWorse, kNoSignificantDifference };
const char* VerdictName(Verdict v);  // "better", "worse", "no significant difference"

struct PairedComparison {
  size_t n = 0;                      // pairs compared (cases both models answered and scored)
  size_t wins = 0, ties = 0, losses = 0;  // of B over A, per case (|diff| <= tie_epsilon: a tie)
  double mean_a = 0, mean_b = 0;
  double mean_diff = 0;              // mean(b - a), in the metric's own direction
  double ci_low = 0, ci_high = 0;    // paired bootstrap interval of mean_diff (resampling cases)
  double sign_test_p = 1;            // exact two-sided sign test on wins vs losses
  // sign_test_p adjusted for the comparison's other tests (Holm–Bonferroni, HolmAdjust); the
  // verdict is read from it. Equal to sign_test_p for a test standing alone (the primary metric).
  double adjusted_p = 1;
  Verdict verdict = Verdict::kNoSignificantDifference;
};

// The verdict of `p` read at significance p_value (sign_test_p or adjusted_p): "better" needs the
// whole interval on B's good side of 0, p_value < 1 - confidence and more wins than losses.
Verdict VerdictAt(const PairedComparison& p, double p_value, bool higher_is_better,
                  double confidence = kDefaultConfidence);

// Holm's (1979) step-down adjustment of m p-values for testing them together: sorted ascending,
// the k-th (from 0) becomes max over j <= k of min(1, (m - j) * p_(j)); returned in input order.
// Rejecting where adjusted < alpha keeps the chance of any false "better" at alpha or below.
std::vector<double> HolmAdjust(const std::vector<double>& p);

// B against A on paired scores (a[i], b[i] from the same case). `higher_is_better` orients the
// verdict: "better" needs the whole interval on B's good side of 0 AND the sign test's
// p < 1 - confidence, so a handful of cases never reads as "better" (with fewer than 6 untied
// cases the sign test cannot reach p < 0.05). Sizes must match (else: all zeros, no difference).
PairedComparison ComparePaired(const std::vector<double>& a, const std::vector<double>& b, bool higher_is_better,
                               uint64_t seed, int resamples = kDefaultResamples,
                               double confidence = kDefaultConfidence, double tie_epsilon = 1e-9);

// Spearman's rank correlation (ties get average ranks); 0 when fewer than 2 pairs or a side is
// constant. Shows how far the judge agrees with the automatic metrics.
double SpearmanCorrelation(const std::vector<double>& x, const std::vector<double>& y);

}  // namespace lathe::eval
