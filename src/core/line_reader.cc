#include "core/line_reader.h"

#include <cstring>
#include <string>
#include <utility>

#include "core/utf8.h"

namespace lathe {

LineReader::LineReader(SequentialFile* file, size_t max_line_bytes, size_t chunk_bytes)
    : LineReader(file, Options{max_line_bytes, chunk_bytes}) {}

LineReader::LineReader(SequentialFile* file, Options options)
    : file_(file),
      options_(std::move(options)),
      max_line_bytes_(options_.max_line_bytes),
      chunk_bytes_(options_.chunk_bytes) {}

void LineReader::CheckEncoding() {
  // Only a file's first bytes tell: once lines have been handed out they are no longer buffered.
  if (encoding_checked_ || (bytes_read_ < 4 && !eof_)) return;
  encoding_checked_ = true;
  if (base_offset_ != 0) return;
  utf16_ = DetectUtf16(std::string_view(buf_.data(), end_));
  if (utf16_ == nullptr) return;
  status_ = Status::InvalidArgument(options_.name + " is " + utf16_ +
                                    " text; lathe reads UTF-8: convert it first, e.g. iconv -f UTF-16 -t UTF-8 " +
                                    options_.name + " > converted.jsonl");
}

void LineReader::Compact() {
  if (pos_ == 0) return;
  std::memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
  base_offset_ += pos_;
  end_ -= pos_;
  pos_ = 0;
}

bool LineReader::Fill() {
  if (eof_ || !status_.ok()) return false;
  if (bytes_read_ > options_.max_total_bytes) {
    over_total_limit_ = true;
    status_ = Status::InvalidArgument(options_.name + " is over the " + std::to_string(options_.max_total_bytes) +
                                      "-byte limit (reading stopped there)");
    return false;
  }
  if (buf_.size() < end_ + chunk_bytes_) buf_.resize(end_ + chunk_bytes_);
  size_t n = 0;
  status_ = file_->Read(chunk_bytes_, buf_.data() + end_, &n);
  if (!status_.ok()) return false;
  bytes_read_ += n;
  end_ += n;
  if (n == 0) eof_ = true;
  CheckEncoding();
  return n > 0 && status_.ok();
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
