// Test Envs for the data layer: files whose bytes are generated on the fly (so a test can feed a
// 1 GB line or gigabytes of NUL bytes without touching the disk), reads that fail midway, and
// sizes that lie (so file-size limits can be tested without a big file).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/env.h"

namespace lathe::testing {

// File contents as a list of (text, repeat) pieces: {"{\"input\":\"", 1}, {"a", 1 << 30}, ...}.
struct Piece {
  std::string text;
  uint64_t repeat = 1;
};
using Pieces = std::vector<Piece>;

inline uint64_t PiecesSize(const Pieces& pieces) {
  uint64_t n = 0;
  for (const Piece& p : pieces) n += p.text.size() * p.repeat;
  return n;
}

// Generates the bytes of `pieces` as it is read; fails with an IOError once fail_at bytes have
// been returned (never, by default).
class GeneratedFile final : public SequentialFile {
 public:
  explicit GeneratedFile(Pieces pieces, uint64_t fail_at = std::numeric_limits<uint64_t>::max())
      : pieces_(std::move(pieces)), fail_at_(fail_at) {}

  Status Read(size_t n, char* scratch, size_t* bytes_read) override {
    *bytes_read = 0;
    if (pos_ >= fail_at_) return Status::IOError("injected read error at byte " + std::to_string(pos_));
    n = static_cast<size_t>(std::min<uint64_t>(n, fail_at_ - pos_));
    size_t done = 0;
    while (done < n && piece_ < pieces_.size()) {
      const Piece& p = pieces_[piece_];
      const uint64_t piece_bytes = p.text.size() * p.repeat;
      if (offset_in_piece_ >= piece_bytes) {
        ++piece_;
        offset_in_piece_ = 0;
        continue;
      }
      size_t k = static_cast<size_t>(std::min<uint64_t>(n - done, piece_bytes - offset_in_piece_));
      if (p.text.size() == 1) {
        std::memset(scratch + done, p.text[0], k);
      } else {
        for (size_t i = 0; i < k; ++i)
          scratch[done + i] = p.text[(offset_in_piece_ + i) % p.text.size()];
      }
      done += k;
      offset_in_piece_ += k;
    }
    pos_ += done;
    *bytes_read = done;
    return Status::Ok();
  }

 private:
  Pieces pieces_;
  uint64_t fail_at_;
  size_t piece_ = 0;
  uint64_t offset_in_piece_ = 0;
  uint64_t pos_ = 0;
};

// An Env that holds only generated files. GetFileSize reports the real generated size unless the
// file was added with a reported size.
class FakeEnv final : public Env {
 public:
  struct Spec {
    Pieces pieces;
    uint64_t reported_size = 0;  // 0: the generated size
    uint64_t fail_at = std::numeric_limits<uint64_t>::max();
  };
  void Add(const std::string& path, Spec spec) { files_[path] = std::move(spec); }

  Status NewSequentialFile(const std::string& path, std::unique_ptr<SequentialFile>* out) override {
    auto it = files_.find(path);
    if (it == files_.end()) return Status::NotFound(path + ": no such fake file");
    ++opens_;
    *out = std::make_unique<GeneratedFile>(it->second.pieces, it->second.fail_at);
    return Status::Ok();
  }
  Status NewRandomAccessFile(const std::string&, std::unique_ptr<RandomAccessFile>*) override {
    return Status::Unsupported("fake env");
  }
  Status NewWritableFile(const std::string&, std::unique_ptr<WritableFile>*) override {
    return Status::Unsupported("fake env");
  }
  Status GetFileSize(const std::string& path, uint64_t* size) override {
    auto it = files_.find(path);
    if (it == files_.end()) return Status::NotFound(path + ": no such fake file");
    *size = it->second.reported_size != 0 ? it->second.reported_size : PiecesSize(it->second.pieces);
    return Status::Ok();
  }
  bool FileExists(const std::string& path) override { return files_.count(path) > 0; }
  Status RenameFile(const std::string&, const std::string&) override {
    return Status::Unsupported("fake env");
  }
  Status RemoveFile(const std::string&) override { return Status::Unsupported("fake env"); }
  Status CreateDirs(const std::string&) override { return Status::Unsupported("fake env"); }

  int opens() const { return opens_; }

 private:
  std::map<std::string, Spec> files_;
  int opens_ = 0;
};

}  // namespace lathe::testing
