// Summarize: from per-case scores to what the reports show. A pure function of the run's cases
// and its bootstrap seed, so a reloaded or reviewed run summarises to the same numbers.
#include <algorithm>
#include <optional>
#include <set>

#include "eval/evaluation.h"
#include "eval/metrics.h"
#include "eval/statistics.h"

namespace lathe::eval {
namespace {

// A human reviewer's rubric mean (review.h), kept beside the judge's as a per-case metric so it
// is aggregated and compared like the others.
constexpr const char* kHumanScore = "humanScore";

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

double OverallScore(const std::map<std::string, MetricSummary>& overall) {
  double sum = 0;
  int count = 0;
  for (const char* metric : kOverallMetrics)
    if (auto it = overall.find(metric); it != overall.end() && it->second.interval.n > 0) {
      sum += it->second.interval.mean;
      ++count;
    }
  if (auto it = overall.find(kRefusal); it != overall.end() && it->second.interval.n > 0) {
    sum += 1.0 - it->second.interval.mean;
    ++count;
  }
  return count == 0 ? 0 : sum / count;
}

// One case's overall score: the mean of its kOverallMetrics and 1 - refusal; nullopt when it has none.
std::optional<double> CaseOverallScore(const std::map<std::string, double>& metrics) {
  double sum = 0;
  int count = 0;
  for (const char* metric : kOverallMetrics)
    if (auto it = metrics.find(metric); it != metrics.end()) sum += it->second, ++count;
  if (auto it = metrics.find(kRefusal); it != metrics.end()) sum += 1.0 - it->second, ++count;
  if (count == 0) return std::nullopt;
  return sum / count;
}

constexpr const char* kOverallScoreKey = "overallScore";

void SummarizeModel(const std::vector<TestCase>& cases, uint64_t seed, ModelResult* m) {
  m->failed = 0;
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
    by_category[tc != nullptr ? tc->category : "uncategorized"].push_back(&c);
    latencies.push_back(c.answer.latency_ms);
    tokens += c.answer.output_tokens;
    seconds += c.answer.latency_ms / 1000.0;
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
  m->overall_score = OverallScore(m->overall);
}

// Each quality metric both models have, over the cases where both have a score.
Comparison Compare(const ModelResult& a, const ModelResult& b, uint64_t seed) {
  Comparison c;
  c.baseline_label = a.model.label;
  c.candidate_label = b.model.label;
  std::set<std::string> metrics;
  for (const auto& [metric, s] : a.overall)
    if (IsQualityMetric(metric) && b.overall.count(metric) > 0) metrics.insert(metric);
  const size_t n = std::min(a.cases.size(), b.cases.size());
  for (const std::string& metric : metrics) {
    std::vector<double> va, vb;
    for (size_t i = 0; i < n; ++i) {
      auto ia = a.cases[i].metrics.find(metric), ib = b.cases[i].metrics.find(metric);
      if (ia == a.cases[i].metrics.end() || ib == b.cases[i].metrics.end()) continue;
      va.push_back(ia->second);
      vb.push_back(ib->second);
    }
    if (!va.empty()) c.by_metric[metric] = ComparePaired(va, vb, HigherIsBetter(metric), seed);
  }
  // overallScore, paired: each case's own overall score (OverallScore's formula over that case's
  // metrics) on both sides, so a gate on overallScore gets a real verdict, not the run-level
  // difference of two means.
  std::vector<double> oa, ob;
  for (size_t i = 0; i < n; ++i) {
    std::optional<double> sa = CaseOverallScore(a.cases[i].metrics), sb = CaseOverallScore(b.cases[i].metrics);
    if (!sa || !sb) continue;
    oa.push_back(*sa);
    ob.push_back(*sb);
  }
  if (!oa.empty()) c.by_metric[kOverallScoreKey] = ComparePaired(oa, ob, /*higher_is_better=*/true, seed);
  return c;
}

// Rank agreement of the judge's rubric mean with each automatic quality metric, over every
// answer (all models) that has both.
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
    if (judge.size() >= 2) out[metric] = SpearmanCorrelation(judge, automatic);
  }
  return out;
}

}  // namespace

void Summarize(RunResult* run) {
  for (ModelResult& m : run->models) SummarizeModel(run->test_set.cases, run->bootstrap_seed, &m);
  run->comparisons.clear();
  for (size_t i = 1; i < run->models.size(); ++i)
    run->comparisons.push_back(Compare(run->models[0], run->models[i], run->bootstrap_seed));
  run->judge_agreement = JudgeAgreement(run->models);
}

}  // namespace lathe::eval
