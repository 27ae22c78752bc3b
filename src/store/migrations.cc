// The migration runner (migrations.h): backup beside the file, then one transaction.
#include "store/migrations.h"

#include <sqlite3.h>

#include <cstdio>
#include <ctime>
#include <filesystem>

namespace lathe::store {
namespace {

Status SqlError(sqlite3* db, const std::string& path, const std::string& what) {
  return Status::IOError(path + ": " + what + ": " + sqlite3_errmsg(db));
}

Result<int64_t> QueryInt(sqlite3* db, const char* sql, const std::string& path) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) != SQLITE_OK) return SqlError(db, path, sql);
  const int rc = sqlite3_step(stmt);
  const int64_t v = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
  sqlite3_finalize(stmt);
  if (rc != SQLITE_ROW) return SqlError(db, path, sql);
  return v;
}

Status Exec(sqlite3* db, const std::string& sql, const std::string& path, const std::string& what) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db);
    sqlite3_free(err);
    return Status::IOError(path + ": " + what + ": " + msg);
  }
  return Status::Ok();
}

Status TooNew(const std::string& path, int found, int known) {
  return Status::Unsupported(
      path + " has schema version " + std::to_string(found) + ", but this lathe knows versions up to " +
      std::to_string(known) + ": a newer lathe wrote it, and this one would misread it. Run that newer lathe "
      "(or a later one), or restore the backup the upgrade left beside it (" + path + ".backup-v" +
      std::to_string(known) + "-*, if any); the file was not changed");
}

// lathe.db.backup-v1-20261203T052600Z, made unique with -2, -3, ... within the same second.
std::string BackupPathFor(const std::string& path, int version) {
  char stamp[32];
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
  const std::string base = path + ".backup-v" + std::to_string(version) + "-" + stamp;
  std::string candidate = base;
  std::error_code ec;
  for (int i = 2; std::filesystem::exists(candidate, ec); ++i) candidate = base + "-" + std::to_string(i);
  return candidate;
}

Status CheckOrder(const std::vector<Migration>& migrations) {
  for (size_t i = 0; i < migrations.size(); ++i)
    if (migrations[i].version != static_cast<int>(i) + 1)
      return Status::Internal("schema migrations must be numbered 1, 2, 3, ... in order; entry " +
                              std::to_string(i) + " is version " + std::to_string(migrations[i].version));
  return Status::Ok();
}

}  // namespace

std::function<void(int)>& MigrationStepHookForTesting() {
  static std::function<void(int)> hook;
  return hook;
}

Result<int> SchemaVersion(sqlite3* db) {
  auto v = QueryInt(db, "PRAGMA user_version", sqlite3_db_filename(db, "main") ? sqlite3_db_filename(db, "main") : "");
  if (!v.ok()) return v.status();
  return static_cast<int>(*v);
}

Status BackupDatabase(sqlite3* from, const std::string& to_path) {
  // Written under a temporary name and renamed: a crash never leaves a half backup that looks whole.
  const std::string tmp = to_path + ".tmp";
  std::error_code ec;
  std::filesystem::remove(tmp, ec);
  sqlite3* to = nullptr;
  if (sqlite3_open_v2(tmp.c_str(), &to, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
    Status s = Status::IOError("cannot create " + tmp + ": " + (to ? sqlite3_errmsg(to) : "out of memory"));
    sqlite3_close(to);
    return s;
  }
  Status result = Status::Ok();
  sqlite3_backup* backup = sqlite3_backup_init(to, "main", from, "main");
  if (!backup) {
    result = Status::IOError("cannot back up to " + tmp + ": " + sqlite3_errmsg(to));
  } else {
    // One step copies every page under one read transaction: a consistent snapshot; writers in
    // WAL mode go on meanwhile. BUSY/LOCKED (a writer mid-checkpoint) are retried a while.
    int rc;
    for (int tries = 0; (rc = sqlite3_backup_step(backup, -1)) == SQLITE_BUSY || rc == SQLITE_LOCKED; ++tries) {
      if (tries >= 200) break;
      sqlite3_sleep(25);
    }
    sqlite3_backup_finish(backup);
    if (rc != SQLITE_DONE) result = Status::IOError("cannot back up to " + tmp + ": " + sqlite3_errstr(rc));
    // One self-contained file (the source's WAL mode is in the pages copied): a copy that needs
    // no -wal or -shm beside it, readable from a read-only medium.
    else if (sqlite3_exec(to, "PRAGMA journal_mode=DELETE", nullptr, nullptr, nullptr) != SQLITE_OK)
      result = Status::IOError("cannot finish the backup " + tmp + ": " + sqlite3_errmsg(to));
  }
  if (result.ok() && sqlite3_close(to) != SQLITE_OK) result = Status::IOError("cannot close " + tmp);
  else if (!result.ok()) sqlite3_close(to);
  if (result.ok()) {
    std::filesystem::rename(tmp, to_path, ec);
    if (ec) result = Status::IOError("cannot rename " + tmp + " to " + to_path + ": " + ec.message());
  }
  if (!result.ok()) std::filesystem::remove(tmp, ec);
  return result;
}

Result<MigrationReport> MigrateDatabase(sqlite3* db, const std::string& path, const std::vector<Migration>& migrations) {
  LATHE_RETURN_IF_ERROR(CheckOrder(migrations));
  const int latest = static_cast<int>(migrations.size());
  auto found = QueryInt(db, "PRAGMA user_version", path);
  if (!found.ok()) return found.status();
  MigrationReport report;
  report.from = report.to = static_cast<int>(*found);
  if (report.from > latest) return TooNew(path, report.from, latest);
  if (report.from == latest) return report;

  // A file with tables is someone's data: copy it first. A new, empty one has nothing to lose.
  auto tables = QueryInt(db, "SELECT count(*) FROM sqlite_master", path);
  if (!tables.ok()) return tables.status();
  if (*tables > 0 && path != ":memory:" && !path.empty()) {
    report.backup_path = BackupPathFor(path, report.from);
    Status backed_up = BackupDatabase(db, report.backup_path);
    if (!backed_up.ok())
      return Status::IOError("before upgrading " + path + " from schema version " + std::to_string(report.from) +
                             " to " + std::to_string(latest) + ", its backup failed (" + backed_up.message() +
                             "); nothing was changed. Free disk space beside it and start again");
  }

  LATHE_RETURN_IF_ERROR(Exec(db, "BEGIN IMMEDIATE", path, "begin the schema upgrade"));
  auto fail = [&](Status s) {
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    return s;
  };
  // Read again inside the transaction: another process (lathe serve and `lathe registry` open
  // the same file) may have upgraded it since.
  auto current = QueryInt(db, "PRAGMA user_version", path);
  if (!current.ok()) return fail(current.status());
  if (*current > latest) return fail(TooNew(path, static_cast<int>(*current), latest));
  for (const Migration& m : migrations) {
    if (m.version <= *current) continue;
    Status s = Exec(db, m.sql, path, "schema migration " + std::to_string(m.version) + " (" + m.summary + ")");
    if (!s.ok()) return fail(s);
    if (auto& hook = MigrationStepHookForTesting()) hook(m.version);
  }
  Status s = Exec(db, "PRAGMA user_version = " + std::to_string(latest), path, "record the schema version");
  if (!s.ok()) return fail(s);
  s = Exec(db, "COMMIT", path, "commit the schema upgrade");
  if (!s.ok()) return fail(s);
  report.to = latest;
  return report;
}

}  // namespace lathe::store
