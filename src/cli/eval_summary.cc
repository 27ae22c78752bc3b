#include "cli/eval_summary.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli/client.h"
#include "eval/metrics.h"
#include "eval/report_format.h"

namespace lathe::cli {
namespace {

// Numbers as the reports write them (report_format), a difference with its sign.
std::string Signed(std::string_view metric, double v) {
  return (v >= 0 ? "+" : "") + eval::report_format::FormatValue(metric, v);
}

}  // namespace

ProgressPrinter::ProgressPrinter(Style style, const std::vector<eval::ModelUnderTest>& models) : style_(style) {
  for (const auto& m : models) labels_.push_back(m.label);
}

std::string FormatDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) seconds = 0;
  const long s = std::lround(seconds);
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  return buf;
}

void ProgressPrinter::Show(const eval::Progress& p) {
  const std::string label = p.model_index < labels_.size() ? labels_[p.model_index] : "";
  if (style_ == kJson) {
    const nlohmann::json j = {{"casesDone", p.cases_done},   {"casesTotal", p.cases_total},
                              {"modelIndex", p.model_index}, {"modelsTotal", p.models_total},
                              {"elapsedSeconds", p.elapsed_s}, {"etaSeconds", p.eta_s}};
    std::fprintf(stderr, "%s\n", j.dump().c_str());
  } else if (style_ == kBar) {
    const int width = 30;
    const double f = p.cases_total == 0 ? 1 : static_cast<double>(p.cases_done) / p.cases_total;
    const int filled = static_cast<int>(width * f);
    std::fprintf(stderr, "\r  [%s%s] %zu/%zu cases  model %zu/%zu %s  ETA %s   ",
                 std::string(static_cast<size_t>(filled), '#').c_str(),
                 std::string(static_cast<size_t>(width - filled), '.').c_str(), p.cases_done, p.cases_total,
                 p.model_index + 1, p.models_total, label.c_str(), FormatDuration(p.eta_s).c_str());
    drawn_ = true;
  } else {
    // A log gets a line per model and per tenth of the run, not one per batch.
    const size_t decile = p.cases_total == 0 ? 10 : p.cases_done * 10 / p.cases_total;
    if (decile == last_decile_ && p.model_index == last_model_) return;
    last_decile_ = decile;
    last_model_ = p.model_index;
    std::fprintf(stderr, "  %zu/%zu cases (model %zu/%zu %s), elapsed %s, ETA %s\n", p.cases_done, p.cases_total,
                 p.model_index + 1, p.models_total, label.c_str(), FormatDuration(p.elapsed_s).c_str(),
                 FormatDuration(p.eta_s).c_str());
  }
  std::fflush(stderr);
}

void ProgressPrinter::Done() {
  if (drawn_) std::fprintf(stderr, "\n");
  drawn_ = false;
}

void PrintSummary(const eval::RunResult& run) {
  const size_t n = run.test_set.cases.size();
  std::printf("\nRun %s: %zu cases, temperature %g, top-p %g, max tokens %d, seed %llu\n\n", run.run_id.c_str(), n,
              run.settings.temperature, run.settings.top_p, run.settings.max_tokens,
              static_cast<unsigned long long>(run.settings.seed));
  std::vector<std::string> header = {""};
  for (const auto& m : run.models) header.push_back(m.model.label);
  std::vector<std::vector<std::string>> rows;
  auto row = [&](const std::string& name, auto cell) {
    std::vector<std::string> r = {name};
    for (const auto& m : run.models) r.push_back(cell(m));
    rows.push_back(std::move(r));
  };
  row("overall score", [](const eval::ModelResult& m) { return eval::report_format::FormatValue("", m.overall_score); });
  row("failed", [&](const eval::ModelResult& m) { return std::to_string(m.failed) + "/" + std::to_string(n); });
  row("latency p50/p95 ms", [](const eval::ModelResult& m) {
    return eval::report_format::FormatValue(eval::kLatencyMs, m.latency_p50_ms) + " / " +
           eval::report_format::FormatValue(eval::kLatencyMs, m.latency_p95_ms);
  });
  row("tokens/s", [](const eval::ModelResult& m) { return eval::report_format::FormatValue(eval::kTokensPerSecond, m.tokens_per_second); });
  row("corpus BLEU", [](const eval::ModelResult& m) { return m.corpus_bleu < 0 ? std::string() : eval::report_format::FormatValue("", m.corpus_bleu); });
  for (const auto& metric : eval::report_format::ReportedMetrics(run)) {
    if (metric == eval::kLatencyMs || metric == eval::kTokensPerSecond) continue;  // shown above
    row(metric + " [95% CI]", [&](const eval::ModelResult& m) -> std::string {
      auto it = m.overall.find(metric);
      if (it == m.overall.end() || it->second.interval.n == 0) return "";
      return eval::report_format::FormatInterval(metric, it->second.interval);
    });
  }
  PrintTable(header, rows);
  // A failure's reason, once per model: report.json has every one.
  for (const auto& m : run.models)
    for (const auto& c : m.cases)
      if (!c.answer.ok) {
        const std::string id = c.case_index < n ? run.test_set.cases[c.case_index].id : "?";
        std::printf("%s: %zu answer(s) failed; the first, case %s: %s\n", m.model.label.c_str(), m.failed, id.c_str(),
                    c.answer.error.c_str());
        break;
      }

  for (const auto& c : run.comparisons) {
    std::printf("\n");
    std::vector<std::vector<std::string>> crows;
    for (const auto& metric : eval::report_format::ComparedMetrics(run, c)) {
      const eval::PairedComparison& p = c.by_metric.at(metric);
      crows.push_back({metric, std::to_string(p.wins) + "/" + std::to_string(p.ties) + "/" + std::to_string(p.losses),
                       Signed(metric, p.mean_diff) + " [" + Signed(metric, p.ci_low) + ", " + Signed(metric, p.ci_high) + "]",
                       eval::VerdictName(p.verdict)});
    }
    PrintTable({c.candidate_label + " vs " + c.baseline_label, "wins/ties/losses", "mean diff [95% CI]", "verdict"},
               crows);
  }
  if (!run.judge_model.empty()) {
    size_t scored = 0, answered = 0;
    for (const auto& m : run.models)
      for (const auto& c : m.cases) {
        answered += c.answer.ok;
        scored += !c.judge.empty();
      }
    std::printf("\nJudge %s scored %zu of %zu answers%s\n", run.judge_model.c_str(), scored, answered,
                scored < answered ? " (the rest gave no \"criterion: N\" lines; left unscored)" : "");
  }
  if (!run.judge_agreement.empty()) {
    std::printf("Its agreement (Spearman's rho of its rubric mean with each metric):");
    for (const auto& [metric, rho] : run.judge_agreement) std::printf(" %s %.2f;", metric.c_str(), rho);
    std::printf("\n");
  }
}

}  // namespace lathe::cli
