// What report.md, report.html and the review share: escaping, number formats, which metrics a
// report shows and in what order, and a case's primary metric (the one "losses" are judged on).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "eval/evaluation.h"

namespace lathe::eval::report_format {

// & < > " ' as entities: safe in element content and in quoted attribute values.
std::string HtmlEscape(std::string_view text);
// JSON for a <script> element: dumped with invalid UTF-8 replaced, then < > & and U+2028/2029
// written as \u escapes, so no string in it can end the element or the script.
std::string ScriptSafeJson(const nlohmann::json& j);
// A library's source for an inline <script>: "</script" (any case) and "<!--" made inert.
std::string ScriptSafeJs(std::string_view js);
// `text` cut to at most max_bytes on a UTF-8 character boundary, with "…" appended when cut.
std::string TruncateUtf8(std::string_view text, size_t max_bytes);
// A json::dump that never throws on invalid UTF-8 in answers (replaced by U+FFFD).
std::string DumpJson(const nlohmann::json& j, int indent = -1);
// {"n", "mean", "low", "high"}, a non-finite number as null: report.json's and the page's charts'
// form of an interval (one definition for both).
nlohmann::json IntervalToJson(const MeanInterval& i);

// Metrics any model of the run reports, in display order (the tutorials' keyword coverage first,
// the reported-only ones last).
std::vector<std::string> ReportedMetrics(const RunResult& run);
// The metric a case's win or loss is read from: keyword coverage when the case has keywords,
// else ROUGE-L when it has a reference, else format compliance when it has a format rule, else
// the judge's score when there is one; "" when none applies.
std::string PrimaryMetric(const RunResult& run, size_t case_index);

enum class Outcome { kNone, kWin, kTie, kLoss };
// models[model] against models[0] on the case's primary metric, in the metric's direction. A
// failed answer where the baseline answered is a loss; no primary metric (or the baseline
// failed) is kNone.
Outcome CaseOutcome(const RunResult& run, size_t model, size_t case_index);
// Whether any candidate lost the case to the baseline.
bool CaseIsLoss(const RunResult& run, size_t case_index);

// "better overall (overallScore, the primary metric); per metric (Holm-adjusted): better on
// rougeL; no significant difference on keywordCoverage, refusal" (verdicts no metric got are left
// out; without the primary metric, only the per-metric part): the comparison in one line, for
// readers who stop at the top. The headline is the primary metric's verdict alone. Metric names
// only (no escaping needed).
std::string VerdictSentence(const RunResult& run, const Comparison& c);
// The comparison's metrics in table order: the primary (overallScore) first, then ReportedMetrics.
std::vector<std::string> ComparedMetrics(const RunResult& run, const Comparison& c);

// "0.734", "1520", "p < 0.001"-style numbers for tables.
std::string FormatValue(std::string_view metric, double v);
std::string FormatP(double p);
std::string FormatInterval(std::string_view metric, const MeanInterval& i);  // "0.512 [0.430, 0.598]"
// A short description of the metric's direction, for headings: "" or " (lower is better)".
std::string DirectionNote(std::string_view metric);

struct HumanMean {
  double mean = 0;
  size_t n = 0;
};
// The mean human score per rubric criterion over a model's reviewed answers.
std::map<std::string, HumanMean> HumanMeans(const ModelResult& m);
bool HasHumanScores(const RunResult& run);

// Byte ranges [begin, end) of the answer covered by the case's keywords that it contains
// (case-insensitive, ASCII), merged and in order.
std::vector<std::pair<size_t, size_t>> KeywordSpans(std::string_view text, const std::vector<std::string>& keywords);

}  // namespace lathe::eval::report_format
