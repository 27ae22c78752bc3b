// LineReader: splits a file into lines in bounded memory, however large the file or its lines.
// A line longer than max_line_bytes is not buffered: it is skipped and reported as too long,
// so a 1 GB line or a file of NUL bytes cannot exhaust memory. Reading stops with an error past
// max_total_bytes (a stream or a growing file has no size to check up front), and at once on
// UTF-16 text, whose lines would otherwise come out as NUL-riddled garbage.
#pragma once

#include <cstdint>
#include <cstddef>
#include <string>
#include <string_view>

#include "core/env.h"

namespace lathe {

struct Line {
  std::string_view text;   // without "\n" or "\r\n"; empty when too_long
  uint64_t number = 0;     // 1-based
  uint64_t offset = 0;     // byte offset of the line's first byte in the file
  uint64_t length = 0;     // bytes in the line, terminator excluded (also when too_long)
  bool too_long = false;
  bool had_cr = false;         // ended in "\r\n"
  bool had_newline = true;     // false for a last line without a final "\n"
};

class LineReader {
 public:
  static constexpr size_t kDefaultMaxLineBytes = size_t{64} << 20;

  struct Options {
    size_t max_line_bytes = kDefaultMaxLineBytes;
    size_t chunk_bytes = size_t{1} << 20;
    uint64_t max_total_bytes = UINT64_MAX;  // bytes read from the file, all lines together
    std::string name = "the input";         // for messages: usually the file's path
  };
  explicit LineReader(SequentialFile* file, size_t max_line_bytes = kDefaultMaxLineBytes,
                      size_t chunk_bytes = size_t{1} << 20);
  LineReader(SequentialFile* file, Options options);
  // Fills *line and returns true, or returns false at end of file or on a read error (status()).
  // line->text stays valid until the next call.
  bool Next(Line* line);
  const Status& status() const { return status_; }
  uint64_t bytes_consumed() const { return base_offset_ + pos_; }
  // Why reading stopped early (status() then holds the message).
  bool over_total_limit() const { return over_total_limit_; }
  bool is_utf16() const { return utf16_ != nullptr; }

 private:
  bool Fill();  // reads one more chunk at the end of buf_; false at EOF or error
  void Compact();
  void CheckEncoding();  // once the first bytes are in

  SequentialFile* file_;
  Options options_;
  size_t max_line_bytes_;
  size_t chunk_bytes_;
  uint64_t bytes_read_ = 0;
  bool encoding_checked_ = false, over_total_limit_ = false;
  const char* utf16_ = nullptr;  // "UTF-16LE" or "UTF-16BE" once detected
  std::string buf_;
  size_t pos_ = 0, end_ = 0;   // unread bytes are buf_[pos_, end_)
  uint64_t base_offset_ = 0;   // file offset of buf_[0]
  uint64_t line_number_ = 0;
  bool eof_ = false;
  Status status_;
};

}  // namespace lathe
