#include "data/example_reader.h"

#include <nlohmann/json.hpp>

#include "data/model_limits.h"
#include "data/record.h"

namespace lathe::data {

ExampleReader::ExampleReader(std::string path, std::unique_ptr<SequentialFile> file, Format format)
    : path_(std::move(path)),
      file_(std::move(file)),
      // The largest dataset any job accepts bounds a stream too, whatever size it reported.
      reader_(file_.get(), LineReader::Options{.max_total_bytes = kMaxPretrainingFileBytes, .name = path_}),
      format_(format) {}

Status ExampleReader::Open(Env* env, const std::string& path, Format format,
                           std::unique_ptr<ExampleReader>* out) {
  std::unique_ptr<SequentialFile> file;
  LATHE_RETURN_IF_ERROR(env->NewSequentialFile(path, &file));
  out->reset(new ExampleReader(path, std::move(file), format));
  return Status::Ok();
}

bool ExampleReader::Next(Record* record) {
  if (!status_.ok()) return false;
  Line line;
  if (!reader_.Next(&line)) {
    status_ = reader_.status();
    return false;
  }
  auto fail = [&](const Problem& p) {
    Problem located = p;
    located.file = path_;
    located.line = line.number;
    status_ = Status::InvalidArgument(FormatProblem(located) +
                                      "\n    (run `lathe data validate " + path_ +
                                      "` to see every problem)");
    return false;
  };
  std::string_view text = line.text;
  uint64_t bom_bytes = 0;
  if (line.number == 1 && text.substr(0, 3) == "\xEF\xBB\xBF") {
    text.remove_prefix(3);
    bom_bytes = 3;
  }
  if (line.too_long)
    return fail(Problem{Severity::kError, "", 0, 0, "", "line-too-long",
                        "line is " + std::to_string(line.length) + " bytes long", ""});
  if (text.find_first_not_of(" \t\r\f\v") == std::string_view::npos)
    return fail(Problem{Severity::kError, "", 0, 0, "", "blank-line", "line is blank",
                        "remove the blank line"});
  nlohmann::json json;
  Problem problem;
  if (!ParseJsonLine(text, &json, &problem)) {
    if (problem.column > 0) problem.column += bom_bytes;  // a file column, BOM included
    return fail(problem);
  }
  Format detected = DetectFormat(json);
  if (format_ == Format::kAuto) format_ = detected;
  if (detected != Format::kAuto && detected != format_)
    return fail(Problem{Severity::kError, "", 0, 0, "", "mixed-format",
                        std::string("record is ") + FormatName(detected) + " but the file is " +
                            FormatName(format_),
                        "keep one format per file"});
  std::vector<Problem> problems;
  if (!DecodeExample(json, format_, &record->example, &problems)) return fail(problems.front());
  record->line = line.number;
  record->raw = text;
  return true;
}

Status ReadAllRecords(Env* env, const std::string& path, Format format,
                      std::vector<OwnedRecord>* records, Format* detected) {
  std::unique_ptr<ExampleReader> reader;
  LATHE_RETURN_IF_ERROR(ExampleReader::Open(env, path, format, &reader));
  Record r;
  while (reader->Next(&r))
    records->push_back(OwnedRecord{r.line, std::string(r.raw), std::move(r.example)});
  LATHE_RETURN_IF_ERROR(reader->status());
  if (detected) *detected = reader->format();
  return Status::Ok();
}

}  // namespace lathe::data
