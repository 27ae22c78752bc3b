#include "ui/web_assets.h"

#include "eval/report.h"

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

Result<std::string_view> ChartJs() {
  static const Result<std::string> bytes = eval::FindChartJs();
  if (!bytes.ok()) return bytes.status();
  return std::string_view(*bytes);
}

}  // namespace lathe::ui
