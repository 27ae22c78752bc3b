// ExampleReader: the records of a dataset file, decoded, for the commands that transform data
// (stats, split, convert, ...). It stops at the first invalid record with a Status that names
// the file, line and field; `lathe data validate` lists every problem.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/env.h"
#include "core/line_reader.h"
#include "data/example.h"

namespace lathe::data {

struct Record {
  uint64_t line = 0;        // 1-based line number in the file
  std::string_view raw;     // the line's JSON text (no BOM, no line terminator)
  Example example;
};

class ExampleReader {
 public:
  // format kAuto: detected from the first record; later records must match.
  static Status Open(Env* env, const std::string& path, Format format,
                     std::unique_ptr<ExampleReader>* out);
  // Fills *record and returns true; false at end of file or on an error (status()).
  // record->raw stays valid until the next call. Blank lines are errors, as in validate.
  bool Next(Record* record);
  const Status& status() const { return status_; }
  Format format() const { return format_; }
  const std::string& path() const { return path_; }

 private:
  ExampleReader(std::string path, std::unique_ptr<SequentialFile> file, Format format);
  std::string path_;
  std::unique_ptr<SequentialFile> file_;
  LineReader reader_;
  Format format_;
  Status status_;
};

// A record that owns its line, for commands that must hold the whole dataset (split, balance).
struct OwnedRecord {
  uint64_t line = 0;
  std::string raw;
  Example example;
};

// Reads every record of a dataset; *detected receives the file's format.
Status ReadAllRecords(Env* env, const std::string& path, Format format,
                      std::vector<OwnedRecord>* records, Format* detected);

}  // namespace lathe::data
