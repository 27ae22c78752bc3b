// A small RFC 4180 CSV reader for `lathe data convert --from csv`: quoted fields, "" escapes,
// line breaks inside quotes, CRLF, a UTF-8 BOM. Errors name the CSV line and column.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/env.h"

namespace lathe::data {

class CsvReader {
 public:
  static Status Open(Env* env, const std::string& path, std::unique_ptr<CsvReader>* out);
  // Reads one record; false at end of input or on an error (status()). *line is the CSV line the
  // record starts on (1-based).
  bool Next(std::vector<std::string>* fields, uint64_t* line);
  const Status& status() const { return status_; }

 private:
  CsvReader(std::string path, std::unique_ptr<SequentialFile> file)
      : path_(std::move(path)), file_(std::move(file)) {}
  int Peek();
  int Get();
  std::string path_;
  std::unique_ptr<SequentialFile> file_;
  std::string buf_;
  size_t pos_ = 0;
  bool eof_ = false, started_ = false;
  uint64_t line_ = 1, column_ = 0;
  Status status_;
};

}  // namespace lathe::data
