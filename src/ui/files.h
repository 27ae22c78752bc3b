// Reading what jobs leave on disk for the pages, bounded: a log's last bytes, a metrics CSV.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace lathe::ui {

inline constexpr uint64_t kMaxLogTailBytes = 16 * 1024;
inline constexpr uint64_t kMaxMetricsCsvBytes = 16u << 20;

// The last `max_bytes` of a file ("" when it does not exist), starting at a line.
std::string ReadTail(const std::string& path, uint64_t max_bytes);

// (step, value) pairs of a Bedrock metrics CSV (step_number, epoch_number, <value>, ...), in file
// order; rows whose step or value is not a number are skipped. Empty when the file is missing or
// larger than kMaxMetricsCsvBytes.
std::vector<std::pair<int64_t, double>> ReadMetricsCsv(const std::string& path);

}  // namespace lathe::ui
