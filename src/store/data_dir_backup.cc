// BackupDataDir (data_dir_backup.h): the snapshot, its S3 blobs, then every other folder.
#include "store/data_dir_backup.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "core/env.h"
#include "core/sha256.h"
#include "store/blob_store.h"
#include "store/data_dir_copy.h"
#include "store/data_layout.h"
#include "store/migrations.h"

namespace lathe::store {
namespace {

using backup_internal::FileEntry;
using backup_internal::FileList;
namespace fs = std::filesystem;

// Attempts of the whole backup (a blob of the snapshot deleted before its copy) and of one
// folder (its entries changed while its files were copied).
constexpr int kMaxAttempts = 5;

// What is never copied, by path relative to the data directory.
bool LeftOut(const std::string& rel) {
  static const std::set<std::string> kPaths = {"lathe.db", "lathe.db-wal", "lathe.db-shm", "lathe.db-journal",
                                               "serve.lock", "s3", "lambda/work", "openai/scratch",
                                               kBackupManifestName};  // the backup's own, at its top
  if (kPaths.count(rel)) return true;
  const std::string name = fs::path(rel).filename().string();
  // Migration backups belong to the machine they were made on; AtomicFileWriter's temporary
  // files are never final.
  return rel.rfind("lathe.db.backup-", 0) == 0 || name.find(".tmp.") != std::string::npos;
}

struct Copier {
  std::string data_dir, dest;
  FileList files;
  BackupReport* report;

  Status CopyFile(const std::string& rel) {
    FileEntry e;
    LATHE_RETURN_IF_ERROR(backup_internal::CopyFileHashed(data_dir + "/" + rel, dest + "/" + rel, &e));
    files[rel] = e;
    return Status::Ok();
  }

  // The folder's entries (names and kinds), without the ones left out.
  Result<std::map<std::string, fs::file_type>> List(const std::string& rel) {
    std::map<std::string, fs::file_type> out;
    std::error_code ec;
    const std::string dir = rel.empty() ? data_dir : data_dir + "/" + rel;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string child = rel.empty() ? it->path().filename().string() : rel + "/" + it->path().filename().string();
      if (!LeftOut(child)) out[it->path().filename().string()] = it->symlink_status(ec).type();
    }
    if (ec && ec != std::errc::no_such_file_or_directory) return Status::IOError("cannot list " + dir + ": " + ec.message());
    return out;
  }

  // Copies the folder `rel` ("" = the data directory): its files until its entries stay the same
  // across a copy, then its sub-folders.
  Status CopyFolder(const std::string& rel) {
    const std::string from = rel.empty() ? data_dir : data_dir + "/" + rel;
    struct stat st {};
    const unsigned mode = ::stat(from.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0755;
    LATHE_RETURN_IF_ERROR(backup_internal::MakeDirs(rel.empty() ? dest : dest + "/" + rel, mode));
    std::map<std::string, fs::file_type> entries;
    for (int attempt = 1;; ++attempt) {
      auto before = List(rel);
      if (!before.ok()) return before.status();
      bool vanished = false;
      for (const auto& [name, type] : *before) {
        const std::string child = rel.empty() ? name : rel + "/" + name;
        if (type != fs::file_type::regular) continue;
        Status s = CopyFile(child);
        if (s.code() == Status::Code::kNotFound) vanished = true;
        else if (!s.ok()) return s;
      }
      if (auto& hook = BackupAfterFolderCopyHookForTesting()) hook(rel);
      auto after = List(rel);
      if (!after.ok()) return after.status();
      entries = *after;
      if (!vanished && *after == *before) break;
      // Files of the earlier listing that are gone now are not part of the folder's state.
      for (const auto& [name, type] : *before)
        if (type == fs::file_type::regular && !after->count(name)) {
          const std::string child = rel.empty() ? name : rel + "/" + name;
          files.erase(child);
          std::error_code ec;
          fs::remove(dest + "/" + child, ec);
        }
      if (attempt == kMaxAttempts) {
        report->notes.push_back(from + " kept changing during the backup; its files are as of the last copy");
        break;
      }
      report->attempts = std::max(report->attempts, attempt + 1);
    }
    for (const auto& [name, type] : entries) {
      const std::string child = rel.empty() ? name : rel + "/" + name;
      if (type == fs::file_type::directory) {
        LATHE_RETURN_IF_ERROR(CopyFolder(child));
      } else if (type == fs::file_type::symlink) {
        report->notes.push_back(data_dir + "/" + child + " is a symbolic link: not copied");
      } else if (type != fs::file_type::regular) {
        report->notes.push_back(data_dir + "/" + child + " is not a file or folder: not copied");
      }
    }
    return Status::Ok();
  }

  // lathe.db through the online backup API, then every blob its S3 rows name. NotFound when a
  // blob went away after the snapshot (the caller starts over).
  Status CopyDatabaseAndBlobs() {
    sqlite3* live = nullptr;
    const std::string db_path = data_dir + "/lathe.db";
    if (sqlite3_open_v2(db_path.c_str(), &live, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
      std::string msg = live ? sqlite3_errmsg(live) : "out of memory";
      sqlite3_close(live);
      return Status::IOError("cannot open " + db_path + ": " + msg);
    }
    sqlite3_busy_timeout(live, 5000);
    Status s = BackupDatabase(live, dest + "/lathe.db");
    sqlite3_close(live);
    LATHE_RETURN_IF_ERROR(s);
    if (auto& hook = BackupAfterSnapshotHookForTesting()) hook(report->attempts, false);
    auto blobs = SnapshotBlobs();
    if (!blobs.ok()) return blobs.status();
    report->objects = blobs->size();
    // Each blob is pinned first by a hard link in s3/tmp/ (microseconds each), copied after: the
    // server deleting a blob (an overwrite, a DeleteObject) can only make the backup start over
    // in that short window, not during the long copy. A link's bytes stay whatever the server does
    // with the name; the links go at the end, or at the server's next start (s3/tmp is emptied).
    BlobPins pins{data_dir, data_dir + "/s3/tmp/backup-" + std::to_string(::getpid()) + "-", {}};
    for (const std::string& id : *blobs) LATHE_RETURN_IF_ERROR(pins.Pin(id));
    if (auto& hook = BackupAfterSnapshotHookForTesting()) hook(report->attempts, true);
    FileEntry e;
    // The snapshot gets the live file's permission bits, as every other copy does.
    struct stat st {};
    e.mode = ::stat(db_path.c_str(), &st) == 0 ? st.st_mode & 0777 : 0600;
    if (::chmod((dest + "/lathe.db").c_str(), e.mode) != 0) return Status::IOError("cannot chmod " + dest + "/lathe.db");
    LATHE_RETURN_IF_ERROR(Env::Default()->GetFileSize(dest + "/lathe.db", &e.size));
    LATHE_RETURN_IF_ERROR(Sha256File(Env::Default(), dest + "/lathe.db", &e.sha256));
    files["lathe.db"] = e;
    for (const std::string& id : *blobs) {
      LATHE_RETURN_IF_ERROR(backup_internal::MakeDirs(dest + "/s3/blobs/" + id.substr(0, 2), 0755));
      LATHE_RETURN_IF_ERROR(backup_internal::CopyFileHashed(pins.PathOf(id), dest + "/" + BlobPath(id), &e));
      files[BlobPath(id)] = e;
    }
    return Status::Ok();
  }

  static std::string BlobPath(const std::string& id) { return "s3/blobs/" + id.substr(0, 2) + "/" + id; }

  // The blobs the snapshot's S3 rows name (objects, not delete markers, and multipart parts).
  Result<std::vector<std::string>> SnapshotBlobs() {
    sqlite3* snap = nullptr;
    if (sqlite3_open_v2((dest + "/lathe.db").c_str(), &snap, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      sqlite3_close(snap);
      return Status::IOError("cannot read the snapshot " + dest + "/lathe.db");
    }
    auto version = SchemaVersion(snap);
    report->schema_version = version.ok() ? *version : 0;
    std::vector<std::string> blobs;
    sqlite3_stmt* q = nullptr;
    // A snapshot from before S3 existed has no such tables: no blobs.
    if (sqlite3_prepare_v2(snap, "SELECT blob FROM s3_objects WHERE delete_marker = 0 UNION SELECT blob FROM s3_parts",
                           -1, &q, nullptr) == SQLITE_OK) {
      while (sqlite3_step(q) == SQLITE_ROW) {
        const unsigned char* t = sqlite3_column_text(q, 0);
        // Not blob-shaped: not lathe's, never made into a path.
        if (t && BlobStore::IsBlobId(reinterpret_cast<const char*>(t))) blobs.emplace_back(reinterpret_cast<const char*>(t));
      }
    }
    sqlite3_finalize(q);
    sqlite3_close(snap);
    return blobs;
  }

  // Hard links to the snapshot's blobs, removed when done.
  struct BlobPins {
    std::string data_dir, prefix;  // prefix: DATA_DIR/s3/tmp/backup-PID-
    std::set<std::string> linked;  // ids; the others (no hard link made) are copied by name
    ~BlobPins() {
      for (const std::string& id : linked) ::unlink((prefix + id).c_str());
    }
    Status Pin(const std::string& id) {
      const std::string blob = data_dir + "/" + BlobPath(id), pin = prefix + id;
      // A killed backup's pin under this process id: the same immutable bytes; replaced.
      ::unlink(pin.c_str());
      if (::link(blob.c_str(), pin.c_str()) == 0) {
        linked.insert(id);
        return Status::Ok();
      }
      const int err = errno;
      struct stat st {};
      if (err == ENOENT && ::stat(blob.c_str(), &st) != 0) return Status::NotFound(blob + " went away after the snapshot");
      return Status::Ok();  // no s3/tmp, or a file system without hard links: copied by name
    }
    std::string PathOf(const std::string& id) const {
      return linked.count(id) ? prefix + id : data_dir + "/" + BlobPath(id);
    }
  };
};

std::string NowIso() {
  char buf[32];
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

std::function<void(int, bool)>& BackupAfterSnapshotHookForTesting() {
  static std::function<void(int, bool)> hook;
  return hook;
}

std::function<void(const std::string&)>& BackupAfterFolderCopyHookForTesting() {
  static std::function<void(const std::string&)> hook;
  return hook;
}

Result<BackupReport> BackupDataDir(const std::string& data_dir_in, const std::string& dest_in,
                                   const std::string& lathe_version) {
  std::error_code ec;
  const std::string data_dir = fs::weakly_canonical(data_dir_in, ec).string();
  const std::string dest = fs::weakly_canonical(dest_in, ec).string();
  if (!fs::exists(data_dir + "/lathe.db", ec))
    return Status::NotFound("no lathe.db in " + data_dir + " (is --data-dir right? `lathe serve` creates it)");
  if (dest == data_dir || dest.rfind(data_dir + "/", 0) == 0)
    return Status::InvalidArgument("the backup folder " + dest + " is inside the data directory " + data_dir +
                                   "; give a folder outside it (better: on another disk)");
  LATHE_RETURN_IF_ERROR(backup_internal::CheckEmptyTarget(dest, "the backup folder"));
  auto layout = ReadDataLayoutVersion(data_dir);
  if (!layout.ok()) return layout.status();

  BackupReport report;
  report.layout_version = *layout == 0 ? 1 : *layout;  // no file: a 0.1 directory, layout 1
  Copier copier{data_dir, dest, {}, &report};
  for (int attempt = 1;; ++attempt) {
    copier.files.clear();
    fs::remove_all(dest, ec);
    LATHE_RETURN_IF_ERROR(backup_internal::MakeDirs(dest, 0700));
    Status s = copier.CopyDatabaseAndBlobs();
    if (s.ok()) break;
    if (s.code() != Status::Code::kNotFound || attempt == kMaxAttempts) return s;
    report.attempts = attempt + 1;  // an object of the snapshot was deleted before its bytes were copied
  }
  LATHE_RETURN_IF_ERROR(copier.CopyFolder(""));

  nlohmann::json manifest = {{"format", backup_internal::kManifestFormat},
                             {"formatVersion", backup_internal::kManifestFormatVersion},
                             {"lathe", lathe_version},
                             {"createdAt", NowIso()},
                             {"sourceDataDir", data_dir},
                             {"schemaVersion", report.schema_version},
                             {"layoutVersion", report.layout_version},
                             {"files", nlohmann::json::array()}};
  for (const auto& [path, e] : copier.files) {
    manifest["files"].push_back({{"path", path}, {"size", e.size}, {"sha256", e.sha256}, {"mode", e.mode}});
    report.bytes += e.size;
  }
  report.files = copier.files.size();
  LATHE_RETURN_IF_ERROR(WriteFileAtomically(Env::Default(), dest + "/" + backup_internal::kManifestName,
                                            manifest.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"));
  return report;
}

}  // namespace lathe::store
