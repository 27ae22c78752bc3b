#include "ui/web_assets.h"

#include <cstdint>
#include <cstdio>

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

std::string_view AssetsVersion() {
  static const std::string version = [] {
    uint64_t h = 14695981039346656037ull;  // FNV-1a over every path and body
    for (const WebAsset& a : kAssets)
      for (std::string_view part : {a.path, std::string_view("\0", 1), a.body, std::string_view("\0", 1)})
        for (unsigned char c : part) h = (h ^ c) * 1099511628211ull;
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
    return std::string(hex);
  }();
  return version;
}

std::string VersionedPage(std::string_view html) {
  const std::string_view from = "/ui/static/";
  const std::string to = std::string(from) + std::string(AssetsVersion()) + "/";
  std::string out;
  size_t at = 0;
  for (size_t hit; (hit = html.find(from, at)) != std::string_view::npos; at = hit + from.size())
    out.append(html.substr(at, hit - at)).append(to);
  return out.append(html.substr(at));
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
