// The three reports of a run, written side by side into one folder:
//   report.json  RunToJson: everything, machine-readable. Also carries the automation tutorial's
//                evaluation_report.json keys (evaluation_date, base_model, finetuned_model_arn,
//                results[{prompt, category, base_response, finetuned_response, ...}], summary
//                {total_tests, in_domain_tests, out_of_domain_tests}) for models[0] and models[1].
//   report.md    a summary table per model, the comparisons with their intervals and verdicts,
//                per-category scores, and the answers side by side.
//   report.html  self-contained, opens offline: Chart.js (Debian's libjs-chart.js) inlined at
//                report time; bar charts per metric with interval whiskers, per-category bars,
//                a latency histogram, and the side-by-side table with keyword hits highlighted and
//                a "losses only" filter. Every string from a test set or a model is HTML-escaped;
//                nothing is fetched at view time.
#pragma once

#include <string>

#include "core/env.h"
#include "core/status.h"
#include "eval/evaluation.h"

namespace lathe::eval {

// Bounds on what is read back and rendered (docs/evaluation.md, Limits). report.json is a file a
// person may edit, so RunFromJson checks every type and size before using a value.
inline constexpr uint64_t kMaxReportBytes = 256ull << 20;   // report.json read back
inline constexpr int kMaxReportJsonDepth = 64;              // nesting, measured before parsing
inline constexpr size_t kMaxReportModels = 64;
inline constexpr size_t kMaxReportStringBytes = 1 << 20;    // any one string (an answer, a prompt)
inline constexpr size_t kMaxReportMapEntries = 256;         // metrics, human or judge scores of one answer
// The rendered reports' tables of answers: at most this many cases (report.json has them all,
// and the reports say how many were left out), each answer cut to this many bytes.
inline constexpr size_t kMaxTableCases = 2000;
inline constexpr size_t kMaxTableAnswerBytes = 8 * 1024;

// Where Chart.js is looked for, in order: $LATHE_CHARTJS, then Debian's
// /usr/share/javascript/chart.js/chart.umd.js (or chart.min.js). NotFound names the package.
Result<std::string> FindChartJs();

std::string ReportMarkdown(const RunResult& run);
// `chart_js`: the library's source, inlined into a <script> element.
std::string ReportHtml(const RunResult& run, const std::string& chart_js);

// Reads `dir`/report.json (size and nesting checked first) through RunFromJson; errors name the file.
Result<RunResult> ReadReport(Env* env, const std::string& dir);

// Writes report.json, report.md and report.html into `dir` (created), each atomically. Without
// Chart.js (FindChartJs fails) report.html is still written, with its tables and a note in place
// of the charts naming the package to install.
Status WriteReports(Env* env, const RunResult& run, const std::string& dir);
// The three names, for uploads.
inline constexpr const char* kReportFiles[] = {"report.json", "report.md", "report.html"};

}  // namespace lathe::eval
