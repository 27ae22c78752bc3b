#include "ui/web_assets.h"

#include <mutex>

#include "core/env.h"

namespace lathe::ui {
namespace {

const WebAsset kAssets[] = {
#include "ui/web_assets.inc"
};

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

const WebAsset* FindAsset(std::string_view path) {
  if (path.empty() || path.front() == '/' || path.find("..") != std::string_view::npos) return nullptr;
  for (const WebAsset& a : kAssets)
    if (a.path == path) return &a;
  return nullptr;
}

std::string_view ContentType(std::string_view path) {
  if (EndsWith(path, ".html")) return "text/html; charset=utf-8";
  if (EndsWith(path, ".css")) return "text/css; charset=utf-8";
  if (EndsWith(path, ".js")) return "text/javascript; charset=utf-8";
  if (EndsWith(path, ".svg")) return "image/svg+xml";
  return "application/octet-stream";
}

const char* ChartJsPath() { return LATHE_CHARTJS_PATH; }

Result<std::string_view> ChartJs() {
  static std::once_flag once;
  static std::string bytes;
  static Status status;
  std::call_once(once, [] { status = ReadFileToString(Env::Default(), LATHE_CHARTJS_PATH, &bytes); });
  if (!status.ok())
    return Status::NotFound(std::string("Chart.js is not at ") + LATHE_CHARTJS_PATH +
                            " (apt-get install libjs-chart.js): " + status.message());
  return std::string_view(bytes);
}

}  // namespace lathe::ui
