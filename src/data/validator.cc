#include "data/validator.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "core/utf8.h"
#include "data/model_limits.h"
#include "data/record.h"
#include "text/tokenizer.h"

namespace lathe::data {
namespace {

std::string WithCommas(uint64_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

std::string HumanBytes(uint64_t n) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

// "1 record", "2 records".
std::string Count(uint64_t n, const std::string& noun) {
  return WithCommas(n) + " " + noun + (n == 1 ? "" : "s");
}

bool IsBlankLine(std::string_view s) {
  for (char c : s)
    if (c != ' ' && c != '\t' && c != '\r' && c != '\f' && c != '\v') return false;
  return true;
}

class FileValidator {
 public:
  FileValidator(const std::string& name, const ValidateOptions& o) : opt_(o) {
    report_.file = name;
    report_.format = o.format;
    report_.tokens_exact = o.tokenizer != nullptr;
  }

  void Run(SequentialFile* file, uint64_t size_hint) {
    report_.bytes = size_hint;
    // Chunks no larger than the input: small inputs (tests, the fuzzer) stay cheap.
    const size_t chunk = static_cast<size_t>(std::clamp<uint64_t>(size_hint + 1, 4096, 1 << 20));
    // The size limit also holds while reading: a stream or a growing file reports no true size.
    const uint64_t max_bytes = opt_.purpose == Purpose::kValidation       ? kMaxValidationFileBytes
                               : opt_.format == Format::kPretraining ||
                                       opt_.format == Format::kAuto ? kMaxPretrainingFileBytes
                                                                    : kMaxFineTuningFileBytes;
    LineReader reader(file, LineReader::Options{opt_.max_line_bytes, chunk, max_bytes, report_.file});
    Line line;
    while (reader.Next(&line)) CheckLine(line);
    if (reader.is_utf16()) {
      Add(Severity::kError, 1, 0, "", "utf16", reader.status().message(),
          "convert the file to UTF-8, e.g. iconv -f UTF-16 -t UTF-8 " + report_.file + " > converted.jsonl");
      return;  // its "records" would all be noise
    }
    read_stopped_ = reader.over_total_limit();
    if (!reader.status().ok() && !read_stopped_) {
      Add(Severity::kError, 0, 0, "", "read-error", reader.status().ToString(),
          "check that the file is readable and not being written to");
    }
    if (report_.bytes == 0 || read_stopped_) report_.bytes = std::max(report_.bytes, reader.bytes_consumed());
    CheckFile();
  }

  FileReport Take() { return std::move(report_); }

 private:
  void Add(Severity sev, uint64_t line, uint64_t column, std::string field, std::string code,
           std::string message, std::string fix) {
    (sev == Severity::kError ? report_.errors : report_.warnings)++;
    report_.problem_counts[code]++;
    if (report_.problems.size() < opt_.max_problems_in_full)
      report_.problems.push_back(Problem{sev, report_.file, line, column, std::move(field),
                                         std::move(code), std::move(message), std::move(fix)});
  }

  void CheckLine(const Line& line) {
    std::string_view text = line.text;
    uint64_t bom_bytes = 0;  // columns are file columns, so they count a stripped BOM
    if (line.number == 1 && text.substr(0, 3) == "\xEF\xBB\xBF") {
      Add(Severity::kWarning, 1, 1, "", "bom", "file starts with a UTF-8 byte-order mark",
          "accepted and ignored; save the file as UTF-8 without BOM to silence this");
      text.remove_prefix(3);
      bom_bytes = 3;
    }
    if (line.had_cr) report_.crlf_lines++;
    if (line.too_long) {
      report_.records++;
      Add(Severity::kError, line.number, 0, "", "line-too-long",
          "line is " + WithCommas(line.length) + " bytes, over the " +
              HumanBytes(opt_.max_line_bytes) + " limit for one record",
          "split the record; a fine-tuning record is at most a few thousand tokens");
      return;
    }
    if (IsBlankLine(text)) {
      Add(Severity::kError, line.number, 0, "", "blank-line", "line is blank",
          "remove the blank line: every line must hold one JSON record");
      return;
    }
    report_.records++;
    if (size_t bad = FindInvalidUtf8(text); bad != std::string_view::npos) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02X", static_cast<unsigned char>(text[bad]));
      Add(Severity::kError, line.number, bom_bytes + bad + 1, "", "invalid-utf8",
          std::string("invalid UTF-8 (byte ") + hex + ")",
          "re-save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)");
      return;
    }
    nlohmann::json record;
    Problem parse_problem;
    if (!ParseJsonLine(text, &record, &parse_problem)) {
      uint64_t column = parse_problem.column > 0 ? bom_bytes + parse_problem.column : 0;
      Add(Severity::kError, line.number, column, "", parse_problem.code,
          parse_problem.message, parse_problem.fix);
      return;
    }
    Format detected = DetectFormat(record);
    Format format = report_.format;
    if (format == Format::kAuto && detected != Format::kAuto) {
      report_.format = format = detected;
      format_line_ = line.number;
    } else if (format != Format::kAuto && detected != Format::kAuto && detected != format) {
      std::string origin = opt_.format == Format::kAuto
                               ? "detected from line " + std::to_string(format_line_)
                               : "set by --format";
      Add(Severity::kError, line.number, 0, "", "mixed-format",
          std::string("record is ") + FormatName(detected) + " but the file is " +
              FormatName(format) + " (" + origin + ")",
          "keep one format per file; `lathe data convert` rewrites records between formats");
      return;
    }
    Example ex;
    problems_.clear();
    bool ok = DecodeExample(record, format, &ex, &problems_);
    for (Problem& p : problems_)
      Add(p.severity, line.number, 0, std::move(p.field), std::move(p.code), std::move(p.message),
          std::move(p.fix));
    if (!ok) return;
    report_.valid_records++;
    CheckTokens(ex, line.number);
  }

  void CheckTokens(const Example& ex, uint64_t line) {
    uint64_t tokens;
    if (opt_.tokenizer != nullptr) {
      tokens = opt_.tokenizer->CountTokens(ex.AllText());
    } else {
      size_t chars = 0;
      if (ex.format == Format::kPretraining) {
        chars = CountCodePoints(ex.input);
      } else {
        chars = CountCodePoints(ex.system);
        for (const Turn& t : ex.turns) chars += CountCodePoints(t.text);
      }
      tokens = (chars + kCharsPerTokenEstimate - 1) / kCharsPerTokenEstimate;
    }
    report_.total_tokens += tokens;
    report_.max_tokens = std::max(report_.max_tokens, tokens);
    if (opt_.max_record_tokens <= 0 || tokens <= static_cast<uint64_t>(opt_.max_record_tokens))
      return;
    std::string whose = opt_.model_id.empty() ? "the" : "the " + opt_.model_id;
    std::string limit = whose + " limit of " + WithCommas(opt_.max_record_tokens) + " tokens";
    if (opt_.tokenizer != nullptr) {
      Add(Severity::kError, line, 0, "", "too-many-tokens",
          "record has " + WithCommas(tokens) + " tokens (" + opt_.tokenizer_name + "), over " +
              limit,
          "shorten the record or split it into several");
    } else {
      // An estimate can be wrong either way: warn, and say how to get the exact answer.
      Add(Severity::kWarning, line, 0, "", "too-many-tokens",
          "record has about " + WithCommas(tokens) + " tokens (estimated as characters / " +
              std::to_string(kCharsPerTokenEstimate) + "), over " + limit,
          "shorten the record, or pass --tokenizer for an exact count");
    }
  }

  void CheckFile() {
    const bool pretraining = report_.format == Format::kPretraining;
    uint64_t max_bytes = opt_.purpose == Purpose::kValidation ? kMaxValidationFileBytes
                         : pretraining                        ? kMaxPretrainingFileBytes
                                                              : kMaxFineTuningFileBytes;
    if (report_.bytes > max_bytes) {
      std::string kind = opt_.purpose == Purpose::kValidation ? "a validation file"
                         : pretraining ? "a continued pre-training file" : "a fine-tuning file";
      Add(Severity::kError, 0, 0, "", "file-too-large",
          // Exact bytes too: a file 1 byte over "1.0 GB" is also "1.0 GB" when rounded.
          std::string(read_stopped_ ? "file is more than " : "file is ") + HumanBytes(report_.bytes) + " (" +
              WithCommas(report_.bytes) + (read_stopped_ ? " bytes, where reading stopped" : " bytes") + "), over the " +
              HumanBytes(max_bytes) + " limit (" + WithCommas(max_bytes) + " bytes) for " + kind,
          "split the data into several files or sample it down");
    }
    if (report_.records == 0) {
      Add(Severity::kError, 0, 0, "", "empty-file", "file holds no records",
          "add one JSON record per line");
      return;
    }
    if (opt_.purpose == Purpose::kTraining && !pretraining && !opt_.allow_small &&
        report_.records < kMinFineTuningRecords) {
      Add(Severity::kError, 0, 0, "", "too-few-records",
          "file has " + std::to_string(report_.records) + " records; fine-tuning needs at least " +
              std::to_string(kMinFineTuningRecords),
          "add examples (100-500 work well), `lathe data augment` them, or pass --allow-small "
          "to train on a small set anyway");
    }
    if (opt_.max_records > 0 && report_.records > opt_.max_records) {
      Add(Severity::kWarning, 0, 0, "", "too-many-records",
          "file has " + WithCommas(report_.records) + " records; Bedrock's quota for " +
              opt_.model_id + " is " + WithCommas(opt_.max_records),
          "lathe trains on all of them; sample the file down if it must also run on Bedrock");
    }
  }

  const ValidateOptions& opt_;
  FileReport report_;
  uint64_t format_line_ = 0;
  bool read_stopped_ = false;  // at the size limit, before the end of the input
  std::vector<Problem> problems_;
};

}  // namespace

FileReport ValidateFile(Env* env, const std::string& path, const ValidateOptions& options) {
  FileValidator v(path, options);
  std::unique_ptr<SequentialFile> file;
  uint64_t size = 0;
  Status s = env->GetFileSize(path, &size);
  if (s.ok()) s = env->NewSequentialFile(path, &file);
  if (!s.ok()) {
    FileReport r = v.Take();
    r.errors = 1;
    r.problem_counts["read-error"] = 1;
    r.problems.push_back(Problem{Severity::kError, path, 0, 0, "", "read-error", s.ToString(),
                                 "check the path"});
    return r;
  }
  v.Run(file.get(), size);
  return v.Take();
}

FileReport ValidateBuffer(std::string_view contents, const std::string& name,
                          const ValidateOptions& options) {
  FileValidator v(name, options);
  auto file = NewMemorySequentialFile(contents);
  v.Run(file.get(), contents.size());
  return v.Take();
}

std::string FormatReport(const FileReport& r) {
  std::string out;
  for (const Problem& p : r.problems) out += FormatProblem(p) + "\n";
  uint64_t shown = r.problems.size();
  uint64_t total = r.errors + r.warnings;
  if (total > shown) {
    out += "... and " + WithCommas(total - shown) + " more " +
           (total - shown == 1 ? "problem" : "problems") + ". All problems by kind:";
    for (const auto& [code, n] : r.problem_counts) out += " " + code + " " + WithCommas(n) + ";";
    out.back() = '\n';
  }
  out += r.file + ": " + (r.ok() ? "OK" : "INVALID") + " — " +
         Count(r.records, std::string(FormatName(r.format)) + " record") + ", " +
         HumanBytes(r.bytes) + ", " + Count(r.errors, "error") + ", " +
         Count(r.warnings, "warning");
  if (r.valid_records > 0)
    out += "; longest record " + std::string(r.tokens_exact ? "" : "~") +
           Count(r.max_tokens, "token") + (r.tokens_exact ? "" : " (estimated)");
  if (r.crlf_lines > 0) out += "; " + Count(r.crlf_lines, "CRLF line ending") + " (accepted)";
  return out + "\n";
}

nlohmann::json ReportToJson(const FileReport& r) {
  nlohmann::json problems = nlohmann::json::array();
  for (const Problem& p : r.problems) problems.push_back(ProblemToJson(p));
  return {{"file", SanitizeUtf8(r.file)},  // dump() throws on a non-UTF-8 file name
          {"ok", r.ok()},
          {"format", FormatName(r.format)},
          {"bytes", r.bytes},
          {"records", r.records},
          {"validRecords", r.valid_records},
          {"errors", r.errors},
          {"warnings", r.warnings},
          {"crlfLines", r.crlf_lines},
          {"maxRecordTokens", r.max_tokens},
          {"totalTokens", r.total_tokens},
          {"tokensExact", r.tokens_exact},
          {"problemCounts", r.problem_counts},
          {"problems", problems}};
}

}  // namespace lathe::data
