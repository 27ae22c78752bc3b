// An evaluation run: every case of a test set answered by every model under test (batched per
// model through a Generator), scored per case, aggregated per model and per category, and each
// model after the first compared with the first (the baseline) with paired statistics. The
// result is plain data: report.h writes it, review.h adds human scores to it, the Bedrock
// evaluation job and the pipeline's evaluate-finetuned-model run it through `lathe eval run`.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "eval/statistics.h"
#include "eval/test_set.h"

namespace lathe::eval {

// Fixed for a whole run and recorded in its report, so a run can be repeated exactly.
struct GenerationSettings {
  double temperature = 0.0;  // 0: greedy
  double top_p = 1.0;
  int max_tokens = 128;
  uint64_t seed = 0;
  std::vector<std::string> stop_sequences;  // the caller's (chat formats add their own end markers)
  int batch_size = 8;                       // cases per engine batch
};
nlohmann::json SettingsToJson(const GenerationSettings& s);

// The seed a case's answer is sampled from: a hash of the run's seed and the case's line in the
// test set, so each case has its own stream (two cases with the same prompt sample differently)
// and its answer does not depend on the batch size, the batch's other cases or the machine.
uint64_t CaseSeed(uint64_t run_seed, const TestCase& c);

// One model's answer to one case.
struct Answer {
  bool ok = false;
  std::string text;
  std::string error;      // when !ok: what failed (the case is recorded as failed, the run goes on)
  // What a caller of this case waited: a request's own time for a served model; for a batched
  // local model, from the batch's start to this case's last token (so the batch's slowest case
  // sets p95). Throughput is separate: batch_share_ms.
  double latency_ms = 0;
  // This case's share of its batch's wall time (batch time / batch size), what the model's
  // tokens/s adds up; 0 where unknown (then latency_ms counts).
  double batch_share_ms = 0;
  int output_tokens = 0;
  std::string stop_reason;  // engine::StopReasonName, or "error"
};

// Teacher-forced loss of the reference answer given the prompt: mean negative log-likelihood per
// reference token (nats), no sampling involved.
struct ReferenceLoss {
  double mean_nll = 0;
  int tokens = 0;
};

// A model under test, however it is reached. Generate is called with batches of up to
// settings.batch_size cases, from one thread.
class Generator {
 public:
  virtual ~Generator() = default;
  // One answer per case, in order. A failure of the whole batch is a Status; a failure of one
  // case is that Answer's error.
  virtual Result<std::vector<Answer>> Generate(const std::vector<const TestCase*>& cases,
                                               const GenerationSettings& settings) = 0;
  // For local models (the engine's Logits); nullopt where the model cannot give it.
  virtual std::optional<ReferenceLoss> LossOfReference(const TestCase& c) { (void)c; return std::nullopt; }
};

struct ModelUnderTest {
  std::string label;       // short name in tables ("A", "base", "tuned", or what --model said)
  std::string identifier;  // what the user named: model id, ARN, directory
  std::string resolved;    // what it resolved to (a directory), "" when not local
  std::shared_ptr<Generator> generator;  // not serialised
};

struct CaseResult {
  size_t case_index = 0;  // into the test set
  Answer answer;
  std::map<std::string, double> metrics;      // metrics.h keys; absent = not applicable or failed
  std::vector<std::string> keywords_hit;
  std::map<std::string, double> human;        // review.h: rubric criterion -> 1..5
  std::map<std::string, double> judge;        // the judge model's rubric scores, 1..5
};

struct MetricSummary {
  MeanInterval interval;  // over the cases the metric applies to
};

struct ModelResult {
  ModelUnderTest model;
  std::vector<CaseResult> cases;  // one per test case, in test-set order
  size_t failed = 0;              // cases whose answer failed
  size_t format_undecided = 0;    // answered cases with a format rule the matcher could not decide (CheckFormat)
  std::map<std::string, MetricSummary> overall;                               // metric -> summary
  std::map<std::string, std::map<std::string, MetricSummary>> by_category;    // category -> metric -> summary
  double latency_p50_ms = 0, latency_p95_ms = 0, tokens_per_second = 0;
  double corpus_bleu = -1;        // -1: no references
  double overall_score = 0;       // mean of the [0, 1] quality metrics' means, failed answers at their worst
};

struct Comparison {
  std::string baseline_label, candidate_label;
  std::map<std::string, PairedComparison> by_metric;  // quality metrics both models have
};

struct RunResult {
  std::string run_id;          // e.g. "eval-20261202-081500-3f2a"
  std::string created;         // ISO 8601
  std::string test_set_source;
  TestSet test_set;
  GenerationSettings settings;
  std::vector<ModelResult> models;       // in the order given; models[0] is the baseline
  std::vector<Comparison> comparisons;   // models[i] vs models[0], i >= 1
  std::string judge_model;               // "" = no judge
  std::map<std::string, double> judge_agreement;  // metric -> Spearman with the judge's score
  uint64_t bootstrap_seed = 0;
  bool human_reviewed = false;
};

struct Progress {
  size_t cases_done = 0, cases_total = 0;  // over all models
  size_t model_index = 0, models_total = 0;
  double elapsed_s = 0, eta_s = 0;
};

struct RunOptions {
  GenerationSettings settings;
  uint64_t bootstrap_seed = 0;
  bool reference_loss = true;                  // compute LossOfReference where supported
  std::shared_ptr<Generator> judge;            // optional LLM-as-judge (rubric prompts, judge.h)
  std::string judge_label;
  std::function<void(const Progress&)> on_progress;
  const std::atomic<bool>* stop = nullptr;     // set: the run ends early with Cancelled
};

// Runs every model over every case, then scores, aggregates and compares. A model that fails on
// a case is recorded per case; a model that fails a whole batch has that batch's cases failed.
// Errors: InvalidArgument for an unusable test set, no models or settings out of bounds
// (run_limits.h); when stopped, Conflict "evaluation stopped after N of M answers" (core's Status
// has no Cancelled code, and adding one would rebuild every layer).
Result<RunResult> Evaluate(const TestSet& set, const std::vector<ModelUnderTest>& models, const RunOptions& options);

// Recomputes aggregates and comparisons from the per-case results (after human review adds
// scores, or after loading a report).
void Summarize(RunResult* run);

// The scores a case counts with when judging a model (overallScore, comparisons, the report's
// wins and losses): its own metrics when answered; when the answer failed, the worst value of
// every [0, 1] quality metric that applies to the case (0, or 1 for refusal), so failing hard
// cases never makes a model look better than answering them badly. `tc` may be null (nothing).
std::map<std::string, double> JudgedScores(const CaseResult& c, const TestCase* tc);

// report.json's object, and back (for review and re-rendering); the tutorial's
// evaluation_report.json keys are included (report.h says which).
nlohmann::json RunToJson(const RunResult& run);
Result<RunResult> RunFromJson(const nlohmann::json& j);

}  // namespace lathe::eval
