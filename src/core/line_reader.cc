#include "core/line_reader.h"

#include <cstring>

namespace lathe {

LineReader::LineReader(SequentialFile* file, size_t max_line_bytes, size_t chunk_bytes)
    : file_(file), max_line_bytes_(max_line_bytes), chunk_bytes_(chunk_bytes) {}

void LineReader::Compact() {
  if (pos_ == 0) return;
  std::memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
  base_offset_ += pos_;
  end_ -= pos_;
  pos_ = 0;
}

bool LineReader::Fill() {
  if (eof_ || !status_.ok()) return false;
  if (buf_.size() < end_ + chunk_bytes_) buf_.resize(end_ + chunk_bytes_);
  size_t n = 0;
  status_ = file_->Read(chunk_bytes_, buf_.data() + end_, &n);
  if (!status_.ok()) return false;
  if (n == 0) {
    eof_ = true;
    return false;
  }
  end_ += n;
  return true;
}

bool LineReader::Next(Line* line) {
  size_t scanned = 0;  // bytes after pos_ already known to hold no '\n'
  while (true) {
    const char* start = buf_.data() + pos_;
    const char* nl = static_cast<const char*>(
        std::memchr(start + scanned, '\n', end_ - pos_ - scanned));
    if (nl != nullptr) {
      size_t len = static_cast<size_t>(nl - start);
      *line = Line{};
      line->number = ++line_number_;
      line->offset = base_offset_ + pos_;
      line->had_cr = len > 0 && start[len - 1] == '\r';
      line->length = len - (line->had_cr ? 1 : 0);
      // A line that ends within the buffered chunk can still be over the limit.
      line->too_long = line->length > max_line_bytes_;
      if (!line->too_long) line->text = std::string_view(start, line->length);
      pos_ += len + 1;
      return true;
    }
    scanned = end_ - pos_;
    // One byte of slack: the last buffered byte may be the '\r' of a "\r\n" terminator, which
    // is not part of the line, so whether a line is too long cannot depend on where a chunk ends.
    if (scanned > max_line_bytes_ + 1) {
      // Too long: drop what we have and stream past the rest of the line without keeping it.
      *line = Line{};
      line->number = ++line_number_;
      line->offset = base_offset_ + pos_;
      line->too_long = true;
      uint64_t len = scanned;  // bytes so far, a possible final '\r' included
      bool last_cr = buf_[end_ - 1] == '\r';
      auto finish = [&](bool had_newline) {
        line->had_cr = last_cr;
        line->length = len - (last_cr ? 1 : 0);
        line->had_newline = had_newline;
      };
      pos_ = end_;
      Compact();
      while (true) {
        if (pos_ == end_) {
          pos_ = end_ = 0;
          if (!Fill()) {
            finish(false);
            return status_.ok();
          }
        }
        const char* p = buf_.data() + pos_;
        const char* q = static_cast<const char*>(std::memchr(p, '\n', end_ - pos_));
        if (q == nullptr) {
          len += end_ - pos_;
          last_cr = buf_[end_ - 1] == '\r';
          base_offset_ += end_;
          pos_ = end_ = 0;
          continue;
        }
        len += static_cast<uint64_t>(q - p);
        if (q > p) last_cr = q[-1] == '\r';
        pos_ += static_cast<size_t>(q - p) + 1;
        finish(true);
        return true;
      }
    }
    Compact();
    if (!Fill()) {
      if (!status_.ok() || end_ == pos_) return false;
      // Last line without a final newline.
      size_t len = end_ - pos_;
      const char* s = buf_.data() + pos_;
      *line = Line{};
      line->number = ++line_number_;
      line->offset = base_offset_ + pos_;
      line->had_newline = false;
      line->had_cr = s[len - 1] == '\r';
      line->length = len - (line->had_cr ? 1 : 0);
      line->too_long = line->length > max_line_bytes_;
      if (!line->too_long) line->text = std::string_view(s, line->length);
      pos_ = end_;
      return true;
    }
  }
}

}  // namespace lathe
