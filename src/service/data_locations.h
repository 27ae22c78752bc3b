// Where job data lives. Bedrock names S3 URIs; lathe reads file:// URIs and absolute paths now,
// and its own S3-compatible store later — behind this interface, so jobs don't change then.
//
// A client names these paths, so they are confined (docs/serve.md, "Where lathe reads and writes
// files"): AWS bounds a job with its role and bucket policies; lathe with one operator-set list
// of folders, fileRoots, checked after symlinks are resolved.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/status.h"

namespace lathe::service {

// S3Uri's bound in Bedrock's service model (botocore bedrock/2023-04-20: "max": 1024).
inline constexpr size_t kMaxDataUriLength = 1024;

class DataLocations {
 public:
  virtual ~DataLocations() = default;
  // The local regular file to read for `uri` (training or validation data), symlinks resolved.
  virtual Result<std::string> FileForReading(const std::string& uri) const = 0;
  // Where outputs for `uri` will go, symlinks resolved as far as the path exists. A check only:
  // nothing is created when a request arrives.
  virtual Result<std::string> FolderForWriting(const std::string& uri) const = 0;
  // Creates the folder `uri` names (a FolderForWriting answer) when a job writes into it, checking
  // it again then: a symlink put in its way since must not lead out of the allowed folders.
  virtual Result<std::string> CreateFolderForWriting(const std::string& uri) const = 0;
};

// file:///abs/path and /abs/path under one of `roots` (fileRoots in the config). s3:// is refused
// with a message saying what works. Never allowed, whatever the roots: lathe's own state (the data
// dir, except its files/ folder, the default drop folder) and /proc, /sys, /dev and other kernel
// filesystems. A file that is missing, outside the roots or not a regular file gets one message,
// so a client learns nothing about files it may not read.
class LocalDataLocations : public DataLocations {
 public:
  LocalDataLocations(std::vector<std::string> roots, std::string data_dir);

  Result<std::string> FileForReading(const std::string& uri) const override;
  Result<std::string> FolderForWriting(const std::string& uri) const override;
  Result<std::string> CreateFolderForWriting(const std::string& uri) const override;

 private:
  // Whether `real` (a resolved absolute path) may hold job data.
  bool Allowed(const std::string& real) const;

  std::vector<std::string> roots_;
  std::string data_dir_;
};

}  // namespace lathe::service
