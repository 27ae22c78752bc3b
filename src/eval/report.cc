// Finding Chart.js, and reading and writing a run's folder of reports.
#include <cstdlib>

#include "core/json_nesting.h"
#include "eval/report.h"
#include "eval/report_format.h"

namespace lathe::eval {

Result<std::string> FindChartJs() {
  Env* env = Env::Default();
  std::vector<std::string> candidates;
  if (const char* p = std::getenv("LATHE_CHARTJS"); p && *p) candidates.push_back(p);
  // Debian's libjs-chart.js: chart.umd.js from Chart.js 4 on, chart.min.js (also UMD, defining
  // window.Chart) in bookworm's 3.9.1. chart.esm.js / chart.mjs are modules, which an inline
  // <script> cannot load.
  for (const char* name : {"chart.umd.js", "chart.min.js", "chart.js"})
    candidates.push_back(std::string("/usr/share/javascript/chart.js/") + name);
  for (const auto& path : candidates) {
    if (!env->FileExists(path)) continue;
    uint64_t size = 0;
    LATHE_RETURN_IF_ERROR(env->GetFileSize(path, &size));
    if (size > (16u << 20)) return Status::InvalidArgument(path + " is larger than 16 MiB: not Chart.js?");
    std::string js;
    LATHE_RETURN_IF_ERROR(ReadFileToString(env, path, &js));
    return js;
  }
  return Status::NotFound(
      "Chart.js not found (looked at $LATHE_CHARTJS and /usr/share/javascript/chart.js/): install Debian's "
      "libjs-chart.js (apt-get install libjs-chart.js) or set LATHE_CHARTJS to Chart.js's UMD build");
}

Result<RunResult> ReadReport(Env* env, const std::string& dir) {
  std::string path = dir + "/report.json";
  if (!env->FileExists(path)) return Status::NotFound(path + " not found: is " + dir + " the folder of a run?");
  uint64_t size = 0;
  LATHE_RETURN_IF_ERROR(env->GetFileSize(path, &size));
  if (size > kMaxReportBytes)
    return Status::InvalidArgument(path + " is " + std::to_string(size) + " bytes, over the limit of " +
                                   std::to_string(kMaxReportBytes));
  std::string text;
  LATHE_RETURN_IF_ERROR(ReadFileToString(env, path, &text));
  if (!JsonNestingWithin(text, kMaxReportJsonDepth))
    return Status::InvalidArgument(path + ": nested deeper than " + std::to_string(kMaxReportJsonDepth) + " levels");
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::InvalidArgument(path + ": not valid JSON");
  auto run = RunFromJson(j);
  if (!run.ok()) return Status::InvalidArgument(path + ": " + run.status().message());
  return run;
}

Status WriteReports(Env* env, const RunResult& run, const std::string& dir) {
  // What ReadReport would refuse is not written: `eval review` and `eval report` must read
  // whatever `eval run` wrote.
  const std::string json_text = report_format::DumpJson(RunToJson(run), 2) + "\n";
  if (json_text.size() > kMaxReportBytes)
    return Status::InvalidArgument("report.json would be " + std::to_string(json_text.size()) +
                                   " bytes; at most " + std::to_string(kMaxReportBytes) +
                                   " can be read back: evaluate fewer cases or models, or fewer max tokens");
  LATHE_RETURN_IF_ERROR(env->CreateDirs(dir));
  LATHE_RETURN_IF_ERROR(WriteFileAtomically(env, dir + "/report.json", json_text));
  LATHE_RETURN_IF_ERROR(WriteFileAtomically(env, dir + "/report.md", ReportMarkdown(run)));
  // Without Chart.js the page still has every number and answer, and says what to install.
  auto chart_js = FindChartJs();
  return WriteFileAtomically(env, dir + "/report.html", ReportHtml(run, chart_js.ok() ? *chart_js : std::string()));
}

}  // namespace lathe::eval
