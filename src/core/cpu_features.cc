#include "core/cpu_features.h"

#include <cstdlib>
#include <fstream>

namespace lathe {

CpuFeatures ParseCpuFlags(std::string_view line) {
  CpuFeatures f;
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) line.remove_prefix(colon + 1);
  while (!line.empty()) {
    size_t start = line.find_first_not_of(" \t");
    if (start == std::string_view::npos) break;
    line.remove_prefix(start);
    size_t end = line.find_first_of(" \t");
    std::string_view flag = line.substr(0, end);
    line.remove_prefix(end == std::string_view::npos ? line.size() : end);
    if (flag == "avx2") f.avx2 = true;
    else if (flag == "fma") f.fma = true;
    else if (flag == "avx512f") f.avx512f = true;
    else if (flag == "avx512bw") f.avx512bw = true;
    else if (flag == "avx512cd") f.avx512cd = true;
    else if (flag == "avx512dq") f.avx512dq = true;
    else if (flag == "avx512vl") f.avx512vl = true;
    else if (flag == "avx512_bf16") f.avx512_bf16 = true;
  }
  return f;
}

CpuFeatures DetectCpuFeatures() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("flags", 0) == 0) return ParseCpuFlags(line);
  return {};
}

std::string OpenBlasCoreTypeFor(const CpuFeatures& f) {
  const bool skylakex = f.avx512f && f.avx512bw && f.avx512cd && f.avx512dq && f.avx512vl && f.avx2 && f.fma;
  if (skylakex && f.avx512_bf16) return "Cooperlake";
  if (skylakex) return "SkylakeX";
  if (f.avx2 && f.fma) return "Haswell";
  return "";  // older or unknown: OpenBLAS's own detection
}

bool SetOpenMpWaitDefault() {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr || std::getenv("GOMP_SPINCOUNT") != nullptr) return false;
  return setenv("GOMP_SPINCOUNT", kOpenMpSpinCount, 0) == 0;
}

}  // namespace lathe
