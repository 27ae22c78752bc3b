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

// Where Chart.js is looked for, in order: $LATHE_CHARTJS, then Debian's
// /usr/share/javascript/chart.js/chart.umd.js (or chart.min.js). NotFound names the package.
Result<std::string> FindChartJs();

std::string ReportMarkdown(const RunResult& run);
// `chart_js`: the library's source, inlined into a <script> element.
std::string ReportHtml(const RunResult& run, const std::string& chart_js);

// Writes report.json, report.md and report.html into `dir` (created), each atomically.
Status WriteReports(Env* env, const RunResult& run, const std::string& dir);
// The three names, for uploads.
inline constexpr const char* kReportFiles[] = {"report.json", "report.md", "report.html"};

}  // namespace lathe::eval
