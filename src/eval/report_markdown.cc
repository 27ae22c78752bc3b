// report.md: the run as tables a person can read in a terminal or a code review. Every string
// from a test set, a model or report.json (metric names included) goes through Cell(), so an
// answer can neither break a table nor inject Markdown (links, remote images) or HTML.
#include <sstream>

#include "eval/metrics.h"
#include "eval/report.h"
#include "eval/report_format.h"
#include "eval/review.h"

namespace lathe::eval {
namespace {

using namespace report_format;

// One table cell (or any text from outside): Markdown's inline punctuation backslash-escaped
// (CommonMark lets any ASCII punctuation be escaped), so an answer cannot make a link, an image
// that loads from a remote host, emphasis or code; pipes too, so it cannot break a table; HTML's
// specials as entities; line breaks as <br>.
std::string Cell(std::string_view text, size_t max_bytes = kMaxTableAnswerBytes) {
  std::string cut = TruncateUtf8(text, max_bytes);
  std::string out;
  out.reserve(cut.size());
  for (char c : cut) {
    switch (c) {
      case '|': case '\\': case '`': case '*': case '_': case '[': case ']': case '(': case ')':
      case '!': case '#': case '~':
        out += '\\';
        out += c;
        break;
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '\n': out += "<br>"; break;
      case '\r': break;
      default: out += c;
    }
  }
  return out;
}

void Row(std::ostringstream& out, const std::vector<std::string>& cells) {
  out << "|";
  for (const auto& c : cells) out << " " << c << " |";
  out << "\n";
}

void Header(std::ostringstream& out, const std::vector<std::string>& cells) {
  Row(out, cells);
  out << "|";
  for (size_t i = 0; i < cells.size(); ++i) out << " --- |";
  out << "\n";
}

void Models(std::ostringstream& out, const RunResult& run) {
  out << "## Models\n\n";
  Header(out, {"Label", "Model", "Failed cases", "Overall score", "Latency p50 / p95 (ms)", "Tokens/s"});
  for (size_t i = 0; i < run.models.size(); ++i) {
    const ModelResult& m = run.models[i];
    Row(out, {Cell(m.model.label) + (i == 0 ? " (baseline)" : ""), Cell(m.model.identifier),
              std::to_string(m.failed), FormatValue("", m.overall_score),
              FormatValue(kLatencyMs, m.latency_p50_ms) + " / " + FormatValue(kLatencyMs, m.latency_p95_ms),
              FormatValue(kTokensPerSecond, m.tokens_per_second)});
  }
  out << "\n";
  for (const ModelResult& m : run.models)
    if (m.format_undecided > 0)
      out << "Warning: " << Cell(m.model.label) << ": the format rule of " << m.format_undecided
          << " answered case(s) could not be decided within the matcher's bounds; they have no formatCompliance.\n\n";
}

void Comparisons(std::ostringstream& out, const RunResult& run) {
  for (const Comparison& c : run.comparisons) {
    out << "## " << Cell(c.candidate_label) << " vs " << Cell(c.baseline_label) << "\n\n";
    out << "**" << Cell(c.candidate_label) << "**: " << Cell(VerdictSentence(run, c)) << ".\n\n";
    out << "Differences are " << Cell(c.candidate_label) << " minus " << Cell(c.baseline_label)
        << " with a paired bootstrap 95% interval; \"better\" needs the interval clear of 0 and the sign "
           "test's p < 0.05, Holm-adjusted across the metrics (overallScore, the primary metric, stands alone).\n\n";
    Header(out, {"Metric", Cell(c.baseline_label), Cell(c.candidate_label), "Difference [95% CI]",
                 "Wins / ties / losses", "Sign test p", "Adjusted p", "Verdict"});
    for (const auto& metric : ComparedMetrics(run, c)) {
      auto it = c.by_metric.find(metric);
      if (it == c.by_metric.end()) continue;
      const PairedComparison& p = it->second;
      Row(out, {Cell(metric, 128) + DirectionNote(metric), FormatValue(metric, p.mean_a), FormatValue(metric, p.mean_b),
                FormatValue(metric, p.mean_diff) + " [" + FormatValue(metric, p.ci_low) + ", " +
                    FormatValue(metric, p.ci_high) + "]",
                std::to_string(p.wins) + " / " + std::to_string(p.ties) + " / " + std::to_string(p.losses),
                FormatP(p.sign_test_p), FormatP(p.adjusted_p), std::string("**") + VerdictName(p.verdict) + "**"});
    }
    out << "\n";
  }
}

void Scores(std::ostringstream& out, const RunResult& run) {
  out << "## Scores\n\nMean over the cases each metric applies to, with a bootstrap 95% interval and the "
         "number of cases.\n\n";
  std::vector<std::string> head = {"Metric"};
  for (const auto& m : run.models) head.push_back(Cell(m.model.label));
  Header(out, head);
  for (const auto& metric : ReportedMetrics(run)) {
    std::vector<std::string> row = {Cell(metric, 128) + DirectionNote(metric)};
    for (const auto& m : run.models) {
      auto it = m.overall.find(metric);
      row.push_back(it == m.overall.end() ? "—"
                                          : FormatInterval(metric, it->second.interval) + " (n=" +
                                                std::to_string(it->second.interval.n) + ")");
    }
    Row(out, row);
  }
  out << "\n";
}

void Categories(std::ostringstream& out, const RunResult& run) {
  std::vector<std::string> categories = run.test_set.Categories();
  if (categories.size() < 2) return;
  out << "## By category\n\n";
  std::vector<std::string> head = {"Category", "Metric"};
  for (const auto& m : run.models) head.push_back(Cell(m.model.label));
  Header(out, head);
  for (const auto& category : categories)
    for (const auto& metric : ReportedMetrics(run)) {
      if (!IsQualityMetric(metric)) continue;
      std::vector<std::string> row = {Cell(category, kMaxCategoryBytes), Cell(metric, 128)};
      bool any = false;
      for (const auto& m : run.models) {
        auto cat = m.by_category.find(category);
        const MetricSummary* s = nullptr;
        if (cat != m.by_category.end()) {
          auto it = cat->second.find(metric);
          if (it != cat->second.end()) s = &it->second;
        }
        any |= s != nullptr;
        row.push_back(s ? FormatValue(metric, s->interval.mean) + " (n=" + std::to_string(s->interval.n) + ")" : "—");
      }
      if (any) Row(out, row);
    }
  out << "\n";
}

void Human(std::ostringstream& out, const RunResult& run) {
  if (!HasHumanScores(run)) return;
  out << "## Human review\n\nMean rubric score (1 poor .. 5 excellent) over the answers reviewed, blind"
      << (run.human_reviewed ? "" : " (review not finished)") << ".\n\n";
  std::vector<std::string> head = {"Criterion"};
  for (const auto& m : run.models) head.push_back(Cell(m.model.label));
  Header(out, head);
  std::vector<std::map<std::string, HumanMean>> means;
  for (const auto& m : run.models) means.push_back(HumanMeans(m));
  for (const auto& criterion : RubricCriteria()) {
    std::vector<std::string> row = {criterion};
    for (const auto& mm : means) {
      auto it = mm.find(criterion);
      row.push_back(it == mm.end() ? "—" : FormatValue("", it->second.mean) + " (n=" + std::to_string(it->second.n) + ")");
    }
    Row(out, row);
  }
  out << "\n";
}

void Judge(std::ostringstream& out, const RunResult& run) {
  if (run.judge_model.empty()) return;
  out << "## Judge\n\nJudge model: " << Cell(run.judge_model)
      << ". Agreement with the automatic metrics (Spearman's rank correlation with the judge's score):\n\n";
  Header(out, {"Metric", "Spearman"});
  for (const auto& [metric, rho] : run.judge_agreement) Row(out, {Cell(metric, 128), FormatValue("", rho)});
  out << "\n";
}

void Answers(std::ostringstream& out, const RunResult& run) {
  size_t total = run.test_set.cases.size(), shown = std::min(total, kMaxTableCases);
  out << "## Answers\n\n";
  if (shown < total)
    out << "The first " << shown << " of " << total << " cases; report.json holds them all.\n\n";
  std::vector<std::string> head = {"#", "Category", "Prompt"};
  for (const auto& m : run.models) head.push_back(Cell(m.model.label));
  Header(out, head);
  for (size_t i = 0; i < shown; ++i) {
    const TestCase& c = run.test_set.cases[i];
    std::string primary = PrimaryMetric(run, i);
    std::vector<std::string> row = {std::to_string(i + 1), Cell(c.category, kMaxCategoryBytes), Cell(c.DisplayPrompt())};
    for (size_t m = 0; m < run.models.size(); ++m) {
      if (i >= run.models[m].cases.size()) {
        row.push_back("—");
        continue;
      }
      const CaseResult& r = run.models[m].cases[i];
      std::string cell = r.answer.ok ? Cell(r.answer.text) : "**error:** " + Cell(r.answer.error);
      if (auto it = r.metrics.find(primary); !primary.empty() && it != r.metrics.end())
        cell += "<br>*" + primary + " " + FormatValue(primary, it->second) + "*";
      if (CaseOutcome(run, m, i) == Outcome::kLoss) cell += " **(loss)**";
      row.push_back(cell);
    }
    Row(out, row);
  }
  out << "\n";
}

}  // namespace

std::string ReportMarkdown(const RunResult& run) {
  std::ostringstream out;
  out << "# Evaluation report " << Cell(run.run_id, 256) << "\n\n";
  out << "- Created: " << Cell(run.created, 64) << "\n";
  out << "- Test set: " << Cell(run.test_set.source, 4096) << " (" << run.test_set.cases.size() << " cases)\n";
  out << "- Generation: temperature " << run.settings.temperature << ", top-p " << run.settings.top_p
      << ", max tokens " << run.settings.max_tokens << ", seed " << run.settings.seed << "\n";
  out << "- Bootstrap seed: " << run.bootstrap_seed << "\n\n";
  Models(out, run);
  Comparisons(out, run);
  Scores(out, run);
  Categories(out, run);
  Human(out, run);
  Judge(out, run);
  Answers(out, run);
  return out.str();
}

}  // namespace lathe::eval
