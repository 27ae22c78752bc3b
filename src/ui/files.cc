#include "ui/files.h"

#include <cmath>
#include <cstdlib>
#include <memory>

#include "core/env.h"

namespace lathe::ui {

std::string ReadTail(const std::string& path, uint64_t max_bytes) {
  Env* env = Env::Default();
  uint64_t size = 0;
  if (!env->GetFileSize(path, &size).ok()) return "";
  std::unique_ptr<RandomAccessFile> file;
  if (!env->NewRandomAccessFile(path, &file).ok()) return "";
  const uint64_t n = std::min(size, max_bytes);
  std::string out(n, '\0');
  if (n > 0 && !file->Read(size - n, n, out.data()).ok()) return "";
  if (n < size) {  // a line cut in two is dropped
    const size_t newline = out.find('\n');
    out.erase(0, newline == std::string::npos ? out.size() : newline + 1);
  }
  return out;
}

std::vector<std::pair<int64_t, double>> ReadMetricsCsv(const std::string& path) {
  std::vector<std::pair<int64_t, double>> rows;
  uint64_t size = 0;
  if (!Env::Default()->GetFileSize(path, &size).ok() || size > kMaxMetricsCsvBytes) return rows;
  std::string text;
  if (!ReadFileToString(Env::Default(), path, &text).ok()) return rows;
  size_t pos = text.find('\n');  // past the header
  while (pos != std::string::npos && pos + 1 < text.size()) {
    const size_t end = text.find('\n', pos + 1);
    const std::string line = text.substr(pos + 1, end == std::string::npos ? std::string::npos : end - pos - 1);
    pos = end;
    const size_t c1 = line.find(',');
    const size_t c2 = c1 == std::string::npos ? c1 : line.find(',', c1 + 1);
    if (c2 == std::string::npos) continue;
    char* stop = nullptr;
    const long long step = std::strtoll(line.c_str(), &stop, 10);
    if (stop != line.c_str() + c1) continue;
    const double value = std::strtod(line.c_str() + c2 + 1, &stop);
    if (stop == line.c_str() + c2 + 1 || !std::isfinite(value)) continue;
    rows.emplace_back(step, value);
  }
  return rows;
}

}  // namespace lathe::ui
