// `lathe doctor`: the data directory's side — free disk, permissions, lathe.db's schema and
// integrity (a shared store's schema version), the layout version, the models (doctor_checks.h).
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <filesystem>

#include "cli/doctor_checks.h"
#include "cli/store_choice.h"
#include "engine/default_model.h"
#include "service/service_config.h"
#include "store/data_layout.h"
#include "store/migrations.h"
#include "store/sql_db.h"

namespace lathe::cli {
namespace {

using Level = Finding::Level;

std::string Gib(double bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f GiB", bytes / (1024.0 * 1024 * 1024));
  return buf;
}

std::string Octal(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

// A secret (keys, the CA's key): readable by its owner only.
void CheckSecret(const std::string& path, const char* what, std::vector<Finding>& out) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return;  // made at first use, 0600
  if (st.st_mode & 077) {
    out.push_back({Level::kError, "permissions", path + " (" + what + ") has mode " + Octal(st.st_mode) +
                                                     ": other users can read it",
                   "chmod 600 " + path + (std::string(what) == "the server's access keys"
                                              ? " and, since others may have read them, replace the keys (delete the "
                                                "file: lathe serve makes new ones) and reconfigure clients"
                                              : "")});
  } else if (st.st_uid != ::geteuid()) {
    out.push_back({Level::kWarning, "permissions", path + " belongs to uid " + std::to_string(st.st_uid) +
                                                       ", not to this user (" + std::to_string(::geteuid()) + ")",
                   "run lathe as the user that owns the data directory (the service's: "
                   "sudo -u lathe lathe doctor --data-dir /var/lib/lathe)"});
  } else {
    out.push_back({Level::kOk, "permissions", path + " (" + what + ") is " + Octal(st.st_mode) + ", the owner's only", ""});
  }
}

// Custom and imported models whose folder (with its config.json) is gone: what a restore of a
// backup taken while such a model was being deleted holds (its row is in the snapshot, its files
// were deleted before they were copied; docs/operations.md#backup-and-restore).
void CheckModelFolders(sqlite3* db, std::vector<Finding>& out) {
  sqlite3_stmt* q = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT name, json_extract(doc, '$._dir') FROM resources WHERE kind IN "
                             "('custom-model', 'imported-model') AND json_valid(doc) ORDER BY name", -1, &q, nullptr) != SQLITE_OK)
    return;  // no resources table: nothing to check
  size_t checked = 0;
  std::vector<std::string> missing;
  while (sqlite3_step(q) == SQLITE_ROW) {
    const unsigned char* name = sqlite3_column_text(q, 0);
    const unsigned char* dir = sqlite3_column_text(q, 1);
    if (!name || !dir || !*dir) continue;
    ++checked;
    const std::string folder = reinterpret_cast<const char*>(dir);
    std::error_code ec;
    if (!std::filesystem::exists(folder + "/config.json", ec))
      missing.push_back(std::string(reinterpret_cast<const char*>(name)) + " -> " + folder);
  }
  sqlite3_finalize(q);
  if (missing.empty()) {
    if (checked) out.push_back({Level::kOk, "model", std::to_string(checked) + " custom/imported model folder(s) present", ""});
    return;
  }
  std::string what = std::to_string(missing.size()) + " model(s) listed in lathe.db have no files (no config.json):";
  for (size_t i = 0; i < missing.size() && i < 5; ++i) what += "\n    " + missing[i];
  out.push_back({Level::kError, "model", what,
                 "restore the data directory from another backup, or delete those models (aws bedrock "
                 "delete-custom-model / delete-imported-model): a backup taken while a model was being deleted "
                 "can list it without its files"});
}

}  // namespace

std::vector<Finding> CheckDataDirectory(const DoctorOptions& o) {
  std::vector<Finding> out;
  std::error_code ec;
  if (!std::filesystem::is_directory(o.data_dir, ec)) {
    out.push_back({Level::kInfo, "data", o.data_dir + " does not exist yet: lathe serve creates it", ""});
    return out;
  }
  if (::access(o.data_dir.c_str(), W_OK | X_OK) != 0) {
    out.push_back({Level::kError, "data", o.data_dir + " is not writable by this user",
                   "lathe serve writes its database, jobs and models there: chown it to the user lathe runs as, or "
                   "pass another --data-dir"});
  } else {
    out.push_back({Level::kOk, "data", o.data_dir + " exists and is writable", ""});
  }
  struct statvfs vfs {};
  if (::statvfs(o.data_dir.c_str(), &vfs) == 0) {
    const double free_bytes = static_cast<double>(vfs.f_bavail) * vfs.f_frsize;
    const std::string what = Gib(free_bytes) + " free on the file system of " + o.data_dir;
    const std::string fix = "fine-tuning writes checkpoints and merged models (several times a model's size): free "
                            "space, or move the data directory to a larger disk (lathe backup / restore)";
    if (free_bytes < 1.0 * (1ull << 30)) out.push_back({Level::kError, "disk", what, fix});
    else if (free_bytes < 10.0 * (1ull << 30)) out.push_back({Level::kWarning, "disk", what, fix});
    else out.push_back({Level::kOk, "disk", what, ""});
  }
  struct stat st {};
  if (::stat(o.data_dir.c_str(), &st) == 0 && (st.st_mode & S_IWOTH))
    out.push_back({Level::kError, "permissions", o.data_dir + " has mode " + Octal(st.st_mode) + ": anyone can write in it",
                   "chmod o-w " + o.data_dir});
  CheckSecret(o.data_dir + "/credentials.json", "the server's access keys", out);
  CheckSecret(o.data_dir + "/tls/ca-key.pem", "the local CA's private key", out);
  CheckSecret(o.data_dir + "/sns/signing-key.pem", "SNS's message-signing key", out);
  return out;
}

// A shared PostgreSQL store: its schema version, read without migrating (the doctor changes
// nothing). PostgreSQL keeps its own integrity; there is no PRAGMA integrity_check to run there.
void CheckSharedStore(const ChosenStore& chosen, std::vector<Finding>& out) {
  const std::string where = chosen.shown();
  auto db = store::OpenSqlDb(chosen.location);
  if (!db.ok()) {
    out.push_back({Level::kError, "store", "cannot reach the shared store: " + db.status().message(),
                   "check the URL (--store or the config's \"store\"), that PostgreSQL runs and lets this host in, "
                   "and the password (~/.pgpass or PGPASSWORD)"});
    return;
  }
  store::SqlQuery exists(**db, "SELECT CASE WHEN to_regclass('lathe_schema') IS NULL THEN 0 ELSE 1 END");
  if (exists.Step() != store::SqlQuery::kRow) {
    out.push_back({Level::kError, "store", where + ": " + exists.Error("reading the schema").message(), ""});
    return;
  }
  if (exists.Int(0) == 0) {
    out.push_back({Level::kInfo, "store", where + " has no lathe tables yet: the first lathe serve --store creates them", ""});
    return;
  }
  store::SqlQuery version(**db, "SELECT version FROM lathe_schema");
  if (version.Step() != store::SqlQuery::kRow) {
    out.push_back({Level::kError, "store", where + ": no schema version in its lathe_schema table",
                   "restore the database from its last pg_dump"});
    return;
  }
  const int64_t v = version.Int(0);
  const int known = store::LatheDbSchemaVersion();
  if (v > known) {
    out.push_back({Level::kError, "store", where + " has schema version " + std::to_string(v) +
                                               ", newer than this lathe knows (" + std::to_string(known) + ")",
                   "run the newer lathe that wrote it; lathe serve refuses to start on it"});
  } else if (v < known) {
    out.push_back({Level::kInfo, "store", where + " has schema version " + std::to_string(v) + "; the first lathe "
                                              "serve of this version upgrades it to " + std::to_string(known) +
                                              " (take a pg_dump first: no backup is made)", ""});
  } else {
    out.push_back({Level::kOk, "store", where + " has schema version " + std::to_string(v) + " (this lathe's)", ""});
  }
  out.push_back({Level::kInfo, "store", "a shared PostgreSQL store: no PRAGMA integrity_check (SQLite's) there; "
                                        "PostgreSQL checks its own pages (pg_amcheck), and model folders are not "
                                        "checked against it", ""});
}

std::vector<Finding> CheckStore(const DoctorOptions& o) {
  std::vector<Finding> out;
  auto layout = store::ReadDataLayoutVersion(o.data_dir);
  if (!layout.ok()) {
    out.push_back({Level::kError, "layout", layout.status().message(), ""});
  } else if (*layout > store::DataLayoutVersion()) {
    out.push_back({Level::kError, "layout", "the data directory has layout " + std::to_string(*layout) +
                                                ", newer than this lathe knows (" + std::to_string(store::DataLayoutVersion()) + ")",
                   "run the newer lathe that wrote it"});
  } else if (*layout > 0) {
    out.push_back({Level::kOk, "layout", "data directory layout " + std::to_string(*layout) +
                                             (*layout < store::DataLayoutVersion() ? " (lathe serve upgrades it at start)" : ""), ""});
  }
  auto chosen = ChooseStore({o.store, o.config, o.data_dir});
  if (!chosen.ok()) {
    out.push_back({Level::kError, "store", chosen.status().message(), "fix --store or the config's \"store\""});
    return out;
  }
  if (chosen->shared) {
    CheckSharedStore(*chosen, out);
    return out;
  }
  const std::string& path = chosen->location;
  if (!std::filesystem::exists(path)) {
    out.push_back({Level::kInfo, "store", "no " + path + " yet: lathe serve creates it", ""});
    return out;
  }
  sqlite3* db = nullptr;
  // Read-only, and never migrated: the doctor changes nothing.
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    out.push_back({Level::kError, "store", "cannot open " + path + ": " + (db ? sqlite3_errmsg(db) : "out of memory"),
                   "check its owner and mode (lathe serve's user must read and write it and its folder)"});
    sqlite3_close(db);
    return out;
  }
  sqlite3_busy_timeout(db, 5000);
  auto version = store::SchemaVersion(db);
  const int known = store::LatheDbSchemaVersion();
  if (!version.ok()) {
    out.push_back({Level::kError, "store", path + ": " + version.status().message(),
                   "it is not a SQLite database lathe can read: restore it from a backup (lathe restore)"});
    sqlite3_close(db);
    return out;
  }
  if (*version > known) {
    out.push_back({Level::kError, "store", path + " has schema version " + std::to_string(*version) +
                                               ", newer than this lathe knows (" + std::to_string(known) + ")",
                   "run the newer lathe that wrote it; lathe serve refuses to start on it"});
  } else if (*version < known) {
    out.push_back({Level::kInfo, "store", path + " has schema version " + std::to_string(*version) + "; lathe serve will "
                                              "upgrade it to " + std::to_string(known) + " at start, after a backup beside it", ""});
  } else {
    out.push_back({Level::kOk, "store", path + " has schema version " + std::to_string(*version) + " (this lathe's)", ""});
  }
  std::vector<std::string> problems;
  sqlite3_stmt* q = nullptr;
  int rc = sqlite3_prepare_v2(db, "PRAGMA integrity_check(20)", -1, &q, nullptr);
  while (rc == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
    if (const unsigned char* t = sqlite3_column_text(q, 0)) problems.emplace_back(reinterpret_cast<const char*>(t));
  const std::string err = sqlite3_errmsg(db);
  sqlite3_finalize(q);
  if (problems == std::vector<std::string>{"ok"}) CheckModelFolders(db, out);
  sqlite3_close(db);
  if (problems == std::vector<std::string>{"ok"}) {
    out.push_back({Level::kOk, "store", "PRAGMA integrity_check: ok", ""});
  } else {
    std::string what = "PRAGMA integrity_check found problems in " + path + ":";
    for (size_t i = 0; i < problems.size() && i < 5; ++i) what += "\n    " + problems[i];
    if (problems.empty()) what += " " + err;
    out.push_back({Level::kError, "store", what,
                   "stop lathe serve and restore the latest backup (lathe restore --from BACKUP --data-dir NEW_DIR), or "
                   "the lathe.db.backup-v* an upgrade left beside it"});
  }
  return out;
}

std::vector<Finding> CheckModels(const DoctorOptions& o) {
  std::vector<Finding> out;
  service::ServiceConfig config;
  if (!o.config.empty()) {
    auto loaded = service::LoadServiceConfig(o.config, config);
    if (!loaded.ok()) return {{Level::kError, "config", loaded.status().message(), "fix the config file " + o.config}};
    config = *loaded;
  }
  for (const auto& [id, dir] : config.models) {
    if (std::filesystem::exists(dir + "/config.json")) out.push_back({Level::kOk, "model", id + " -> " + dir, ""});
    else out.push_back({Level::kError, "model", id + " -> " + dir + ": no config.json there",
                        "fix \"models\" in " + o.config + " (a Hugging Face model folder), or import it with `lathe models add`"});
  }
  if (config.models.count("lathe.default-v1")) return out;  // the built-in default is not used
  const engine::DefaultModelStatus status = engine::ReadDefaultModelStatus(o.data_dir);
  if (status.state == "built") {
    out.push_back({Level::kOk, "model", "the default model is built: " + status.dir, ""});
  } else if (status.state == "building") {
    out.push_back({Level::kInfo, "model", "the default model is being built (" + status.dir + ")", ""});
  } else {
    out.push_back({Level::kWarning, "model", "the default model is " + status.state + " in " + o.data_dir +
                                                 ": the first job or InvokeModel on it waits for its build (a few minutes)",
                   "lathe models build-default --data-dir " + o.data_dir + " (no download), or map lathe.default-v1 to a "
                   "model you have in the config's \"models\""});
  }
  return out;
}

}  // namespace lathe::cli
