// The dataset validator behind `lathe data validate`: streams a JSONL file in constant memory and
// reports every problem with its file, line, column and field.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/env.h"
#include "core/line_reader.h"
#include "data/example.h"
#include "data/problem.h"

namespace lathe::text {
class Tokenizer;
}

namespace lathe::data {

enum class Purpose { kTraining, kValidation };

struct ValidateOptions {
  Format format = Format::kAuto;
  Purpose purpose = Purpose::kTraining;
  const text::Tokenizer* tokenizer = nullptr;  // exact token counts when set
  std::string tokenizer_name;                  // for messages
  int64_t max_record_tokens = 0;               // 0: no per-record token limit
  std::string model_id;                        // whose limits apply, for messages ("" if none)
  uint64_t max_records = 0;                    // 0: no upper bound (warning only)
  bool allow_small = false;                    // accept fewer than kMinFineTuningRecords
  size_t max_problems_in_full = 20;            // per file; the rest are only counted
  size_t max_line_bytes = LineReader::kDefaultMaxLineBytes;
};

struct FileReport {
  std::string file;
  Format format = Format::kAuto;  // detected (or forced)
  uint64_t bytes = 0;
  uint64_t records = 0;           // non-blank lines
  uint64_t valid_records = 0;
  uint64_t crlf_lines = 0;
  uint64_t max_tokens = 0;        // largest record, in tokens (exact or estimated)
  uint64_t total_tokens = 0;
  bool tokens_exact = false;
  std::vector<Problem> problems;  // the first max_problems_in_full, in file order
  std::map<std::string, uint64_t> problem_counts;  // by code, all of them
  uint64_t errors = 0;
  uint64_t warnings = 0;

  bool ok() const { return errors == 0; }
};

FileReport ValidateFile(Env* env, const std::string& path, const ValidateOptions& options);
// The same checks on bytes already in memory (tests and the fuzz target).
FileReport ValidateBuffer(std::string_view contents, const std::string& name,
                          const ValidateOptions& options);

// Human-readable report: problems, then a summary line.
std::string FormatReport(const FileReport& r);
nlohmann::json ReportToJson(const FileReport& r);

}  // namespace lathe::data
