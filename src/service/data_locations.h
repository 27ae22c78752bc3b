// Where job data lives: file:// URIs and absolute paths on this machine, and s3:// URIs of
// lathe's own S3 store, behind one interface so the job runner does not care which.
//
// A client names these paths, so they are confined (docs/serve.md, "Where lathe reads and writes
// files"): AWS bounds a job with its role and bucket policies; lathe with one operator-set list
// of folders, fileRoots, checked after symlinks are resolved, and with S3's ownership rules (a
// job reads and writes only buckets its account owns).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/status.h"

namespace lathe::service {

// S3Uri's bound in Bedrock's service model (botocore bedrock/2023-04-20: "max": 1024).
inline constexpr size_t kMaxDataUriLength = 1024;

// A job's data as the job runner sees it: checked when the request arrives, fetched when the job
// runs (Bedrock's validation phase), published when it ends.
class DataLocations {
 public:
  virtual ~DataLocations() = default;
  // Request time, a check only (nothing is read or created): what the job keeps to fetch its
  // data later. A problem is the request's (a ValidationException); one that only running can
  // find (a missing object) fails the job in validation instead, as Bedrock does.
  virtual Result<std::string> CheckInput(const std::string& uri) const = 0;
  virtual Result<std::string> CheckOutput(const std::string& uri) const = 0;
  // Run time: the local file the job reads for `input` (a CheckInput answer), as `account`.
  // `snapshot` is where a copy may go: the job reads what was there when it started, and a job
  // resumed after a restart reads the same copy again. A copy is refused past `max_bytes` (what
  // the validator would read of the file: disk is not filled with bytes nobody reads).
  virtual Result<std::string> FetchInput(const std::string& account, const std::string& input,
                                         const std::string& snapshot, uint64_t max_bytes) const = 0;
  // Run time: that the job may still write to `output` (a CheckOutput answer), preparing it.
  virtual Status PrepareOutput(const std::string& account, const std::string& output) const = 0;
  // Run time, before FetchInput and PrepareOutput: that the job's role (`role_arn`) may read
  // `inputs` and write under `output` (CheckInput/CheckOutput answers), as AWS checks a job's
  // role when it reads its data. OK where nothing bounds a role (local paths; no IAM).
  virtual Status CheckRoleAccess(const std::string& account, const std::string& role_arn,
                                 const std::vector<std::string>& inputs, const std::string& output) const {
    return Status::Ok();
  }
  // The end: the folders `subdirs` of `run_dir` (complete, local) published under
  // <output>/<name>/. Returns where they went (for messages), or why they could not.
  virtual Result<std::string> PublishOutputs(const std::string& account, const std::string& output,
                                             const std::string& run_dir, const std::vector<std::string>& subdirs,
                                             const std::string& name) const = 0;
};

// file:///abs/path and /abs/path under one of `roots` (fileRoots in the config): the file rules
// JobDataLocations (job_data_locations.h) applies to local URIs; s3:// is not its business and
// is refused. Never allowed, whatever the roots: lathe's own state (the data dir, except its
// files/ folder, the default drop folder) and /proc, /sys, /dev and other kernel filesystems. A file that is missing, outside the roots or not a regular file gets one message,
// so a client learns nothing about files it may not read.
class LocalDataLocations {
 public:
  LocalDataLocations(std::vector<std::string> roots, std::string data_dir);

  // The local regular file to read for `uri` (training or validation data), symlinks resolved.
  Result<std::string> FileForReading(const std::string& uri) const;
  // Where outputs for `uri` will go, symlinks resolved as far as the path exists. A check only:
  // nothing is created when a request arrives.
  Result<std::string> FolderForWriting(const std::string& uri) const;
  // Creates the folder `uri` names (a FolderForWriting answer) when a job writes into it, checking
  // it again then: a symlink put in its way since must not lead out of the allowed folders.
  Result<std::string> CreateFolderForWriting(const std::string& uri) const;

 private:
  // Whether `real` (a resolved absolute path) may hold job data.
  bool Allowed(const std::string& real) const;

  std::vector<std::string> roots_;
  std::string data_dir_;
};

}  // namespace lathe::service
