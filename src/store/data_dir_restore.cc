// RestoreDataDir (data_dir_backup.h): checked file by file into a staging folder (beside a new
// target, inside an existing empty one), paths rewritten, moved into place.
#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/env.h"
#include "store/data_dir_backup.h"
#include "store/data_dir_copy.h"
#include "store/data_layout.h"
#include "store/migrations.h"

namespace lathe::store {
namespace {

using backup_internal::FileEntry;
namespace fs = std::filesystem;

// A manifest lists every file; a million files is about 150 MB of JSON.
constexpr uint64_t kMaxManifestBytes = 512ull << 20;

// The staging folder inside an existing target (see RestoreDataDir).
constexpr const char* kStagingInside = ".restoring";

// Strings equal to `from` or under it ("from/...") become `to`'s; returns whether any changed.
bool RewritePaths(nlohmann::json& j, const std::string& from, const std::string& to) {
  bool changed = false;
  if (j.is_string()) {
    const std::string& s = j.get_ref<const std::string&>();
    if (s == from || (s.size() > from.size() && s.compare(0, from.size(), from) == 0 && s[from.size()] == '/')) {
      j = to + s.substr(from.size());
      changed = true;
    }
  } else if (j.is_structured()) {
    for (auto& v : j) changed = RewritePaths(v, from, to) || changed;
  }
  return changed;
}

// Closes the database on every path out.
struct Db {
  sqlite3* db = nullptr;
  ~Db() { sqlite3_close(db); }
};

// Documents (lathe.db's resources) hold absolute paths into the data directory: a job's model
// folder, an imported model's, a function's code. They follow the data to its new place. First
// the file is checked to be the database the manifest describes (a SQLite file of its schema
// version): Corruption otherwise, as for a file that does not match its SHA-256.
Result<size_t> CheckAndRewriteDatabase(const std::string& db_path, int schema_version, const std::string& from,
                                       const std::string& to) {
  Db handle;
  if (sqlite3_open_v2(db_path.c_str(), &handle.db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK)
    return Status::IOError("cannot open the restored " + db_path);
  sqlite3* db = handle.db;
  auto version = SchemaVersion(db);
  if (!version.ok())
    return Status::Corruption("the backup's lathe.db is not a SQLite database (" + version.status().message() +
                              "): the backup is damaged; nothing was restored");
  if (*version != schema_version)
    return Status::Corruption("the backup's lathe.db has schema version " + std::to_string(*version) +
                              ", its manifest says " + std::to_string(schema_version) +
                              ": the backup is damaged; nothing was restored");
  if (from == to) return size_t{0};
  std::vector<std::tuple<std::string, std::string, std::string>> updates;  // kind, id, doc
  sqlite3_stmt* q = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT kind, id, doc FROM resources WHERE instr(doc, ?) > 0", -1, &q, nullptr) != SQLITE_OK)
    return Status::Corruption("the backup's lathe.db has no resources table (" + std::string(sqlite3_errmsg(db)) +
                              "): not a lathe database; nothing was restored");
  sqlite3_bind_text(q, 1, from.c_str(), static_cast<int>(from.size()), SQLITE_TRANSIENT);
  while (sqlite3_step(q) == SQLITE_ROW) {
    auto text = [&](int c) { return std::string(reinterpret_cast<const char*>(sqlite3_column_text(q, c))); };
    nlohmann::json doc = nlohmann::json::parse(text(2), nullptr, false);
    if (!doc.is_discarded() && RewritePaths(doc, from, to))
      updates.emplace_back(text(0), text(1), doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  sqlite3_finalize(q);
  bool ok = sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr) == SQLITE_OK;
  for (const auto& u : updates) {
    sqlite3_stmt* w = nullptr;
    ok = ok && sqlite3_prepare_v2(db, "UPDATE resources SET doc = ? WHERE kind = ? AND id = ?", -1, &w, nullptr) == SQLITE_OK;
    if (ok) {
      sqlite3_bind_text(w, 1, std::get<2>(u).c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(w, 2, std::get<0>(u).c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(w, 3, std::get<1>(u).c_str(), -1, SQLITE_TRANSIENT);
      ok = sqlite3_step(w) == SQLITE_DONE;
    }
    sqlite3_finalize(w);
  }
  ok = ok && sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK;
  const std::string err = sqlite3_errmsg(db);
  if (!ok) return Status::IOError("cannot rewrite the data directory's paths in " + db_path + ": " + err);
  return updates.size();
}

Result<nlohmann::json> ReadManifest(const std::string& backup) {
  const std::string path = backup + "/" + backup_internal::kManifestName;
  Env* env = Env::Default();
  uint64_t size = 0;
  if (!env->FileExists(path))
    return Status::NotFound(backup + " has no " + backup_internal::kManifestName +
                            ": it is not a lathe backup, or one that did not finish (the manifest is written last)");
  LATHE_RETURN_IF_ERROR(env->GetFileSize(path, &size));
  if (size > kMaxManifestBytes) return Status::InvalidArgument(path + " is larger than any lathe manifest (512 MiB)");
  std::string text;
  LATHE_RETURN_IF_ERROR(ReadFileToString(env, path, &text));
  nlohmann::json m = nlohmann::json::parse(text, nullptr, false);
  auto bad = [&](const std::string& why) { return Status::Corruption(path + ": " + why + "; not a lathe backup manifest"); };
  if (m.is_discarded() || !m.is_object()) return bad("not JSON");
  if (m.value("format", "") != backup_internal::kManifestFormat) return bad("format is not \"lathe-backup\"");
  if (!m.contains("formatVersion") || !m["formatVersion"].is_number_integer()) return bad("no formatVersion");
  if (m["formatVersion"].get<int>() > backup_internal::kManifestFormatVersion)
    return Status::Unsupported(path + " is format " + m["formatVersion"].dump() + ", made by a newer lathe (" +
                               m.value("lathe", "?") + "); restore it with that lathe or a later one");
  for (const char* key : {"schemaVersion", "layoutVersion"})
    if (!m.contains(key) || !m[key].is_number_integer()) return bad(std::string("no ") + key);
  if (!m.contains("sourceDataDir") || !m["sourceDataDir"].is_string()) return bad("no sourceDataDir");
  if (!m.contains("files") || !m["files"].is_array()) return bad("no files");
  for (const auto& f : m["files"]) {
    if (!f.is_object() || !f.contains("path") || !f["path"].is_string() || !f.contains("size") ||
        !f["size"].is_number_unsigned() || !f.contains("sha256") || !f["sha256"].is_string())
      return bad("a file entry lacks path, size or sha256");
    // Optional (added in 0.2.0's s3:// backups; older manifests lack it): permission bits only.
    if (f.contains("mode") && (!f["mode"].is_number_unsigned() || f["mode"].get<uint64_t>() > 0777))
      return bad("a file's mode is not permission bits (0 to 0777)");
    if (!backup_internal::IsSafeRelativePath(f["path"].get<std::string>()))
      return bad("a file path is absolute, empty or climbs out with \"..\"");
  }
  return m;
}

// Creates the folders of `rel`'s path below `staging`, each level with the mode of its counterpart
// in the backup (0700 for lambda/, tls/ ...), 0700 where that cannot be read.
Status MakeFoldersLike(const std::string& backup, const std::string& staging, const std::string& rel) {
  std::string sub;
  for (const auto& part : fs::path(rel).parent_path()) {
    sub += (sub.empty() ? "" : "/") + part.string();
    struct stat st {};
    const unsigned mode = ::stat((backup + "/" + sub).c_str(), &st) == 0 ? st.st_mode & 07777 : 0700;
    LATHE_RETURN_IF_ERROR(backup_internal::MakeDirs(staging + "/" + sub, mode));
  }
  return Status::Ok();
}

// Moves the staging folder's entries up into the existing target, lathe.db last: a restore stopped
// midway never leaves a folder a server would take for a data directory.
Status MoveEntriesUp(const std::string& staging, const std::string& data_dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(staging, ec), end; !ec && it != end; it.increment(ec))
    names.push_back(it->path().filename().string());
  if (ec) return Status::IOError("cannot list " + staging + ": " + ec.message());
  std::stable_partition(names.begin(), names.end(), [](const std::string& n) { return n != "lathe.db"; });
  for (const std::string& name : names) {
    fs::rename(staging + "/" + name, data_dir + "/" + name, ec);
    if (ec)
      return Status::IOError("cannot move " + staging + "/" + name + " into " + data_dir + ": " + ec.message() +
                             "; the restore stopped midway: empty " + data_dir + " and run it again");
  }
  fs::remove(staging, ec);
  return Status::Ok();
}

}  // namespace

Result<std::vector<std::string>> BackupManifestFiles(const std::string& backup) {
  auto manifest = ReadManifest(backup);
  if (!manifest.ok()) return manifest.status();
  std::vector<std::string> files;
  for (const auto& f : (*manifest)["files"]) files.push_back(f["path"].get<std::string>());
  return files;
}

Result<RestoreReport> RestoreDataDir(const std::string& backup_in, const std::string& data_dir_in) {
  std::error_code ec;
  const std::string backup = backup_internal::CanonicalFolder(backup_in);
  const std::string data_dir = backup_internal::CanonicalFolder(data_dir_in);
  // A new target is staged beside it and renamed into place when whole: an interrupted restore
  // never looks like a data directory. An existing (empty) one may be a mount point, whose
  // parent is another disk (too small, and a rename across disks fails): staged inside it, on
  // its own disk, and the entries moved up at the end.
  const bool target_exists = fs::is_directory(fs::symlink_status(data_dir, ec));
  const std::string staging = target_exists ? data_dir + "/" + kStagingInside : data_dir + ".restoring";
  if (fs::exists(fs::symlink_status(staging, ec)))
    return Status::AlreadyExists(staging + " exists (an interrupted restore left it?); remove it and run restore again");
  LATHE_RETURN_IF_ERROR(backup_internal::CheckEmptyTarget(data_dir, "the data directory"));
  auto manifest = ReadManifest(backup);
  if (!manifest.ok()) return manifest.status();
  const nlohmann::json& m = *manifest;
  RestoreReport report;
  report.source_data_dir = m["sourceDataDir"].get<std::string>();
  report.lathe_version = m.value("lathe", "");
  report.schema_version = m["schemaVersion"].get<int>();
  if (report.schema_version > LatheDbSchemaVersion())
    return Status::Unsupported("the backup's lathe.db has schema version " + std::to_string(report.schema_version) +
                               ", newer than this lathe knows (up to " + std::to_string(LatheDbSchemaVersion()) +
                               "); restore it with the lathe that made it (" + report.lathe_version + ") or a later one");
  if (m["layoutVersion"].get<int>() > DataLayoutVersion())
    return Status::Unsupported("the backup's data directory layout is version " + m["layoutVersion"].dump() +
                               ", newer than this lathe knows (up to " + std::to_string(DataLayoutVersion()) + ")");

  LATHE_RETURN_IF_ERROR(backup_internal::MakeDirs(staging, 0700));
  auto fail = [&](Status s) {
    fs::remove_all(staging, ec);
    return s;
  };
  for (const auto& f : m["files"]) {
    const std::string rel = f["path"].get<std::string>();
    const std::string to = staging + "/" + rel;
    // Folders get the backup's modes (0700 for lambda/, tls/ ...), files theirs (0600 keys).
    Status made = MakeFoldersLike(backup, staging, rel);
    if (!made.ok()) return fail(made);
    FileEntry e;
    Status s = backup_internal::CopyFileHashed(backup + "/" + rel, to, &e);
    if (!s.ok()) return fail(s.code() == Status::Code::kNotFound ? Status::Corruption(backup + "/" + rel + " is missing from the backup") : s);
    if (e.size != f["size"].get<uint64_t>() || e.sha256 != f["sha256"].get<std::string>())
      return fail(Status::Corruption(backup + "/" + rel + " does not match the manifest (size or SHA-256): the backup is "
                                     "damaged; nothing was restored"));
    // The manifest's mode wins over the copy's: a backup carried through S3 lost its modes.
    if (f.contains("mode") && ::chmod(to.c_str(), f["mode"].get<unsigned>()) != 0)
      return fail(Status::IOError("cannot chmod " + to));
    ++report.files;
    report.bytes += e.size;
  }
  if (!fs::exists(staging + "/lathe.db", ec)) return fail(Status::Corruption(backup + " holds no lathe.db"));
  auto rewritten = CheckAndRewriteDatabase(staging + "/lathe.db", report.schema_version, report.source_data_dir, data_dir);
  if (!rewritten.ok()) return fail(rewritten.status());
  report.paths_rewritten = *rewritten;
  if (target_exists) {
    Status moved = MoveEntriesUp(staging, data_dir);
    if (!moved.ok()) return fail(moved);
    (void)Env::Default()->SyncDir(data_dir);
    return report;
  }
  fs::rename(staging, data_dir, ec);
  if (ec) return fail(Status::IOError("cannot rename " + staging + " to " + data_dir + ": " + ec.message()));
  (void)Env::Default()->SyncDir(fs::path(data_dir).parent_path().string());
  return report;
}

}  // namespace lathe::store
