// Dataset statistics behind `lathe data stats`: lengths, duplicates, too-short and too-long
// completions (the tutorial's check_data_quality thresholds), train/validation leakage and
// balance by the first word of the prompt.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/env.h"
#include "data/example.h"

namespace lathe::text {
class Tokenizer;
}

namespace lathe::data {

// Histogram bucket upper bounds (exclusive) for lengths; the last bucket is open.
inline const std::vector<uint64_t> kLengthBuckets = {20, 50, 100, 200, 500, 1000, 2000, 5000};
inline constexpr uint64_t kShortCompletionChars = 20;    // tutorial: "very short (<20 chars)"
inline constexpr double kShortCompletionShare = 0.10;    // warn above 10 % of completions
inline constexpr uint64_t kLongCompletionChars = 2000;   // tutorial: "exceed 2000 characters"

struct LengthSummary {
  uint64_t count = 0, min = 0, median = 0, p90 = 0, max = 0;
  double mean = 0;
  std::vector<uint64_t> histogram;  // kLengthBuckets.size() + 1 counts
};
LengthSummary Summarize(std::vector<uint64_t> lengths);

struct DuplicateGroup {
  std::vector<uint64_t> lines;  // every line of the group, in file order
};

struct Leak {
  uint64_t validation_line = 0;
  uint64_t training_line = 0;
};

struct CategoryCount {
  std::string word;
  uint64_t count = 0;
};

struct DatasetStats {
  std::string file;
  Format format = Format::kAuto;
  uint64_t records = 0;
  // Characters (code points). For pre-training records "prompt" holds the input.
  LengthSummary prompt_chars, completion_chars;
  std::optional<LengthSummary> prompt_tokens, completion_tokens;  // with a tokenizer
  std::vector<DuplicateGroup> exact_duplicates, normalized_duplicates;  // groups of 2+
  std::vector<uint64_t> short_completions, long_completions;           // line numbers
  std::vector<CategoryCount> categories;                               // by count, descending
  std::string validation_file;
  uint64_t validation_records = 0;
  std::vector<Leak> leaks;
  std::vector<std::string> warnings;  // the quality checks that failed, as sentences
};

// Reads the training file (and the validation file, if any) and computes everything above.
Result<DatasetStats> ComputeStats(Env* env, const std::string& path, const std::string& validation_path,
                                  const text::Tokenizer* tokenizer);

std::string FormatStats(const DatasetStats& s);
nlohmann::json StatsToJson(const DatasetStats& s);

}  // namespace lathe::data
