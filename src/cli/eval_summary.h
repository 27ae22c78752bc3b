// What `lathe eval run` shows while and after it runs: progress on stderr (a bar on a terminal,
// plain lines in a log, or JSON lines for a worker's parent), and the summary table on stdout.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "eval/evaluation.h"

namespace lathe::cli {

class ProgressPrinter {
 public:
  enum Style { kBar, kLines, kJson };
  ProgressPrinter(Style style, const std::vector<eval::ModelUnderTest>& models);
  void Show(const eval::Progress& p);
  void Done();  // ends the bar's line

 private:
  Style style_;
  std::vector<std::string> labels_;
  size_t last_decile_ = 0, last_model_ = static_cast<size_t>(-1);
  bool drawn_ = false;
};

// "1:05" / "1:02:03".
std::string FormatDuration(double seconds);

// Per model: overall score, failures, latency p50/p95, tokens/s and each metric's mean [CI];
// per comparison: wins/ties/losses, mean difference [CI] and the verdict, per metric.
void PrintSummary(const eval::RunResult& run);

}  // namespace lathe::cli
