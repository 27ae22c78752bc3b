// LineReader: splits a file into lines in bounded memory, however large the file or its lines.
// A line longer than max_line_bytes is not buffered: it is skipped and reported as too long,
// so a 1 GB line or a file of NUL bytes cannot exhaust memory.
#pragma once

#include <cstdint>
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

  explicit LineReader(SequentialFile* file, size_t max_line_bytes = kDefaultMaxLineBytes,
                      size_t chunk_bytes = size_t{1} << 20);
  // Fills *line and returns true, or returns false at end of file or on a read error (status()).
  // line->text stays valid until the next call.
  bool Next(Line* line);
  const Status& status() const { return status_; }
  uint64_t bytes_consumed() const { return base_offset_ + pos_; }

 private:
  bool Fill();  // reads one more chunk at the end of buf_; false at EOF or error
  void Compact();

  SequentialFile* file_;
  size_t max_line_bytes_;
  size_t chunk_bytes_;
  std::string buf_;
  size_t pos_ = 0, end_ = 0;   // unread bytes are buf_[pos_, end_)
  uint64_t base_offset_ = 0;   // file offset of buf_[0]
  uint64_t line_number_ = 0;
  bool eof_ = false;
  Status status_;
};

}  // namespace lathe
