// RestoreDataDir (data_dir_backup.h): checked file by file into a folder beside the target,
// paths rewritten, renamed into place.
#include <sqlite3.h>
#include <sys/stat.h>

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

// Documents (lathe.db's resources) hold absolute paths into the data directory: a job's model
// folder, an imported model's, a function's code. They follow the data to its new place.
Result<size_t> RewriteDocumentPaths(const std::string& db_path, const std::string& from, const std::string& to) {
  if (from == to) return size_t{0};
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return Status::IOError("cannot open the restored " + db_path);
  }
  std::vector<std::tuple<std::string, std::string, std::string>> updates;  // kind, id, doc
  sqlite3_stmt* q = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT kind, id, doc FROM resources WHERE instr(doc, ?) > 0", -1, &q, nullptr) == SQLITE_OK) {
    sqlite3_bind_text(q, 1, from.c_str(), static_cast<int>(from.size()), SQLITE_TRANSIENT);
    while (sqlite3_step(q) == SQLITE_ROW) {
      auto text = [&](int c) { return std::string(reinterpret_cast<const char*>(sqlite3_column_text(q, c))); };
      nlohmann::json doc = nlohmann::json::parse(text(2), nullptr, false);
      if (!doc.is_discarded() && RewritePaths(doc, from, to))
        updates.emplace_back(text(0), text(1), doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
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
  sqlite3_close(db);
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
  const std::string backup = fs::weakly_canonical(backup_in, ec).string();
  const std::string data_dir = fs::weakly_canonical(data_dir_in, ec).string();
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

  // Written beside the target and renamed when whole: an interrupted restore never looks like a
  // data directory.
  const std::string staging = data_dir + ".restoring";
  if (fs::exists(fs::symlink_status(staging, ec)))
    return Status::AlreadyExists(staging + " exists (an interrupted restore left it?); remove it and run restore again");
  LATHE_RETURN_IF_ERROR(backup_internal::MakeDirs(staging, 0700));
  auto fail = [&](Status s) {
    fs::remove_all(staging, ec);
    return s;
  };
  for (const auto& f : m["files"]) {
    const std::string rel = f["path"].get<std::string>();
    const std::string to = staging + "/" + rel;
    const fs::path parent = fs::path(to).parent_path();
    // Folders get the backup's modes (0700 for lambda/, tls/ ...), files theirs (0600 keys).
    struct stat st {};
    const std::string from_parent = fs::path(backup + "/" + rel).parent_path().string();
    Status made = backup_internal::MakeDirs(parent.string(), ::stat(from_parent.c_str(), &st) == 0 ? st.st_mode & 07777 : 0755);
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
  auto rewritten = RewriteDocumentPaths(staging + "/lathe.db", report.source_data_dir, data_dir);
  if (!rewritten.ok()) return fail(rewritten.status());
  report.paths_rewritten = *rewritten;
  if (fs::exists(data_dir, ec)) fs::remove(data_dir, ec);  // empty, checked above
  fs::rename(staging, data_dir, ec);
  if (ec) return fail(Status::IOError("cannot rename " + staging + " to " + data_dir + ": " + ec.message()));
  (void)Env::Default()->SyncDir(fs::path(data_dir).parent_path().string());
  return report;
}

}  // namespace lathe::store
