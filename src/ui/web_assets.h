// The dashboard's own files (web/: pages, styles, JavaScript modules), compiled into the binary
// by src/ui/CMakeLists.txt, and Chart.js read from Debian's libjs-chart.js.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace lathe::ui {

struct WebAsset {
  std::string_view path;  // relative to web/: "index.html", "js/app.js"
  std::string_view body;
};

// The asset at that path, or nullptr (also for any path holding ".." or starting with '/').
const WebAsset* FindAsset(std::string_view path);
// 16 hex digits naming this build's assets (a hash of them all). The pages load them from
// /ui/static/<version>/..., which may be cached for good: a build that changes any asset changes
// the version, and the modules' relative imports stay under it.
std::string_view AssetsVersion();
// The page's HTML with its /ui/static/ references under the version.
std::string VersionedPage(std::string_view html);
// "text/html; charset=utf-8", "text/javascript; charset=utf-8", ... by the path's extension.
std::string_view ContentType(std::string_view path);
// Chart.js's bytes where the evaluation reports find it (eval::FindChartJs: $LATHE_CHARTJS, then
// Debian's libjs-chart.js), read on first use; a failure is remembered (restart after installing).
Result<std::string_view> ChartJs();

}  // namespace lathe::ui
