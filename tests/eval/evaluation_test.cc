// Evaluate and Summarize over deterministic fake models: batching, failures per case and per
// batch, a model that breaks mid-run, cancelling, progress, comparisons and the judge.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <set>

#include "eval/evaluation.h"
#include "eval/judge.h"
#include "eval/metrics.h"
#include "eval/run_limits.h"

namespace lathe::eval {
namespace {

// "q<i>" asks for "the answer is number <i> of many", which a good model gives verbatim.
TestSet MakeSet(size_t n) {
  TestSet set;
  set.source = "fake.jsonl";
  for (size_t i = 0; i < n; ++i) {
    TestCase c;
    c.id = "q" + std::to_string(i);
    c.line = i + 1;
    c.prompt = "question " + std::to_string(i);
    c.reference = "the answer is number " + std::to_string(i) + " of many";
    c.keywords = {"answer", "number"};
    c.category = i % 2 == 0 ? "even" : "odd";
    set.cases.push_back(std::move(c));
  }
  return set;
}

class FakeModel : public Generator {
 public:
  enum Quality { kRight, kWrong, kHalf };  // kHalf: right on even cases only
  explicit FakeModel(Quality q) : quality_(q) {}

  std::set<std::string> fail_cases;         // ids answered with a per-case error
  std::set<std::string> fail_batch_with;    // a batch holding one of these fails as a whole
  int break_after_batches = -1;             // >= 0: every batch after this many fails
  std::vector<size_t> batch_sizes;

  Result<std::vector<Answer>> Generate(const std::vector<const TestCase*>& cases,
                                       const GenerationSettings& settings) override {
    batch_sizes.push_back(cases.size());
    if (break_after_batches >= 0 && static_cast<int>(batch_sizes.size()) > break_after_batches)
      return Status::IOError("the model's process died");
    for (const TestCase* c : cases)
      if (fail_batch_with.count(c->id)) return Status::Internal("out of memory in batch");
    std::vector<Answer> out;
    for (const TestCase* c : cases) {
      Answer a;
      if (fail_cases.count(c->id)) {
        a.error = "prompt too long";
        out.push_back(a);
        continue;
      }
      const bool right = quality_ == kRight || (quality_ == kHalf && c->line % 2 == 1);
      a.ok = true;
      a.text = right ? c->reference : "purple elephants dance quietly tonight";
      a.latency_ms = 100;
      a.output_tokens = 10;
      a.stop_reason = "end_token";
      out.push_back(a);
    }
    (void)settings;
    return out;
  }
  double loss = -1;  // >= 0: every reference's loss
  std::optional<ReferenceLoss> LossOfReference(const TestCase& c) override {
    if (loss >= 0) return ReferenceLoss{loss, static_cast<int>(c.reference.size())};
    const bool right = quality_ == kRight || (quality_ == kHalf && c.line % 2 == 1);
    return ReferenceLoss{right ? 0.5 : 2.0, static_cast<int>(c.reference.size())};
  }

 private:
  Quality quality_;
};

ModelUnderTest Model(const std::string& label, std::shared_ptr<Generator> g) {
  ModelUnderTest m;
  m.label = label;
  m.identifier = label;
  m.generator = std::move(g);
  return m;
}

RunOptions Options(int batch_size) {
  RunOptions o;
  o.settings.batch_size = batch_size;
  o.bootstrap_seed = 7;
  return o;
}

TEST(Evaluate, BatchesCasesAndScoresEveryAnswer) {
  const TestSet set = MakeSet(10);
  auto right = std::make_shared<FakeModel>(FakeModel::kRight);
  auto r = Evaluate(set, {Model("tuned", right)}, Options(4));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(right->batch_sizes, (std::vector<size_t>{4, 4, 2}));
  ASSERT_EQ(r->models.size(), 1u);
  const ModelResult& m = r->models[0];
  ASSERT_EQ(m.cases.size(), 10u);
  EXPECT_EQ(m.failed, 0u);
  for (size_t i = 0; i < 10; ++i) {
    const CaseResult& c = m.cases[i];
    EXPECT_EQ(c.case_index, i);
    EXPECT_TRUE(c.answer.ok);
    EXPECT_EQ(c.metrics.at(kExactMatch), 1.0);
    EXPECT_EQ(c.metrics.at(kKeywordCoverage), 1.0);
    EXPECT_EQ(c.keywords_hit, (std::vector<std::string>{"answer", "number"}));
    EXPECT_EQ(c.metrics.at(kLatencyMs), 100.0);
    EXPECT_EQ(c.metrics.at(kTokensPerSecond), 100.0);  // 10 tokens in 0.1 s
    EXPECT_EQ(c.metrics.at(kReferenceLoss), 0.5);
    EXPECT_NEAR(c.metrics.at(kReferencePerplexity), std::exp(0.5), 1e-12);
  }
  // A perfect answer scores 1 on every quality metric in [0, 1] and never refuses.
  EXPECT_NEAR(m.overall_score, 1.0, 1e-9);
  EXPECT_EQ(m.overall.at(kExactMatch).interval.n, 10u);
  EXPECT_EQ(m.overall.at(kExactMatch).interval.mean, 1.0);
  EXPECT_EQ(m.by_category.at("even").at(kExactMatch).interval.n, 5u);
  EXPECT_EQ(m.latency_p50_ms, 100.0);
  EXPECT_EQ(m.latency_p95_ms, 100.0);
  // Throughput is tokens over the batches' wall time (each case's share of it), not over the
  // latencies: the fake says 100 ms per case but answers in microseconds.
  double share_s = 0;
  for (const CaseResult& c : m.cases) {
    EXPECT_GT(c.answer.batch_share_ms, 0);
    share_s += c.answer.batch_share_ms / 1000.0;
  }
  EXPECT_NEAR(m.tokens_per_second, 100.0 / share_s, 1e-6 * m.tokens_per_second);
  EXPECT_GT(m.tokens_per_second, 100.0);
  EXPECT_NEAR(m.corpus_bleu, 1.0, 1e-9);
  EXPECT_TRUE(r->comparisons.empty());  // nothing to compare one model with
  EXPECT_EQ(r->run_id.rfind("eval-", 0), 0u);
  EXPECT_EQ(r->bootstrap_seed, 7u);
}

// exp(800) is inf, which JSON cannot hold (it was written as null and dropped on reload): such a
// perplexity is left out, the loss kept.
TEST(Evaluate, APerplexityBeyondADoubleIsLeftOutNotInfinite) {
  const TestSet set = MakeSet(3);
  auto lost = std::make_shared<FakeModel>(FakeModel::kWrong);
  lost->loss = 800;
  auto r = Evaluate(set, {Model("lost", lost)}, Options(4));
  ASSERT_TRUE(r.ok());
  for (const CaseResult& c : r->models[0].cases) {
    EXPECT_EQ(c.metrics.at(kReferenceLoss), 800);
    EXPECT_EQ(c.metrics.count(kReferencePerplexity), 0u);
  }
  auto back = RunFromJson(RunToJson(*r));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->models[0].cases[0].metrics.at(kReferenceLoss), 800);
}

// A foreign server may answer with megabytes and a negative token count: the run keeps what
// report.json's reader accepts, so `eval review` reads what `eval run` wrote.
class HugeAnswers : public Generator {
 public:
  Result<std::vector<Answer>> Generate(const std::vector<const TestCase*>& cases, const GenerationSettings&) override {
    std::vector<Answer> out(cases.size());
    for (Answer& a : out) {
      a.ok = true;
      a.text = std::string(kMaxAnswerBytes - 1, 'x') + "\xC3\xA9" + std::string(2 << 20, 'y');
      a.output_tokens = -5;
    }
    out[0].ok = false;
    out[0].error = std::string(1 << 20, 'e');
    return out;
  }
};

TEST(Evaluate, AnswersAreBoundedAtCaptureSoTheReportReadsBack) {
  const TestSet set = MakeSet(2);
  auto r = Evaluate(set, {Model("huge", std::make_shared<HugeAnswers>())}, Options(4));
  ASSERT_TRUE(r.ok());
  const Answer& a = r->models[0].cases[1].answer;
  EXPECT_EQ(a.text.size(), kMaxAnswerBytes - 1);  // not cut inside the two-byte "é"
  EXPECT_EQ(a.output_tokens, 0);
  EXPECT_LE(r->models[0].cases[0].answer.error.size(), kMaxErrorBytes);
  auto back = RunFromJson(RunToJson(*r));
  ASSERT_TRUE(back.ok()) << back.status().message();
}

TEST(Evaluate, RecordsPerCaseAndWholeBatchFailuresAndGoesOn) {
  const TestSet set = MakeSet(12);
  auto flaky = std::make_shared<FakeModel>(FakeModel::kRight);
  flaky->fail_cases = {"q1"};
  flaky->fail_batch_with = {"q5"};  // the batch q4..q7
  auto r = Evaluate(set, {Model("flaky", flaky)}, Options(4));
  ASSERT_TRUE(r.ok()) << r.status().message();
  const ModelResult& m = r->models[0];
  EXPECT_EQ(m.failed, 5u);
  EXPECT_FALSE(m.cases[1].answer.ok);
  EXPECT_EQ(m.cases[1].answer.error, "prompt too long");
  EXPECT_EQ(m.cases[1].answer.stop_reason, "error");
  EXPECT_TRUE(m.cases[1].metrics.empty());
  for (size_t i = 4; i < 8; ++i) {
    EXPECT_FALSE(m.cases[i].answer.ok) << i;
    EXPECT_NE(m.cases[i].answer.error.find("out of memory in batch"), std::string::npos) << m.cases[i].answer.error;
  }
  for (size_t i : {0u, 2u, 3u, 8u, 9u, 10u, 11u}) EXPECT_TRUE(m.cases[i].answer.ok) << i;
  // The aggregates are over the answered cases only.
  EXPECT_EQ(m.overall.at(kExactMatch).interval.n, 7u);
}

TEST(Evaluate, AModelThatBreaksMidRunStillReportsTheRest) {
  const TestSet set = MakeSet(9);
  auto breaks = std::make_shared<FakeModel>(FakeModel::kRight);
  breaks->break_after_batches = 1;
  auto other = std::make_shared<FakeModel>(FakeModel::kWrong);
  auto r = Evaluate(set, {Model("other", other), Model("breaks", breaks)}, Options(3));
  ASSERT_TRUE(r.ok()) << r.status().message();
  const ModelResult& m = r->models[1];
  EXPECT_EQ(m.failed, 6u);
  for (size_t i = 0; i < 3; ++i) EXPECT_TRUE(m.cases[i].answer.ok);
  for (size_t i = 3; i < 9; ++i) EXPECT_NE(m.cases[i].answer.error.find("the model's process died"), std::string::npos);
  EXPECT_EQ(r->models[0].failed, 0u);
  // A failed answer counts at its worst in the comparison: every case is paired.
  ASSERT_EQ(r->comparisons.size(), 1u);
  const PairedComparison& em = r->comparisons[0].by_metric.at(kExactMatch);
  EXPECT_EQ(em.n, 9u);
  EXPECT_EQ(em.wins, 3u);
  EXPECT_EQ(em.ties, 6u);  // a wrong answer and a failed one both score 0
}

// A model that fails 9 of 10 cases and gets the tenth right used to score overallScore 1.0 and
// have its failures left out of the comparison; now each failure scores the worst value.
TEST(Summarize, FailedAnswersScoreTheirWorstInOverallScoreAndComparisons) {
  const TestSet set = MakeSet(10);
  auto mostly_fails = std::make_shared<FakeModel>(FakeModel::kRight);
  for (int i = 1; i < 10; ++i) mostly_fails->fail_cases.insert("q" + std::to_string(i));
  auto r = Evaluate(set,
                    {Model("base", std::make_shared<FakeModel>(FakeModel::kHalf)), Model("fails", mostly_fails)},
                    Options(4));
  ASSERT_TRUE(r.ok()) << r.status().message();
  const ModelResult& fails = r->models[1];
  EXPECT_EQ(fails.failed, 9u);
  // The aggregates stay over answered cases; the score does not.
  EXPECT_EQ(fails.overall.at(kExactMatch).interval.mean, 1.0);
  // keywordCoverage, exactMatch, tokenF1, rougeL, bleu at 1 on one case of ten, refusal 0 -> 1
  // there and 1 -> 0 on the failures: each metric's mean is 0.1.
  EXPECT_NEAR(fails.overall_score, 0.1, 1e-9);
  EXPECT_LT(fails.overall_score, r->models[0].overall_score);
  const PairedComparison& em = r->comparisons[0].by_metric.at(kExactMatch);
  EXPECT_EQ(em.n, 10u);
  EXPECT_LT(em.mean_diff, 0);
  EXPECT_GT(em.losses, em.wins);
  const PairedComparison& refusal = r->comparisons[0].by_metric.at(kRefusal);
  EXPECT_EQ(refusal.n, 10u);
  EXPECT_NEAR(refusal.mean_b, 0.9, 1e-12);  // a failure counts as the worst refusal value
}

TEST(Evaluate, ReportsProgressAfterEachBatchWithAnEta) {
  const TestSet set = MakeSet(5);
  RunOptions o = Options(2);
  std::vector<Progress> seen;
  o.on_progress = [&](const Progress& p) { seen.push_back(p); };
  auto r = Evaluate(set,
                    {Model("a", std::make_shared<FakeModel>(FakeModel::kWrong)),
                     Model("b", std::make_shared<FakeModel>(FakeModel::kRight))},
                    o);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(seen.size(), 6u);  // 3 batches (2, 2, 1) per model
  const std::vector<size_t> done = {2, 4, 5, 7, 9, 10};
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].cases_done, done[i]);
    EXPECT_EQ(seen[i].cases_total, 10u);
    EXPECT_EQ(seen[i].model_index, i < 3 ? 0u : 1u);
    EXPECT_EQ(seen[i].models_total, 2u);
    EXPECT_GE(seen[i].eta_s, 0.0);
    EXPECT_GE(seen[i].elapsed_s, 0.0);
  }
  EXPECT_EQ(seen.back().eta_s, 0.0);
}

TEST(Evaluate, StopsWhenAskedAfterTheBatchInFlight) {
  const TestSet set = MakeSet(8);
  RunOptions o = Options(2);
  std::atomic<bool> stop{false};
  o.stop = &stop;
  int calls = 0;
  o.on_progress = [&](const Progress&) {
    if (++calls == 2) stop.store(true);
  };
  auto model = std::make_shared<FakeModel>(FakeModel::kRight);
  auto r = Evaluate(set, {Model("a", model)}, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kConflict);
  EXPECT_NE(r.status().message().find("stopped after 4 of 8"), std::string::npos) << r.status().message();
  EXPECT_EQ(model->batch_sizes.size(), 2u);  // nothing ran after the stop
}

TEST(Evaluate, RefusesWhatCannotBeRun) {
  const TestSet set = MakeSet(3);
  auto g = std::make_shared<FakeModel>(FakeModel::kRight);
  EXPECT_EQ(Evaluate(set, {}, Options(2)).status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(Evaluate(TestSet{}, {Model("a", g)}, Options(2)).status().code(), Status::Code::kInvalidArgument);
  auto dup = Evaluate(set, {Model("a", g), Model("a", g)}, Options(2));
  EXPECT_NE(dup.status().message().find("two models are labelled \"a\""), std::string::npos);
  EXPECT_NE(Evaluate(set, {Model("a", g)}, Options(0)).status().message().find("batch size"), std::string::npos);
  RunOptions hot = Options(2);
  hot.settings.temperature = -1;
  EXPECT_NE(Evaluate(set, {Model("a", g)}, hot).status().message().find("temperature"), std::string::npos);
  EXPECT_EQ(Evaluate(set, {Model("a", nullptr)}, Options(2)).status().code(), Status::Code::kInvalidArgument);
  TestSet broken = MakeSet(2);
  broken.problems.push_back({data::Severity::kError, "fake.jsonl", 2, 0, "prompt", "empty-string", "empty", ""});
  EXPECT_NE(Evaluate(broken, {Model("a", g)}, Options(2)).status().message().find("1 problem"), std::string::npos);
}

TEST(Summarize, ComparesEveryModelWithTheBaselineAndNeverCallsNoiseBetter) {
  const TestSet set = MakeSet(30);
  auto r = Evaluate(set,
                    {Model("base", std::make_shared<FakeModel>(FakeModel::kWrong)),
                     Model("tuned", std::make_shared<FakeModel>(FakeModel::kRight)),
                     Model("same", std::make_shared<FakeModel>(FakeModel::kWrong)),
                     Model("half", std::make_shared<FakeModel>(FakeModel::kHalf))},
                    Options(8));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->comparisons.size(), 3u);
  const Comparison& tuned = r->comparisons[0];
  EXPECT_EQ(tuned.baseline_label, "base");
  EXPECT_EQ(tuned.candidate_label, "tuned");
  const PairedComparison& em = tuned.by_metric.at(kExactMatch);
  EXPECT_EQ(em.wins, 30u);
  EXPECT_EQ(em.losses, 0u);
  EXPECT_EQ(em.verdict, Verdict::kBetter);
  EXPECT_NEAR(em.mean_diff, 1.0, 1e-12);
  // Lower loss is better: the verdict follows the metric's direction.
  EXPECT_EQ(tuned.by_metric.at(kReferenceLoss).verdict, Verdict::kBetter);
  // Perplexity is exp(loss): reported, not tested a second time.
  EXPECT_EQ(tuned.by_metric.count(kReferencePerplexity), 0u);
  // The verdicts are Holm-adjusted across the metrics; the primary metric stands alone.
  EXPECT_GT(em.adjusted_p, em.sign_test_p);
  const PairedComparison& primary = tuned.by_metric.at(kOverallScore);
  EXPECT_EQ(primary.n, 30u);
  EXPECT_EQ(primary.wins, 30u);
  EXPECT_EQ(primary.adjusted_p, primary.sign_test_p);
  EXPECT_EQ(primary.verdict, Verdict::kBetter);
  EXPECT_EQ(tuned.by_metric.count(kLatencyMs), 0u);  // reported, never judged
  EXPECT_EQ(tuned.by_metric.count(kAnswerWords), 0u);
  // overallScore is compared per case too (the registry's gate reads its verdict).
  const PairedComparison& overall = tuned.by_metric.at("overallScore");
  EXPECT_EQ(overall.n, 30u);
  EXPECT_EQ(overall.verdict, Verdict::kBetter);
  EXPECT_GT(overall.mean_diff, 0);
  EXPECT_EQ(r->comparisons[1].by_metric.at("overallScore").verdict, Verdict::kNoSignificantDifference);
  const PairedComparison& same = r->comparisons[1].by_metric.at(kExactMatch);
  EXPECT_EQ(same.ties, 30u);
  EXPECT_EQ(same.verdict, Verdict::kNoSignificantDifference);
  const PairedComparison& half = r->comparisons[2].by_metric.at(kExactMatch);
  EXPECT_EQ(half.wins, 15u);
  EXPECT_EQ(half.ties, 15u);
  EXPECT_GT(r->models[1].overall_score, r->models[3].overall_score);
  EXPECT_GT(r->models[3].overall_score, r->models[0].overall_score);

  // Summarize is a function of the cases: recomputing gives the same numbers.
  RunResult again = *r;
  Summarize(&again);
  EXPECT_EQ(again.models[1].overall.at(kTokenF1).interval.low, r->models[1].overall.at(kTokenF1).interval.low);
  EXPECT_EQ(again.comparisons[2].by_metric.at(kExactMatch).ci_low, half.ci_low);
}

TEST(Summarize, HumanScoresBecomeAComparedMetric) {
  const TestSet set = MakeSet(4);
  auto r = Evaluate(set,
                    {Model("a", std::make_shared<FakeModel>(FakeModel::kWrong)),
                     Model("b", std::make_shared<FakeModel>(FakeModel::kRight))},
                    Options(4));
  ASSERT_TRUE(r.ok());
  for (auto& c : r->models[0].cases) c.human = {{"accuracy", 2}, {"tone", 4}};
  for (auto& c : r->models[1].cases) c.human = {{"accuracy", 5}, {"tone", 5}};
  Summarize(&*r);
  EXPECT_EQ(r->models[0].overall.at("humanScore").interval.mean, 3.0);
  EXPECT_EQ(r->comparisons[0].by_metric.at("humanScore").wins, 4u);
}

// A judge that gives 5s to answers that repeat the reference and 1s otherwise.
class FakeJudge : public Generator {
 public:
  std::vector<std::string> prompts;
  Result<std::vector<Answer>> Generate(const std::vector<const TestCase*>& cases, const GenerationSettings&) override {
    std::vector<Answer> out;
    for (const TestCase* c : cases) {
      prompts.push_back(c->prompt);
      Answer a;
      a.ok = true;
      const bool right = c->prompt.find("Answer: the answer is") != std::string::npos;
      a.text = right        ? "Accuracy: 5\nrelevance: 5\n- tone: 4/5\ncompleteness: 5\nformatting: 5"
               : c->id == "q0" ? "accuracy: 1\nrelevance: 2\ntone: 3\ncompleteness: 1\nformatting: unclear"
                               : "accuracy: 1\nrelevance: 2\ntone: 3\ncompleteness: 1\nformatting: 2";
      out.push_back(a);
    }
    return out;
  }
};

TEST(Judge, ScoresEveryAnswerAndAgreesWithTheMetrics) {
  const TestSet set = MakeSet(6);
  RunOptions o = Options(4);
  auto judge = std::make_shared<FakeJudge>();
  o.judge = judge;
  o.judge_label = "judge-model";
  auto r = Evaluate(set,
                    {Model("a", std::make_shared<FakeModel>(FakeModel::kWrong)),
                     Model("b", std::make_shared<FakeModel>(FakeModel::kHalf))},
                    o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->judge_model, "judge-model");
  EXPECT_EQ(judge->prompts.size(), 12u);
  const CaseResult& good = r->models[1].cases[0];
  EXPECT_EQ(good.judge.at("accuracy"), 5.0);
  EXPECT_EQ(good.judge.at("tone"), 4.0);
  EXPECT_NEAR(good.metrics.at(kJudgeScore), 4.8, 1e-12);
  const CaseResult& bad = r->models[0].cases[0];
  EXPECT_EQ(bad.judge.count("formatting"), 0u);  // unparseable: absent, never guessed
  // Four criteria of five: no score (a mean of whichever parsed is not comparable).
  EXPECT_EQ(bad.metrics.count(kJudgeScore), 0u);
  EXPECT_NEAR(r->models[0].cases[1].metrics.at(kJudgeScore), 9.0 / 5.0, 1e-12);
  // The judge ranks exactly as exact match does.
  EXPECT_NEAR(r->judge_agreement.at(kExactMatch), 1.0, 1e-9);
  // And as the loss does, lower being better there: agreement is oriented, +1 too.
  EXPECT_NEAR(r->judge_agreement.at(kReferenceLoss), 1.0, 1e-9);
  EXPECT_EQ(r->judge_agreement.count(kJudgeScore), 0u);
}

TEST(Judge, PromptShowsTheQuestionReferenceAndAnswer) {
  TestCase c;
  c.prompt = "How do I reset my PIN?";
  c.reference = "Use the app.";
  const std::string p = JudgePrompt(c, "Call us.");
  EXPECT_NE(p.find("Question: How do I reset my PIN?"), std::string::npos);
  EXPECT_NE(p.find("Reference answer: Use the app."), std::string::npos);
  EXPECT_NE(p.find("Answer: Call us."), std::string::npos);
  for (const char* criterion : {"accuracy", "relevance", "tone", "completeness", "formatting"})
    EXPECT_NE(p.find(criterion), std::string::npos) << criterion;
  c.reference.clear();
  EXPECT_EQ(JudgePrompt(c, "x").find("Reference answer"), std::string::npos);
  // A huge answer is cut, at a code point boundary.
  std::string huge;
  for (int i = 0; i < 3000; ++i) huge += "\xc3\xa9";
  const std::string cut = JudgePrompt(c, huge);
  EXPECT_LT(cut.size(), 3000u + 600u);
  EXPECT_NE(cut.find("\xc3\xa9 [...]"), std::string::npos);
}

TEST(Judge, ParsesOnlyRubricScoresInRange) {
  auto s = ParseJudgeScores("Accuracy: 4\n**Relevance**: 5\n* tone: 3.5\ncompleteness: 9\nformatting: -2\nstyle: 5\n");
  EXPECT_EQ(s, (std::map<std::string, double>{{"accuracy", 4}, {"relevance", 5}, {"tone", 3.5}}));
  EXPECT_TRUE(ParseJudgeScores("").empty());
  EXPECT_TRUE(ParseJudgeScores("I think it is good.").empty());
  EXPECT_TRUE(ParseJudgeScores("accuracy: 45\nrelevance: five").empty());
  // The first score given for a criterion stands.
  EXPECT_EQ(ParseJudgeScores("accuracy: 2\naccuracy: 5").at("accuracy"), 2.0);
  EXPECT_EQ(ParseJudgeScores("accuracy: 4/5").at("accuracy"), 4.0);
  // Only the first 4 KiB are read.
  EXPECT_TRUE(ParseJudgeScores(std::string(5000, 'x') + "\naccuracy: 4").empty());
}

}  // namespace
}  // namespace lathe::eval
