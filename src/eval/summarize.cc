// Summarize: from per-case scores to what the reports show. A pure function of the run's cases
// and its bootstrap seed, so a reloaded or reviewed run summarises to the same numbers.
#include <algorithm>
#include <cmath>
#include <set>

#include "eval/evaluation.h"
#include "eval/metrics.h"
#include "eval/statistics.h"

namespace lathe::eval {
namespace {

// The quality metrics in [0, 1] whose means make overallScore; refusal counts as 1 - rate.
constexpr const char* kOverallMetrics[] = {kKeywordCoverage, kExactMatch, kTokenF1, kRougeL, kBleu, kFormatCompliance};

double RubricMean(const std::map<std::string, double>& scores) {
  double sum = 0;
  for (const auto& [criterion, score] : scores) sum += score;
  return sum / static_cast<double>(scores.size());
}

std::map<std::string, MetricSummary> Aggregate(const std::vector<const CaseResult*>& cases, uint64_t seed) {
  std::map<std::string, std::vector<double>> values;
  for (const CaseResult* c : cases)
    for (const auto& [metric, v] : c->metrics) values[metric].push_back(v);
  std::map<std::string, MetricSummary> out;
  for (const auto& [metric, v] : values) out[metric].interval = BootstrapMean(v, seed);
  return out;
}

bool IsBoundedQualityMetric(const std::string& metric) {
  if (metric == kRefusal) return true;
  for (const char* m : kOverallMetrics)
    if (metric == m) return true;
  return false;
}

const TestCase* CaseOf(const std::vector<TestCase>& cases, const CaseResult& c) {
  return c.case_index < cases.size() ? &cases[c.case_index] : nullptr;
}

// One case's overall score: the mean of its [0, 1] quality metrics, refusal as 1 - refusal; NaN
// when it has none.
double CaseOverallScore(const std::map<std::string, double>& scores) {
  double sum = 0;
  size_t n = 0;
  for (const auto& [metric, v] : scores)
    if (IsBoundedQualityMetric(metric)) {
      sum += metric == kRefusal ? 1.0 - v : v;
      ++n;
    }
  return n == 0 ? std::nan("") : sum / static_cast<double>(n);
}

// Mean over the cases (failed ones at their worst) of each [0, 1] quality metric, averaged
// over the metrics; refusal counts as 1 - rate.
double OverallScore(const std::vector<TestCase>& cases, const ModelResult& m) {
  std::map<std::string, std::pair<double, size_t>> sums;
  for (const CaseResult& c : m.cases)
    for (const auto& [metric, v] : JudgedScores(c, CaseOf(cases, c)))
      if (IsBoundedQualityMetric(metric)) {
        sums[metric].first += metric == kRefusal ? 1.0 - v : v;
        ++sums[metric].second;
      }
  double sum = 0;
  for (const auto& [metric, s] : sums) sum += s.first / static_cast<double>(s.second);
  return sums.empty() ? 0 : sum / static_cast<double>(sums.size());
}

void SummarizeModel(const std::vector<TestCase>& cases, uint64_t seed, ModelResult* m) {
  m->failed = 0;
  m->format_undecided = 0;
  std::vector<const CaseResult*> ok;
  std::map<std::string, std::vector<const CaseResult*>> by_category;
  std::vector<double> latencies;
  double tokens = 0, seconds = 0;
  std::vector<std::string> candidates, references;
  for (CaseResult& c : m->cases) {
    if (c.human.empty()) c.metrics.erase(kHumanScore);
    else c.metrics[kHumanScore] = RubricMean(c.human);
    if (!c.answer.ok) {
      ++m->failed;
      continue;
    }
    ok.push_back(&c);
    const TestCase* tc = c.case_index < cases.size() ? &cases[c.case_index] : nullptr;
    if (tc != nullptr && tc->format.kind != FormatRule::Kind::kNone && c.metrics.count(kFormatCompliance) == 0)
      ++m->format_undecided;
    by_category[tc != nullptr ? tc->category : "uncategorized"].push_back(&c);
    latencies.push_back(c.answer.latency_ms);
    tokens += c.answer.output_tokens;
    seconds += (c.answer.batch_share_ms > 0 ? c.answer.batch_share_ms : c.answer.latency_ms) / 1000.0;
    if (tc != nullptr && !tc->reference.empty()) {
      candidates.push_back(c.answer.text);
      references.push_back(tc->reference);
    }
  }
  m->overall = Aggregate(ok, seed);
  m->by_category.clear();
  for (const auto& [category, list] : by_category) m->by_category[category] = Aggregate(list, seed);
  m->latency_p50_ms = Percentile(latencies, 50);
  m->latency_p95_ms = Percentile(latencies, 95);
  m->tokens_per_second = seconds > 0 ? tokens / seconds : 0;
  m->corpus_bleu = candidates.empty() ? -1 : CorpusBleu(candidates, references);
  m->overall_score = OverallScore(cases, *m);
}

// Each quality metric both models have, over the cases where both have a score (a failed
// answer at its worst, JudgedScores).
Comparison Compare(const std::vector<TestCase>& cases, const ModelResult& a, const ModelResult& b, uint64_t seed) {
  Comparison c;
  c.baseline_label = a.model.label;
  c.candidate_label = b.model.label;
  const size_t n = std::min(a.cases.size(), b.cases.size());
  std::vector<std::map<std::string, double>> sa(n), sb(n);
  std::set<std::string> in_a, in_b;
  for (size_t i = 0; i < n; ++i) {
    sa[i] = JudgedScores(a.cases[i], CaseOf(cases, a.cases[i]));
    sb[i] = JudgedScores(b.cases[i], CaseOf(cases, b.cases[i]));
    for (const auto& [metric, v] : sa[i]) in_a.insert(metric);
    for (const auto& [metric, v] : sb[i]) in_b.insert(metric);
  }
  // Perplexity is exp(loss): reported, but testing it beside the loss would count one test twice.
  std::set<std::string> metrics;
  for (const std::string& metric : in_a)
    if (IsQualityMetric(metric) && metric != kReferencePerplexity && in_b.count(metric) > 0) metrics.insert(metric);
  for (const std::string& metric : metrics) {
    std::vector<double> va, vb;
    for (size_t i = 0; i < n; ++i) {
      auto ia = sa[i].find(metric), ib = sb[i].find(metric);
      if (ia == sa[i].end() || ib == sb[i].end()) continue;
      va.push_back(ia->second);
      vb.push_back(ib->second);
    }
    if (!va.empty()) c.by_metric[metric] = ComparePaired(va, vb, HigherIsBetter(metric), seed);
  }
  // The metrics are tested together: their verdicts are read from Holm-adjusted p-values, so ten
  // metrics at p < 0.05 do not make a one-in-three chance of some "better" from noise.
  std::vector<double> raw;
  for (const auto& [metric, p] : c.by_metric) raw.push_back(p.sign_test_p);
  const std::vector<double> adjusted = HolmAdjust(raw);
  size_t k = 0;
  for (auto& [metric, p] : c.by_metric) {
    p.adjusted_p = adjusted[k++];
    p.verdict = VerdictAt(p, p.adjusted_p, HigherIsBetter(metric));
  }
  // The primary metric, decided before looking: each case's overall score (the mean of its [0, 1]
  // quality metrics, failed answers at their worst), one test standing alone.
  std::vector<double> va, vb;
  for (size_t i = 0; i < n; ++i) {
    const double xa = CaseOverallScore(sa[i]), xb = CaseOverallScore(sb[i]);
    if (std::isnan(xa) || std::isnan(xb)) continue;
    va.push_back(xa);
    vb.push_back(xb);
  }
  if (!va.empty()) c.by_metric[kOverallScore] = ComparePaired(va, vb, /*higher_is_better=*/true, seed);
  return c;
}

// Rank agreement of the judge's rubric mean with each automatic quality metric, over every
// answer (all models) that has both, in the metric's direction (+1: full agreement).
std::map<std::string, double> JudgeAgreement(const std::vector<ModelResult>& models) {
  std::set<std::string> metrics;
  for (const auto& m : models)
    for (const auto& [metric, s] : m.overall)
      if (IsQualityMetric(metric) && metric != kJudgeScore && metric != kHumanScore) metrics.insert(metric);
  std::map<std::string, double> out;
  for (const std::string& metric : metrics) {
    std::vector<double> judge, automatic;
    for (const auto& m : models)
      for (const auto& c : m.cases) {
        auto ij = c.metrics.find(kJudgeScore), im = c.metrics.find(metric);
        if (ij == c.metrics.end() || im == c.metrics.end()) continue;
        judge.push_back(ij->second);
        automatic.push_back(im->second);
      }
    // Oriented so that +1 always means "the judge agrees": for a lower-is-better metric (refusal,
    // loss) agreement is a negative rank correlation.
    if (judge.size() >= 2) out[metric] = (HigherIsBetter(metric) ? 1 : -1) * SpearmanCorrelation(judge, automatic);
  }
  return out;
}

}  // namespace

std::map<std::string, double> JudgedScores(const CaseResult& c, const TestCase* tc) {
  if (c.answer.ok) return c.metrics;
  std::map<std::string, double> out;
  if (tc == nullptr) return out;
  for (const auto& [metric, v] : ScoreAnswer(*tc, ""))
    if (IsBoundedQualityMetric(metric)) out[metric] = HigherIsBetter(metric) ? 0.0 : 1.0;
  return out;
}

void Summarize(RunResult* run) {
  for (ModelResult& m : run->models) SummarizeModel(run->test_set.cases, run->bootstrap_seed, &m);
  run->comparisons.clear();
  for (size_t i = 1; i < run->models.size(); ++i)
    run->comparisons.push_back(Compare(run->test_set.cases, run->models[0], run->models[i], run->bootstrap_seed));
  run->judge_agreement = JudgeAgreement(run->models);
}

}  // namespace lathe::eval
