// A hand-built run for the report and review tests: three cases (one with keywords and the
// tutorial's expected_theme, one hostile to HTML and Markdown, one chat with a format rule), two
// models (the tuned one loses case 0; the base one fails case 2), intervals and a comparison.
#pragma once

#include "eval/evaluation.h"
#include "eval/metrics.h"

namespace lathe::eval::testing {

// In a prompt and in an answer: must never reach report.html as markup.
inline constexpr const char* kHostilePrompt = "Is a|b safe? </script><img src=x onerror=alert(1)> \xE2\x80\xA8 end";
inline constexpr const char* kHostileAnswer = "</SCRIPT><img src=x onerror=alert(2)> pipes | here & <b>bold</b>";

inline RunResult HandBuiltRun() {
  RunResult run;
  run.run_id = "eval-20261202-081500-3f2a";
  run.created = "2026-12-02T08:15:00.000Z";
  run.test_set_source = "banking-test.jsonl";
  run.test_set.source = "banking-test.jsonl";
  run.settings.temperature = 0.1;
  run.settings.top_p = 0.9;
  run.settings.max_tokens = 300;
  run.settings.seed = 7;
  run.settings.stop_sequences = {"\n\nUser:"};
  run.bootstrap_seed = 42;

  TestCase c0;
  c0.id = "dispute";
  c0.line = 1;
  c0.prompt = "What is the process to dispute a credit card transaction?";
  c0.keywords = {"dispute", "statement"};
  c0.category = "In-Domain (trained on similar example)";
  c0.record = {{"prompt", c0.prompt}, {"category", c0.category}, {"expected_theme", "Steps for disputing transactions"}};
  TestCase c1;
  c1.id = "hostile";
  c1.line = 2;
  c1.prompt = kHostilePrompt;
  c1.reference = "Reset it in the app | settings.";
  c1.category = "Out-of-Domain (general tech question)";
  c1.record = {{"prompt", c1.prompt}, {"referenceResponse", c1.reference}};
  TestCase c2;
  c2.id = "line-3";
  c2.line = 3;
  c2.messages = {{"system", "You are a bank assistant."}, {"user", "Reply with a JSON object."}};
  c2.format.kind = FormatRule::Kind::kRegex;
  c2.format.regex = "\\{.*\\}";
  c2.record = {{"messages", nlohmann::json::array({{{"role", "system"}, {"content", "You are a bank assistant."}},
                                                    {{"role", "user"}, {"content", "Reply with a JSON object."}}})},
               {"format", {{"regex", "\\{.*\\}"}}}};
  run.test_set.cases = {c0, c1, c2};

  ModelResult base;
  base.model = {"base", "amazon.titan-text-express-v1", "/models/base", nullptr};
  ModelResult tuned;
  tuned.model = {"tuned", "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc123", "", nullptr};
  auto answer = [](const std::string& text, double ms) {
    Answer a;
    a.ok = true;
    a.text = text;
    a.latency_ms = ms;
    a.output_tokens = 12;
    a.stop_reason = "end_turn";
    return a;
  };
  CaseResult b0{0, answer("To dispute a charge, check your statement and call us.", 120), {}, {}, {}, {}};
  b0.metrics = {{kKeywordCoverage, 1.0}, {kAnswerWords, 10}, {kRefusal, 0}};
  b0.keywords_hit = {"dispute", "statement"};
  CaseResult b1{1, answer("Use the app.", 80), {}, {}, {}, {}};
  b1.metrics = {{kRougeL, 0.25}, {kTokenF1, 0.3}, {kRefusal, 0}};
  CaseResult b2{2, {}, {}, {}, {}, {}};
  b2.answer.ok = false;
  b2.answer.error = "engine: out of memory <oom>";
  b2.answer.stop_reason = "error";
  base.cases = {b0, b1, b2};
  base.failed = 1;

  CaseResult t0{0, answer("Call the DISPUTE line.", 140), {}, {}, {}, {}};
  t0.metrics = {{kKeywordCoverage, 0.5}, {kAnswerWords, 4}, {kRefusal, 0}};
  t0.keywords_hit = {"dispute"};
  t0.human = {{"accuracy", 4}, {"relevance", 5}};
  CaseResult t1{1, answer(kHostileAnswer, 95.5), {}, {}, {}, {}};
  t1.metrics = {{kRougeL, 0.5}, {kTokenF1, 0.4}, {kRefusal, 0}};
  CaseResult t2{2, answer("{\"ok\": true}", 60), {}, {}, {}, {}};
  t2.metrics = {{kFormatCompliance, 1.0}, {kRefusal, 0}};
  t2.judge = {{"accuracy", 3}};
  tuned.cases = {t0, t1, t2};

  for (ModelResult* m : {&base, &tuned}) {
    m->overall[kKeywordCoverage].interval = {1, m == &base ? 1.0 : 0.5, m == &base ? 1.0 : 0.5, m == &base ? 1.0 : 0.5};
    m->overall[kRougeL].interval = {1, m == &base ? 0.25 : 0.5, 0.1, 0.6};
    m->overall[kLatencyMs].interval = {2, 100, 80, 120};
    m->by_category["In-Domain (trained on similar example)"][kKeywordCoverage].interval = m->overall[kKeywordCoverage].interval;
    m->by_category["Out-of-Domain (general tech question)"][kRougeL].interval = m->overall[kRougeL].interval;
    m->latency_p50_ms = 100;
    m->latency_p95_ms = 138;
    m->tokens_per_second = 95.25;
    m->corpus_bleu = -1;
    m->overall_score = m == &base ? 0.625 : 0.5;
  }
  tuned.overall[kFormatCompliance].interval = {1, 1, 1, 1};
  run.models = {base, tuned};

  Comparison cmp;
  cmp.baseline_label = "base";
  cmp.candidate_label = "tuned";
  PairedComparison p;
  p.n = 1;
  p.wins = 0;
  p.ties = 0;
  p.losses = 1;
  p.mean_a = 1;
  p.mean_b = 0.5;
  p.mean_diff = -0.5;
  p.ci_low = -0.5;
  p.ci_high = -0.5;
  p.sign_test_p = 1;
  p.verdict = Verdict::kNoSignificantDifference;
  cmp.by_metric[kKeywordCoverage] = p;
  p.wins = 1;
  p.losses = 0;
  p.mean_diff = 0.25;
  p.verdict = Verdict::kBetter;  // not what 1 case could give; the report must show what it is told
  cmp.by_metric[kRougeL] = p;
  run.comparisons = {cmp};
  run.judge_model = "judge-model";
  run.judge_agreement = {{kRougeL, 0.5}};
  return run;
}

}  // namespace lathe::eval::testing
