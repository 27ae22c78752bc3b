#include "data/csv.h"

namespace lathe::data {

Status CsvReader::Open(Env* env, const std::string& path, std::unique_ptr<CsvReader>* out) {
  std::unique_ptr<SequentialFile> f;
  LATHE_RETURN_IF_ERROR(env->NewSequentialFile(path, &f));
  out->reset(new CsvReader(path, std::move(f)));
  return Status::Ok();
}

int CsvReader::Peek() {
  if (pos_ == buf_.size()) {
    if (eof_) return -1;
    buf_.resize(1 << 16);
    size_t n = 0;
    status_ = file_->Read(buf_.size(), buf_.data(), &n);
    buf_.resize(n);
    pos_ = 0;
    if (n == 0 || !status_.ok()) {
      eof_ = true;
      return -1;
    }
  }
  return static_cast<unsigned char>(buf_[pos_]);
}

int CsvReader::Get() {
  int c = Peek();
  if (c < 0) return c;
  ++pos_;
  if (c == '\n') {
    ++line_;
    column_ = 0;
  } else {
    ++column_;
  }
  return c;
}

bool CsvReader::Next(std::vector<std::string>* fields, uint64_t* line) {
  fields->clear();
  if (!started_) {  // a UTF-8 byte-order mark is not part of the first header name
    started_ = true;
    if (Peek() == 0xEF) {
      std::string bom;
      for (int i = 0; i < 3 && Peek() >= 0; ++i) bom.push_back(static_cast<char>(Get()));
      if (bom != "\xEF\xBB\xBF") {
        status_ = Status::InvalidArgument(path_ + ":1:1: invalid UTF-8 at the start of the file");
        return false;
      }
      column_ = 0;
    }
  }
  if (Peek() < 0) return false;
  *line = line_;
  std::string field;
  while (true) {
    int c = Get();
    if (c == '"' && field.empty()) {
      const uint64_t open_line = line_, open_col = column_;
      while (true) {
        int q = Get();
        if (q < 0) {
          status_ = Status::InvalidArgument(path_ + ":" + std::to_string(open_line) + ":" + std::to_string(open_col) +
                                            ": unterminated quoted field (the quote opened here is never closed)");
          return false;
        }
        if (q == '"') {
          if (Peek() == '"') {
            Get();
            field.push_back('"');
            continue;
          }
          break;
        }
        field.push_back(static_cast<char>(q));
      }
      int after = Peek();
      if (after != ',' && after != '\n' && after != '\r' && after >= 0) {
        status_ = Status::InvalidArgument(path_ + ":" + std::to_string(line_) + ":" + std::to_string(column_ + 1) +
                                          ": unexpected character after a closing quote (write \"\" for a quote "
                                          "inside a quoted field)");
        return false;
      }
      continue;
    }
    if (c == '"') {
      status_ = Status::InvalidArgument(path_ + ":" + std::to_string(line_) + ":" + std::to_string(column_) +
                                        ": quote inside an unquoted field (quote the whole field and double "
                                        "the quote: \"a \"\"b\"\" c\")");
      return false;
    }
    if (c == ',' ) {
      fields->push_back(std::move(field));
      field.clear();
      continue;
    }
    if (c == '\r' && Peek() == '\n') continue;  // CRLF
    if (c == '\n' || c < 0) {
      fields->push_back(std::move(field));
      return status_.ok();
    }
    field.push_back(static_cast<char>(c));
  }
}

}  // namespace lathe::data
