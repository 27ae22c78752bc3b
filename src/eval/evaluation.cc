// Evaluate: every model answers every case in batches, each answer is scored on its own, and
// Summarize turns the per-case scores into the aggregates and comparisons the reports show.
// Per-case scoring happens here (answers are final once a batch returns); aggregation lives in
// summarize.cc so that a reviewed or reloaded run is summarised by the same code.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>

#include "core/arn.h"
#include "eval/evaluation.h"
#include "eval/judge.h"
#include "eval/metrics.h"
#include "eval/review.h"
#include "eval/run_limits.h"

namespace lathe::eval {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// "eval-20261202-081500-3f2a": sortable by time, unique enough for a folder name.
std::string NewRunId(const std::string& iso) {
  std::string digits;
  for (char c : iso.substr(0, 19))
    if (c >= '0' && c <= '9') digits += c;
  return "eval-" + digits.substr(0, 8) + "-" + digits.substr(8, 6) + "-" + NewResourceId(4);
}

Status CheckInputs(const TestSet& set, const std::vector<ModelUnderTest>& models, const RunOptions& options) {
  if (!set.ok()) {
    size_t errors = 0;
    for (const auto& p : set.problems) errors += p.severity == data::Severity::kError;
    return Status::InvalidArgument(set.cases.empty() && errors == 0
                                       ? "the test set " + set.source + " has no cases"
                                       : "the test set " + set.source + " has " + std::to_string(errors) +
                                             " problem(s); fix them first");
  }
  if (set.cases.size() > kMaxCases)
    return Status::InvalidArgument("the test set has " + std::to_string(set.cases.size()) + " cases; at most " +
                                   std::to_string(kMaxCases) + " are evaluated in one run");
  if (models.empty()) return Status::InvalidArgument("no model to evaluate: give at least one");
  if (models.size() > kMaxModelsPerRun)
    return Status::InvalidArgument(std::to_string(models.size()) + " models given; at most " +
                                   std::to_string(kMaxModelsPerRun) + " are evaluated in one run");
  std::set<std::string> labels;
  for (const auto& m : models) {
    if (m.generator == nullptr) return Status::InvalidArgument("model " + m.label + " has no generator");
    if (m.label.empty()) return Status::InvalidArgument("a model under test has no label");
    if (!labels.insert(m.label).second)
      return Status::InvalidArgument("two models are labelled \"" + m.label + "\"; give each its own LABEL=");
  }
  return CheckSettings(options.settings);
}

// `s` cut to at most `max` bytes without splitting a UTF-8 sequence.
void CutAtCharacter(std::string* s, size_t max) {
  if (s->size() <= max) return;
  size_t end = max;
  while (end > 0 && (static_cast<unsigned char>((*s)[end]) & 0xC0) == 0x80) --end;
  s->resize(end);
}

// One batch's answers, checked: a generator that answers with the wrong count has failed the
// batch rather than misattributed answers.
std::vector<Answer> AnswerBatch(Generator* g, const std::vector<const TestCase*>& batch,
                                const GenerationSettings& settings) {
  const auto t0 = Clock::now();
  Result<std::vector<Answer>> r = g->Generate(batch, settings);
  const double ms = SecondsSince(t0) * 1000.0;
  Status failed = r.status();
  if (r.ok() && r->size() != batch.size())
    failed = Status::Internal("the model gave " + std::to_string(r->size()) + " answers to a batch of " +
                              std::to_string(batch.size()) + " cases");
  std::vector<Answer> out(batch.size());
  if (!failed.ok()) {
    for (auto& a : out) {
      a.ok = false;
      a.error = "the whole batch failed: " + failed.message();
      a.stop_reason = "error";
    }
    return out;
  }
  out = std::move(*r);
  for (auto& a : out) {
    // What a generator says is bounded here, once, so report.json's reader accepts what the run
    // writes (a foreign server's tokenCount may be anything).
    CutAtCharacter(&a.text, kMaxAnswerBytes);
    CutAtCharacter(&a.error, kMaxErrorBytes);
    a.output_tokens = std::max(0, a.output_tokens);
    // A generator that timed each case itself (one request per case) keeps its own numbers.
    a.batch_share_ms = ms / static_cast<double>(batch.size());
    if (a.latency_ms <= 0) a.latency_ms = a.batch_share_ms;
    if (!a.ok && a.stop_reason.empty()) a.stop_reason = "error";
    if (!a.ok && a.error.empty()) a.error = "the model gave no answer";
  }
  return out;
}

void ScoreCase(const TestCase& c, Generator* g, bool reference_loss, CaseResult* r) {
  const Answer& a = r->answer;
  if (!a.ok) return;
  r->metrics = ScoreAnswer(c, a.text);
  r->keywords_hit = KeywordHits(a.text, c.keywords);
  r->metrics[kLatencyMs] = a.latency_ms;
  if (a.latency_ms > 0) r->metrics[kTokensPerSecond] = a.output_tokens / (a.latency_ms / 1000.0);
  if (reference_loss && !c.reference.empty()) {
    if (std::optional<ReferenceLoss> loss = g->LossOfReference(c); loss && loss->tokens > 0 &&
                                                                  std::isfinite(loss->mean_nll)) {
      r->metrics[kReferenceLoss] = loss->mean_nll;
      // exp overflows past a loss of ~709 nats: such a perplexity is left out (JSON has no inf).
      if (const double perplexity = std::exp(loss->mean_nll); std::isfinite(perplexity))
        r->metrics[kReferencePerplexity] = perplexity;
    }
  }
}

// The judge scores the batch's answered cases in one call of its own; its failures leave the
// scores absent (a judge that cannot answer is no evidence either way).
void JudgeBatch(Generator* judge, const std::vector<const TestCase*>& batch, std::vector<CaseResult*>& results) {
  std::vector<TestCase> prompts;
  std::vector<CaseResult*> judged;
  for (size_t i = 0; i < batch.size(); ++i) {
    if (!results[i]->answer.ok) continue;
    TestCase q;
    q.id = batch[i]->id;
    q.line = batch[i]->line;
    q.prompt = JudgePrompt(*batch[i], results[i]->answer.text);
    prompts.push_back(std::move(q));
    judged.push_back(results[i]);
  }
  if (prompts.empty()) return;
  std::vector<const TestCase*> ptrs;
  for (const auto& q : prompts) ptrs.push_back(&q);
  Result<std::vector<Answer>> r = judge->Generate(ptrs, JudgeSettings());
  if (!r.ok() || r->size() != judged.size()) return;
  for (size_t i = 0; i < judged.size(); ++i) {
    if (!(*r)[i].ok) continue;
    judged[i]->judge = ParseJudgeScores((*r)[i].text);
    // The score is the mean of all five criteria or nothing: a mean of whichever parsed would
    // compare "accuracy alone" with "all five" across answers.
    if (judged[i]->judge.size() != RubricCriteria().size()) continue;
    double sum = 0;
    for (const auto& [criterion, score] : judged[i]->judge) sum += score;
    judged[i]->metrics[kJudgeScore] = sum / static_cast<double>(judged[i]->judge.size());
  }
}

}  // namespace

Result<RunResult> Evaluate(const TestSet& set, const std::vector<ModelUnderTest>& models, const RunOptions& options) {
  LATHE_RETURN_IF_ERROR(CheckInputs(set, models, options));
  RunResult run;
  run.created = Iso8601(NowMillis());
  run.run_id = NewRunId(run.created);
  run.test_set_source = set.source;
  run.test_set = set;
  run.settings = options.settings;
  run.bootstrap_seed = options.bootstrap_seed;
  run.judge_model = options.judge ? (options.judge_label.empty() ? "judge" : options.judge_label) : "";

  const size_t n = set.cases.size();
  const size_t batch_size = static_cast<size_t>(options.settings.batch_size);
  Progress progress;
  progress.cases_total = n * models.size();
  progress.models_total = models.size();
  const auto t0 = Clock::now();
  for (size_t m = 0; m < models.size(); ++m) {
    ModelResult& result = run.models.emplace_back();
    result.model = models[m];
    result.cases.resize(n);
    progress.model_index = m;
    Generator* g = models[m].generator.get();
    for (size_t start = 0; start < n; start += batch_size) {
      if (options.stop != nullptr && options.stop->load())
        return Status::Conflict("evaluation stopped after " + std::to_string(progress.cases_done) + " of " +
                                std::to_string(progress.cases_total) + " answers");
      const size_t end = std::min(n, start + batch_size);
      std::vector<const TestCase*> batch;
      std::vector<CaseResult*> results;
      for (size_t i = start; i < end; ++i) {
        batch.push_back(&set.cases[i]);
        results.push_back(&result.cases[i]);
      }
      std::vector<Answer> answers = AnswerBatch(g, batch, options.settings);
      for (size_t k = 0; k < batch.size(); ++k) {
        results[k]->case_index = start + k;
        results[k]->answer = std::move(answers[k]);
        ScoreCase(*batch[k], g, options.reference_loss, results[k]);
      }
      if (options.judge) JudgeBatch(options.judge.get(), batch, results);
      progress.cases_done += batch.size();
      progress.elapsed_s = SecondsSince(t0);
      progress.eta_s = progress.elapsed_s / static_cast<double>(progress.cases_done) *
                       static_cast<double>(progress.cases_total - progress.cases_done);
      if (options.on_progress) options.on_progress(progress);
    }
  }
  Summarize(&run);
  return run;
}

uint64_t CaseSeed(uint64_t run_seed, const TestCase& c) {
  // SplitMix64's finaliser over the pair: nearby seeds and lines give unrelated streams.
  auto mix = [](uint64_t z) {
    z += 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  };
  return mix(mix(run_seed) ^ c.line);
}

}  // namespace lathe::eval
