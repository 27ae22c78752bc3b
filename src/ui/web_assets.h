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
// "text/html; charset=utf-8", "text/javascript; charset=utf-8", ... by the path's extension.
std::string_view ContentType(std::string_view path);
// Chart.js's bytes where the evaluation reports find it (eval::FindChartJs: $LATHE_CHARTJS, then
// Debian's libjs-chart.js), read on first use; a failure is remembered (restart after installing).
Result<std::string_view> ChartJs();

}  // namespace lathe::ui
