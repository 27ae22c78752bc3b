// `lathe backup` and `lathe restore`: a data directory copied while lathe serve runs, and brought
// back into an empty one.
//
// What a backup holds, and what "consistent" means:
//   - lathe.db is copied first, with SQLite's online backup API: one point in time (the
//     snapshot), every table at once — jobs, models, throughput, tags, the registry, S3's index,
//     Step Functions, the outbox. Writers go on meanwhile.
//   - S3: exactly the objects (and multipart parts) of the snapshot, each with its bytes. Blobs are
//     immutable and named by random ids, so a blob the snapshot names is the bytes it had then.
//     Right after the snapshot each is pinned by a hard link in s3/tmp/ (removed at the end), so
//     the server deleting it later (an overwrite, DeleteObject) does not matter; one deleted in
//     that short window makes the backup start over (at most a few times), so no listed object
//     lacks its bytes.
//   - Every other file of the data directory (jobs/, custom-models/, imported-models/,
//     evaluation-jobs/, models/, lambda/, sns/, tls/, credentials.json, files/, ... and folders
//     added later) is copied after the snapshot. Each folder is listed before and after its files
//     are copied and copied again if its entries changed meanwhile (at most a few times), so a
//     training checkpoint (state.json naming its generation's files) is never a mix of two. A job
//     that was training is InProgress in the snapshot and, restored, resumes from the last
//     checkpoint copied, as after a crash. Work created after the snapshot may leave files the
//     snapshot does not name; they are harmless (S3 blobs not in the index are removed at start).
//   - Not copied: serve.lock, the SQLite -wal/-shm files (the snapshot includes the WAL), the
//     upgrade backups lathe.db.backup-*, temporary files (*.tmp.*, s3/tmp/, lambda/work/,
//     openai/scratch/) and symbolic links (named in the report).
// manifest.json, written last, lists every file with its size and SHA-256: a folder without it is
// an unfinished backup, and restore refuses it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/status.h"

namespace lathe::store {

struct BackupReport {
  int schema_version = 0;   // lathe.db's, as copied
  int layout_version = 0;   // the data directory's
  size_t files = 0;         // files copied, lathe.db and blobs included
  uint64_t bytes = 0;
  size_t objects = 0;       // S3 object versions and parts whose bytes were copied
  int attempts = 1;         // > 1 when a blob or folder changed during the copy
  std::vector<std::string> notes;  // what was left out and why (symbolic links)
};

// Copies data_dir into `dest`, which must not exist or be empty. `lathe_version` is recorded in
// the manifest.
Result<BackupReport> BackupDataDir(const std::string& data_dir, const std::string& dest, const std::string& lathe_version);

// Test seams, empty in production: called after lathe.db's snapshot is written and again once
// its blobs are pinned (with the attempt, 1-based, and `pinned`), and after a folder's files
// were copied, before it is listed again (with its path relative to the data directory, "" for
// the top): a test changes the data directory there, as a running server would.
std::function<void(int attempt, bool pinned)>& BackupAfterSnapshotHookForTesting();
std::function<void(const std::string& folder)>& BackupAfterFolderCopyHookForTesting();

struct RestoreReport {
  std::string source_data_dir;  // where the backup was taken
  std::string lathe_version;    // the lathe that took it
  int schema_version = 0;
  size_t files = 0;
  uint64_t bytes = 0;
  size_t paths_rewritten = 0;   // documents whose absolute paths named the old data directory
};

// The files a backup's manifest.json lists (relative paths, each checked as restore checks it:
// none absolute or climbing out), manifest.json itself not included; what a copy of the backup
// elsewhere (s3://) carries. NotFound when `backup` has no manifest (not a backup, or unfinished).
Result<std::vector<std::string>> BackupManifestFiles(const std::string& backup);
inline constexpr const char* kBackupManifestName = "manifest.json";

// Restores `backup` into data_dir, which must not exist or be empty: every file is checked
// against the manifest (size, SHA-256) and written to a folder beside data_dir that is renamed
// into place only when complete. Paths in lathe.db's documents that pointed into the old data
// directory are rewritten to the new one. A backup whose schema or layout is newer than this
// binary is refused.
Result<RestoreReport> RestoreDataDir(const std::string& backup, const std::string& data_dir);

}  // namespace lathe::store
