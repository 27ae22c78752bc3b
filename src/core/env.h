// Env: the seam between lathe and the file system (after LevelDB's Env). Code that reads or
// writes files takes an Env*, so tests can substitute files that fail, are huge, or are
// generated on the fly without touching the disk.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace lathe {

// Reads a file front to back.
class SequentialFile {
 public:
  virtual ~SequentialFile() = default;
  // Reads up to n bytes into scratch; *bytes_read == 0 means end of file.
  virtual Status Read(size_t n, char* scratch, size_t* bytes_read) = 0;
};

// Reads at arbitrary offsets (thread-safe).
class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  // Reads exactly n bytes at offset, or fails.
  virtual Status Read(uint64_t offset, size_t n, char* scratch) const = 0;
};

class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual Status Append(std::string_view data) = 0;
  // Flushes and fsyncs, then closes. Must be called; a file not closed is incomplete.
  virtual Status Close() = 0;
};

class Env {
 public:
  virtual ~Env() = default;
  // The real file system. Never deleted.
  static Env* Default();

  virtual Status NewSequentialFile(const std::string& path, std::unique_ptr<SequentialFile>* out) = 0;
  virtual Status NewRandomAccessFile(const std::string& path,
                                     std::unique_ptr<RandomAccessFile>* out) = 0;
  // Creates or truncates.
  virtual Status NewWritableFile(const std::string& path, std::unique_ptr<WritableFile>* out) = 0;
  virtual Status GetFileSize(const std::string& path, uint64_t* size) = 0;
  virtual bool FileExists(const std::string& path) = 0;
  virtual Status RenameFile(const std::string& from, const std::string& to) = 0;
  virtual Status RemoveFile(const std::string& path) = 0;
  // Creates the directory and its parents; OK if it exists.
  virtual Status CreateDirs(const std::string& path) = 0;
  // The names (not paths) of a directory's entries, without "." and "..", in no set order.
  // Not pure, so Envs that need no directories need not say so; those return Unsupported.
  virtual Status GetChildren(const std::string& dir, std::vector<std::string>* names);
  // Makes the directory's entries durable (after a rename or a new file in it), as fsync does a
  // file's bytes. Unsupported by default, like GetChildren.
  virtual Status SyncDir(const std::string& dir);
};

// Streams a new file into place atomically: data goes to a temporary file of its own beside path
// (path.tmp.PID.N); Commit() syncs and renames
// it over path. Destroying an uncommitted writer removes the temporary file, so a crash or an
// error never leaves a half-written output under the final name.
class AtomicFileWriter {
 public:
  static Status Open(Env* env, const std::string& path, std::unique_ptr<AtomicFileWriter>* out);
  ~AtomicFileWriter();
  Status Append(std::string_view data) { return file_->Append(data); }
  Status Commit();

 private:
  AtomicFileWriter(Env* env, std::string path, std::string tmp, std::unique_ptr<WritableFile> f)
      : env_(env), path_(std::move(path)), tmp_(std::move(tmp)), file_(std::move(f)) {}
  Env* env_;
  std::string path_, tmp_;
  std::unique_ptr<WritableFile> file_;
  bool committed_ = false;
};

// A SequentialFile over bytes in memory (not copied: they must outlive the file).
std::unique_ptr<SequentialFile> NewMemorySequentialFile(std::string_view contents);

// An error if `output` is the same file as `input` (writing it would destroy the input).
Status CheckNotSameFile(const std::string& input, const std::string& output);

// Whole-file helpers built on an Env.
Status ReadFileToString(Env* env, const std::string& path, std::string* out);
// Writes to a temporary file, syncs, then renames: readers see the old or the new file, never half.
Status WriteFileAtomically(Env* env, const std::string& path, std::string_view data);

}  // namespace lathe
