// Bootstrap intervals, the paired comparison's verdict, percentiles and Spearman's correlation.
#include "eval/statistics.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <tuple>

namespace lathe::eval {
namespace {

// resamples is a caller's number; a run's cost is cases x resamples, so it is bounded.
constexpr int kMaxResamples = 100000;

int ClampResamples(int r) { return std::clamp(r, 1, kMaxResamples); }

// An index in [0, n) from one 64-bit draw, by multiply-high: unlike std::uniform_int_distribution
// its result is fixed by the generator alone, so a seed gives the same interval with every
// standard library.
size_t Draw(std::mt19937_64& rng, size_t n) {
  return static_cast<size_t>((static_cast<unsigned __int128>(rng()) * n) >> 64);
}

double Mean(const std::vector<double>& v) {
  if (v.empty()) return 0;
  return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

// Percentile bootstrap of the mean of `values`: the central `confidence` of the resampled means.
std::pair<double, double> BootstrapInterval(const std::vector<double>& values, uint64_t seed, int resamples,
                                            double confidence) {
  const size_t n = values.size();
  std::mt19937_64 rng(seed);
  std::vector<double> means(ClampResamples(resamples));
  for (double& m : means) {
    double sum = 0;
    for (size_t i = 0; i < n; ++i) sum += values[Draw(rng, n)];
    m = sum / static_cast<double>(n);
  }
  const double alpha = 1 - std::clamp(confidence, 0.0, 1.0);
  std::sort(means.begin(), means.end());
  return {Percentile(means, 100 * alpha / 2), Percentile(means, 100 * (1 - alpha / 2))};
}

double LogChoose(size_t n, size_t k) {
  return std::lgamma(static_cast<double>(n) + 1) - std::lgamma(static_cast<double>(k) + 1) -
         std::lgamma(static_cast<double>(n - k) + 1);
}

// Exact two-sided sign test: P(X <= min(w, l)) doubled, X ~ Binomial(w + l, 1/2). The terms are
// summed in log space (log-sum-exp), since 0.5^n underflows a double past n = 1074.
double SignTestP(size_t wins, size_t losses) {
  const size_t m = wins + losses;
  if (m == 0) return 1;
  const size_t k = std::min(wins, losses);
  const double log_half_m = static_cast<double>(m) * std::log(0.5);
  std::vector<double> logs;
  logs.reserve(k + 1);
  for (size_t i = 0; i <= k; ++i) logs.push_back(LogChoose(m, i) + log_half_m);
  const double top = *std::max_element(logs.begin(), logs.end());
  double sum = 0;
  for (double l : logs) sum += std::exp(l - top);
  const double log_tail = top + std::log(sum);
  return std::min(1.0, 2 * std::exp(log_tail));
}

// Ranks 1..n, ties sharing their average rank.
std::vector<double> AverageRanks(const std::vector<double>& v) {
  std::vector<size_t> order(v.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
  std::vector<double> ranks(v.size());
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]]) ++j;
    const double rank = (static_cast<double>(i) + static_cast<double>(j)) / 2 + 1;
    for (size_t k = i; k <= j; ++k) ranks[order[k]] = rank;
    i = j + 1;
  }
  return ranks;
}

bool AnyNaN(const std::vector<double>& v) {
  return std::any_of(v.begin(), v.end(), [](double x) { return std::isnan(x); });
}

}  // namespace

double Percentile(std::vector<double> values, double p) {
  std::erase_if(values, [](double x) { return std::isnan(x); });  // NaN has no place in an order
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const double h = (static_cast<double>(values.size()) - 1) * std::clamp(p, 0.0, 100.0) / 100;
  const size_t lo = static_cast<size_t>(std::floor(h));
  if (lo + 1 >= values.size()) return values.back();
  return values[lo] + (h - static_cast<double>(lo)) * (values[lo + 1] - values[lo]);
}

MeanInterval BootstrapMean(const std::vector<double>& values, uint64_t seed, int resamples, double confidence) {
  MeanInterval out;
  out.n = values.size();
  if (values.empty()) return out;
  out.mean = Mean(values);
  if (values.size() == 1) {
    out.low = out.high = out.mean;
    return out;
  }
  std::tie(out.low, out.high) = BootstrapInterval(values, seed, resamples, confidence);
  return out;
}

PairedComparison ComparePaired(const std::vector<double>& a, const std::vector<double>& b, bool higher_is_better,
                               uint64_t seed, int resamples, double confidence, double tie_epsilon) {
  PairedComparison out;
  if (a.size() != b.size() || a.empty() || AnyNaN(a) || AnyNaN(b)) return out;
  out.n = a.size();
  std::vector<double> diff(a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    diff[i] = b[i] - a[i];
    // A win is B better in the metric's own direction.
    const double gain = higher_is_better ? diff[i] : -diff[i];
    if (std::fabs(diff[i]) <= tie_epsilon) ++out.ties;
    else if (gain > 0) ++out.wins;
    else ++out.losses;
  }
  out.mean_a = Mean(a);
  out.mean_b = Mean(b);
  out.mean_diff = Mean(diff);
  if (out.n == 1) {
    out.ci_low = out.ci_high = out.mean_diff;
  } else {
    std::tie(out.ci_low, out.ci_high) = BootstrapInterval(diff, seed, resamples, confidence);
  }
  out.sign_test_p = out.adjusted_p = SignTestP(out.wins, out.losses);
  out.verdict = VerdictAt(out, out.sign_test_p, higher_is_better, confidence);
  return out;
}

Verdict VerdictAt(const PairedComparison& p, double p_value, bool higher_is_better, double confidence) {
  // Both must agree: the interval says the mean moved, the sign test says it was not a few cases.
  const bool significant = p_value < 1 - confidence;
  const bool up = p.ci_low > 0, down = p.ci_high < 0;
  if (significant && (higher_is_better ? up : down) && p.wins > p.losses) return Verdict::kBetter;
  if (significant && (higher_is_better ? down : up) && p.losses > p.wins) return Verdict::kWorse;
  return Verdict::kNoSignificantDifference;
}

std::vector<double> HolmAdjust(const std::vector<double>& p) {
  const size_t m = p.size();
  std::vector<size_t> order(m);
  for (size_t i = 0; i < m; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return p[a] < p[b]; });
  std::vector<double> out(m);
  double running = 0;
  for (size_t k = 0; k < m; ++k) {
    const double adjusted = std::min(1.0, static_cast<double>(m - k) * p[order[k]]);
    running = std::max(running, adjusted);
    out[order[k]] = std::isnan(p[order[k]]) ? 1.0 : running;
  }
  return out;
}

double SpearmanCorrelation(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() != y.size() || x.size() < 2 || AnyNaN(x) || AnyNaN(y)) return 0;
  const auto rx = AverageRanks(x), ry = AverageRanks(y);
  const double mx = Mean(rx), my = Mean(ry);
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < rx.size(); ++i) {
    sxy += (rx[i] - mx) * (ry[i] - my);
    sxx += (rx[i] - mx) * (rx[i] - mx);
    syy += (ry[i] - my) * (ry[i] - my);
  }
  if (sxx == 0 || syy == 0) return 0;
  return sxy / std::sqrt(sxx * syy);
}

}  // namespace lathe::eval
