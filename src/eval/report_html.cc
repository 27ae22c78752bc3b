// report.html: one self-contained page (Chart.js inlined, nothing fetched at view time) with the
// verdicts first, then the charts, then every answer side by side. Strings from test sets,
// models and report.json (metric names too: the file may be edited) reach the page only through
// HtmlEscape (markup) or ScriptSafeJson (the charts' data); a Content-Security-Policy with a
// per-page nonce lets only the page's own scripts run, so even a missed escape could not run an
// injected script or load anything from the network.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>

#include "eval/metrics.h"
#include "eval/report.h"
#include "eval/report_format.h"
#include "eval/report_html_assets.h"
#include "eval/review.h"

namespace lathe::eval {
namespace {

using json = nlohmann::json;
using namespace report_format;

constexpr size_t kLatencyBins = 12;
constexpr size_t kMaxChartCategories = 40;  // more bars than this are unreadable; the rest are named

const char* ModelColor(size_t i) {
  static const char* kPalette[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
                                   "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
  return kPalette[i % (sizeof kPalette / sizeof kPalette[0])];
}

std::string NewNonce() {
  std::random_device rd;
  std::uniform_int_distribution<int> digit(0, 35);
  std::string n;
  for (int i = 0; i < 24; ++i) n += "abcdefghijklmnopqrstuvwxyz0123456789"[digit(rd)];
  return n;
}

// Scores in [0, 1] get a fixed axis so bars of different charts compare by eye.
json AxisMax(const std::string& metric) {
  for (const char* m : {kKeywordCoverage, kExactMatch, kTokenF1, kRougeL, kBleu, kFormatCompliance, kRefusal})
    if (metric == m) return 1.0;
  if (metric == kJudgeScore || metric == kHumanScore) return 5.0;  // rubric means, 1..5
  return nullptr;
}

std::vector<std::string> ChartedMetrics(const RunResult& run) {
  std::vector<std::string> out;
  for (const auto& m : ReportedMetrics(run))
    if (IsQualityMetric(m)) out.push_back(m);
  return out;
}

json ChartData(const RunResult& run) {
  json models = json::array();
  for (size_t i = 0; i < run.models.size(); ++i)
    models.push_back({{"label", run.models[i].model.label}, {"color", ModelColor(i)}});

  json metrics = json::array();
  for (const auto& name : ChartedMetrics(run)) {
    json values = json::array();
    for (const auto& m : run.models) {
      auto it = m.overall.find(name);
      values.push_back(it == m.overall.end() ? json(nullptr) : IntervalToJson(it->second.interval));
    }
    metrics.push_back({{"name", name}, {"max", AxisMax(name)}, {"values", values}});
  }

  std::vector<std::string> categories = run.test_set.Categories();
  if (categories.size() > kMaxChartCategories) categories.resize(kMaxChartCategories);
  json category_values = json::object();
  for (const auto& name : ChartedMetrics(run)) {
    json per_model = json::array();
    for (const auto& m : run.models) {
      json per_category = json::array();
      for (const auto& c : categories) {
        auto cat = m.by_category.find(c);
        const MetricSummary* s = nullptr;
        if (cat != m.by_category.end())
          if (auto it = cat->second.find(name); it != cat->second.end()) s = &it->second;
        per_category.push_back(s ? IntervalToJson(s->interval) : json(nullptr));
      }
      per_model.push_back(per_category);
    }
    category_values[name] = per_model;
  }

  // Latency: one histogram over every answered case, bins shared by the models.
  double lo = INFINITY, hi = -INFINITY;
  for (const auto& m : run.models)
    for (const auto& c : m.cases)
      if (c.answer.ok && std::isfinite(c.answer.latency_ms)) {
        lo = std::min(lo, c.answer.latency_ms);
        hi = std::max(hi, c.answer.latency_ms);
      }
  json latency_labels = json::array(), latency_counts = json::array();
  if (lo <= hi) {
    size_t bins = hi > lo ? kLatencyBins : 1;
    double width = hi > lo ? (hi - lo) / static_cast<double>(bins) : 1;
    // Enough decimals that neighbouring bins never share a label ("9–9 ms").
    const char* format = width >= 10 ? "%.0f–%.0f ms" : width >= 1 ? "%.1f–%.1f ms" : width >= 0.1 ? "%.2f–%.2f ms" : "%.3f–%.3f ms";
    for (size_t b = 0; b < bins; ++b) {
      char label[96];
      std::snprintf(label, sizeof label, format, lo + width * static_cast<double>(b), lo + width * static_cast<double>(b + 1));
      latency_labels.push_back(label);
    }
    for (const auto& m : run.models) {
      std::vector<size_t> counts(bins, 0);
      for (const auto& c : m.cases)
        if (c.answer.ok && std::isfinite(c.answer.latency_ms))
          ++counts[std::min(bins - 1, static_cast<size_t>((c.answer.latency_ms - lo) / width))];
      latency_counts.push_back(counts);
    }
  }

  json data = {{"models", models},
               {"metrics", metrics},
               {"categories", {{"labels", categories}, {"values", category_values}}},
               {"latency", {{"labels", latency_labels}, {"counts", latency_counts}}}};
  if (HasHumanScores(run)) {
    json means = json::array();
    for (const auto& m : run.models) {
      auto hm = HumanMeans(m);
      json row = json::array();
      for (const auto& c : RubricCriteria()) row.push_back(hm.count(c) ? json(hm[c].mean) : json(nullptr));
      means.push_back(row);
    }
    data["human"] = {{"criteria", RubricCriteria()}, {"means", means}};
  }
  return data;
}

const char* VerdictClass(Verdict v) {
  return v == Verdict::kBetter ? "better" : v == Verdict::kWorse ? "worse" : "same";
}

void Header(std::string& out, const RunResult& run) {
  out += "<header><h1>Evaluation report</h1><p class=\"meta\"><span>Run <b>" + HtmlEscape(run.run_id) +
         "</b></span><span>" + HtmlEscape(run.created) + "</span><span>Test set " + HtmlEscape(run.test_set.source) +
         " (" + std::to_string(run.test_set.cases.size()) + " cases)</span></p>";
  char settings[256];
  std::snprintf(settings, sizeof settings,
                "Generation: temperature %g, top-p %g, max tokens %d, seed %llu; bootstrap seed %llu",
                run.settings.temperature, run.settings.top_p, run.settings.max_tokens,
                static_cast<unsigned long long>(run.settings.seed), static_cast<unsigned long long>(run.bootstrap_seed));
  out += "<p class=\"meta\">" + std::string(settings) + "</p>";
  out += "<nav><a href=\"#summary\">Summary</a><a href=\"#scores\">Scores</a><a href=\"#categories\">By category</a>"
         "<a href=\"#latency\">Latency</a>";
  if (HasHumanScores(run)) out += "<a href=\"#human\">Human review</a>";
  out += "<a href=\"#answers\">Answers</a></nav></header>\n";
}

void Summary(std::string& out, const RunResult& run) {
  out += "<section id=\"summary\"><h2>Summary</h2>";
  out += "<table><thead><tr><th>Model</th><th>Identifier</th><th class=\"num\">Failed</th>"
         "<th class=\"num\">Overall score</th><th class=\"num\">Latency p50 / p95 (ms)</th>"
         "<th class=\"num\">Tokens/s</th></tr></thead><tbody>";
  for (size_t i = 0; i < run.models.size(); ++i) {
    const ModelResult& m = run.models[i];
    out += "<tr><td><b>" + HtmlEscape(m.model.label) + "</b>" + (i == 0 ? " (baseline)" : "") + "</td><td>" +
           HtmlEscape(m.model.identifier) + "</td><td class=\"num\">" + std::to_string(m.failed) + "</td><td class=\"num\">" +
           FormatValue("", m.overall_score) + "</td><td class=\"num\">" + FormatValue(kLatencyMs, m.latency_p50_ms) +
           " / " + FormatValue(kLatencyMs, m.latency_p95_ms) + "</td><td class=\"num\">" +
           FormatValue(kTokensPerSecond, m.tokens_per_second) + "</td></tr>";
  }
  out += "</tbody></table>";
  for (const Comparison& c : run.comparisons) {
    out += "<h3>" + HtmlEscape(c.candidate_label) + " vs " + HtmlEscape(c.baseline_label) + "</h3><p>" +
           "<b>" + HtmlEscape(c.candidate_label) + "</b>: " + HtmlEscape(VerdictSentence(run, c)) + ".</p><div class=\"verdicts\">";
    std::string rows;
    for (const auto& metric : ComparedMetrics(run, c)) {
      auto it = c.by_metric.find(metric);
      if (it == c.by_metric.end()) continue;
      const PairedComparison& p = it->second;
      std::string diff = FormatValue(metric, p.mean_diff) + " [" + FormatValue(metric, p.ci_low) + ", " +
                         FormatValue(metric, p.ci_high) + "]";
      out += "<div class=\"verdict-card\"><div class=\"metric\">" + HtmlEscape(metric) + "</div><span class=\"badge " +
             VerdictClass(p.verdict) + "\">" + VerdictName(p.verdict) + "</span><div class=\"diff\">Δ " + diff +
             DirectionNote(metric) + "</div></div>";
      rows += "<tr><td>" + HtmlEscape(metric) + DirectionNote(metric) + "</td><td class=\"num\">" + FormatValue(metric, p.mean_a) +
              "</td><td class=\"num\">" + FormatValue(metric, p.mean_b) + "</td><td class=\"num\">" + diff +
              "</td><td class=\"num\">" + std::to_string(p.wins) + " / " + std::to_string(p.ties) + " / " +
              std::to_string(p.losses) + "</td><td class=\"num\">" + FormatP(p.sign_test_p) + "</td><td class=\"num\">" +
              FormatP(p.adjusted_p) + "</td><td><span class=\"badge " +
              VerdictClass(p.verdict) + "\">" + VerdictName(p.verdict) + "</span></td></tr>";
    }
    out += "</div><table><thead><tr><th>Metric</th><th class=\"num\">" + HtmlEscape(c.baseline_label) +
           "</th><th class=\"num\">" + HtmlEscape(c.candidate_label) +
           "</th><th class=\"num\">Difference [95% CI]</th><th class=\"num\">Wins / ties / losses</th>"
           "<th class=\"num\">Sign test p</th><th class=\"num\">Adjusted p</th><th>Verdict</th></tr></thead><tbody>" +
           rows + "</tbody></table>";
  }
  out += "<p class=\"note\">Differences are candidate minus baseline, with a paired bootstrap 95% interval over "
         "the cases. A verdict of \"better\" or \"worse\" needs the whole interval on one side of 0 and an exact "
         "sign test on wins against losses with p &lt; 0.05, Holm-adjusted across the per-metric tests (overallScore, "
         "the primary metric and the headline, stands alone); anything less is \"no significant difference\".</p>";
  if (!run.judge_model.empty()) {
    out += "<p class=\"note\">Judge: " + HtmlEscape(run.judge_model) + ". Agreement with the automatic metrics "
           "(Spearman):";
    for (const auto& [metric, rho] : run.judge_agreement) out += " " + HtmlEscape(metric) + " " + FormatValue("", rho) + ";";
    out += "</p>";
  }
  out += "</section>\n";
}

void Charts(std::string& out, const RunResult& run, bool have_charts) {
  out += "<section id=\"scores\"><h2>Scores</h2>";
  if (!have_charts)
    out += "<p class=\"no-charts-note\">Charts are missing: Chart.js was not found when this report was written. "
           "Install Debian's libjs-chart.js (or set LATHE_CHARTJS) and run <code>lathe eval report RUN_DIR</code>.</p>";
  out += "<p class=\"note\">Bars: mean per model; whiskers: bootstrap 95% interval of the mean.</p><div class=\"charts\">";
  std::vector<std::string> charted = ChartedMetrics(run);
  for (size_t k = 0; k < charted.size(); ++k)
    out += "<div class=\"chart\"><h3>" + HtmlEscape(charted[k]) + DirectionNote(charted[k]) + "</h3><div class=\"canvas-box\">"
           "<canvas id=\"chart-metric-" + std::to_string(k) + "\" role=\"img\" aria-label=\"" + HtmlEscape(charted[k]) +
           " per model\"></canvas></div></div>";
  out += "</div>";
  // Every metric, as numbers, for those who read tables rather than bars.
  out += "<table><thead><tr><th>Metric</th>";
  for (const auto& m : run.models) out += "<th class=\"num\">" + HtmlEscape(m.model.label) + "</th>";
  out += "</tr></thead><tbody>";
  for (const auto& metric : ReportedMetrics(run)) {
    out += "<tr><td>" + HtmlEscape(metric) + DirectionNote(metric) + "</td>";
    for (const auto& m : run.models) {
      auto it = m.overall.find(metric);
      out += "<td class=\"num\">" +
             (it == m.overall.end() ? std::string("—")
                                    : FormatInterval(metric, it->second.interval) + " (n=" + std::to_string(it->second.interval.n) + ")") +
             "</td>";
    }
    out += "</tr>";
  }
  out += "</tbody></table></section>\n";

  std::vector<std::string> categories = run.test_set.Categories();
  out += "<section id=\"categories\"><h2>By category</h2><p class=\"filter\"><label>Metric <select id=\"category-metric\">";
  for (const auto& m : charted) out += "<option value=\"" + HtmlEscape(m) + "\">" + HtmlEscape(m) + "</option>";
  out += "</select></label></p><div class=\"chart wide\"><div class=\"canvas-box\"><canvas id=\"chart-categories\" "
         "role=\"img\" aria-label=\"scores per category\"></canvas></div></div>";
  if (categories.size() > kMaxChartCategories)
    out += "<p class=\"note\">The chart shows the first " + std::to_string(kMaxChartCategories) + " of " +
           std::to_string(categories.size()) + " categories; report.md and report.json have them all.</p>";
  out += "</section>\n";

  out += "<section id=\"latency\"><h2>Latency</h2><div class=\"chart wide\"><div class=\"canvas-box\">"
         "<canvas id=\"chart-latency\" role=\"img\" aria-label=\"latency histogram\"></canvas></div></div>"
         "<p class=\"note\">Answers per latency bin (each case's share of its batch's time).</p></section>\n";

  if (HasHumanScores(run)) {
    out += "<section id=\"human\"><h2>Human review</h2><p class=\"note\">Mean rubric score, 1 (poor) to 5 (excellent), "
           "scored blind";
    out += run.human_reviewed ? "." : " (review not finished).";
    out += "</p><div class=\"chart wide\"><div class=\"canvas-box\"><canvas id=\"chart-human\" role=\"img\" "
           "aria-label=\"human rubric scores\"></canvas></div></div></section>\n";
  }
}

std::string Highlighted(std::string_view text, const std::vector<std::string>& keywords) {
  std::string out;
  size_t at = 0;
  for (const auto& [begin, end] : KeywordSpans(text, keywords)) {
    out += HtmlEscape(text.substr(at, begin - at));
    out += "<mark>" + HtmlEscape(text.substr(begin, end - begin)) + "</mark>";
    at = end;
  }
  out += HtmlEscape(text.substr(at));
  return out;
}

std::string ScoreLine(const std::map<std::string, double>& scores) {
  std::string out;
  for (const auto& [k, v] : scores) out += (out.empty() ? "" : ", ") + HtmlEscape(k) + " " + FormatValue("", v);
  return out;
}

void Answers(std::string& out, const RunResult& run) {
  size_t total = run.test_set.cases.size(), shown = std::min(total, kMaxTableCases), losses = 0;
  for (size_t i = 0; i < total; ++i) losses += CaseIsLoss(run, i);
  out += "<section id=\"answers\"><h2>Answers</h2>";
  if (shown < total)
    out += "<p class=\"note\">The first " + std::to_string(shown) + " of " + std::to_string(total) +
           " cases are shown; report.json holds them all.</p>";
  out += "<p class=\"filter\"><label><input type=\"checkbox\" id=\"losses-only\"" +
         std::string(run.models.size() < 2 ? " disabled" : "") + "> Show losses only</label> <span class=\"note\">" +
         std::to_string(losses) +
         " cases where a candidate scored below the baseline on the case's primary metric (keyword coverage, "
         "else ROUGE-L, else format compliance, else the judge's score), or failed where the baseline answered. "
         "Matched keywords are <mark>highlighted</mark>.</span></p>";
  out += "<table id=\"answers-table\"><thead><tr><th class=\"num\">#</th><th>Case</th>";
  for (size_t m = 0; m < run.models.size(); ++m)
    out += "<th>" + HtmlEscape(run.models[m].model.label) + (m == 0 ? " (baseline)" : "") + "</th>";
  out += "</tr></thead><tbody>\n";
  for (size_t i = 0; i < shown; ++i) {
    const TestCase& c = run.test_set.cases[i];
    std::string primary = PrimaryMetric(run, i);
    out += std::string("<tr class=\"case") + (CaseIsLoss(run, i) ? " loss" : "") + "\"><td class=\"num\">" +
           std::to_string(i + 1) + "</td><td class=\"prompt\"><div class=\"cat\">" + HtmlEscape(c.category) + " · " +
           HtmlEscape(c.id) + "</div><div class=\"text\">" +
           HtmlEscape(TruncateUtf8(c.DisplayPrompt(), kMaxTableAnswerBytes)) + "</div>";
    if (!c.reference.empty())
      out += "<details><summary>reference</summary><div class=\"text\">" +
             HtmlEscape(TruncateUtf8(c.reference, kMaxTableAnswerBytes)) + "</div></details>";
    if (!c.keywords.empty()) {
      out += "<div class=\"kw\">keywords:";
      // (Appends, not " " + HtmlEscape(k): GCC 12 warns falsely (-Wrestrict) on that.)
      for (const auto& k : c.keywords) out.append(" ").append(HtmlEscape(k)).append(";");
      out += "</div>";
    }
    out += "</td>";
    for (size_t m = 0; m < run.models.size(); ++m) {
      if (i >= run.models[m].cases.size()) {
        out += "<td></td>";
        continue;
      }
      const CaseResult& r = run.models[m].cases[i];
      Outcome o = CaseOutcome(run, m, i);
      std::string cls = "answer";
      if (!r.answer.ok) cls += " failed";
      if (o == Outcome::kLoss) cls += " lost";
      if (o == Outcome::kWin) cls += " won";
      out += "<td class=\"" + cls + "\"><div class=\"text\">";
      if (r.answer.ok) out += Highlighted(TruncateUtf8(r.answer.text, kMaxTableAnswerBytes), c.keywords);
      else out += "error: " + HtmlEscape(TruncateUtf8(r.answer.error, kMaxTableAnswerBytes));
      out += "</div><div class=\"scores\">";
      if (auto it = r.metrics.find(primary); !primary.empty() && it != r.metrics.end())
        out += primary + " " + FormatValue(primary, it->second) + " · ";
      out += FormatValue(kLatencyMs, r.answer.latency_ms) + " ms";
      if (!r.keywords_hit.empty()) out += " · " + std::to_string(r.keywords_hit.size()) + "/" + std::to_string(c.keywords.size()) + " keywords";
      if (!r.human.empty()) out.append("<br>human: ").append(ScoreLine(r.human));
      if (!r.judge.empty()) out.append("<br>judge: ").append(ScoreLine(r.judge));
      out += "</div></td>";
    }
    out += "</tr>\n";
  }
  out += "</tbody></table></section>\n";
}

}  // namespace

std::string ReportHtml(const RunResult& run, const std::string& chart_js) {
  std::string nonce = NewNonce();
  std::string out;
  out.reserve(chart_js.size() + 64 * 1024);
  out += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
         "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src 'nonce-" + nonce +
         "'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'\">"
         "<title>Evaluation report " + HtmlEscape(run.run_id) + "</title><style>" + report_html_assets::kStyle +
         "</style></head><body>\n";
  Header(out, run);
  out += "<main>";
  Summary(out, run);
  Charts(out, run, !chart_js.empty());
  Answers(out, run);
  out += "</main>\n";
  out += "<script type=\"application/json\" id=\"report-data\">" + ScriptSafeJson(ChartData(run)) + "</script>\n";
  if (!chart_js.empty()) out += "<script nonce=\"" + nonce + "\">" + ScriptSafeJs(chart_js) + "\n</script>\n";
  out += "<script nonce=\"" + nonce + "\">" + report_html_assets::kScript + "</script>\n</body></html>\n";
  return out;
}

}  // namespace lathe::eval
