// Internal to data_dir_backup/restore: copying files with their SHA-256, and the manifest.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "core/status.h"
#include "store/data_dir_backup.h"

namespace lathe::store::backup_internal {

struct FileEntry {
  uint64_t size = 0;
  std::string sha256;
  unsigned mode = 0;  // permission bits (0600 for keys): a copy that keeps none (s3://) gets them back
};
// By path relative to the backup's root, '/'-separated.
using FileList = std::map<std::string, FileEntry>;

// Copies src to dst (replacing it), with src's permission bits, fsynced, hashing as it goes.
// NotFound when src does not exist (any more).
Status CopyFileHashed(const std::string& src, const std::string& dst, FileEntry* entry);

// Creates `dir` and its parents with `mode` for the ones it creates.
Status MakeDirs(const std::string& dir, unsigned mode = 0755);

// OK when `dir` does not exist or is an empty folder; otherwise InvalidArgument naming what is in it.
Status CheckEmptyTarget(const std::string& dir, const char* what);

// A relative path from a manifest, checked: no absolute path, no "." or ".." or empty parts, no
// control characters, at most 4096 bytes. A hostile manifest cannot write outside the target.
bool IsSafeRelativePath(const std::string& path);

inline constexpr const char* kManifestName = kBackupManifestName;
inline constexpr const char* kManifestFormat = "lathe-backup";
inline constexpr int kManifestFormatVersion = 1;

}  // namespace lathe::store::backup_internal
