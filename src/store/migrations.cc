// The migration runner (migrations.h): backup beside the file, then one transaction.
#include "store/migrations.h"

#include "store/sql_db.h"

#include <sqlite3.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <vector>

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

namespace {

// SQLite's message, with the operating system's reason when it has one ("unable to open database
// file (Permission denied)"); *disk_full when that reason is a full disk.
std::string Why(sqlite3* db, int rc, bool* disk_full) {
  std::string why = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  const int err = db ? sqlite3_system_errno(db) : 0;
  if (err != 0) why += std::string(" (") + std::strerror(err) + ")";
  if (rc == SQLITE_FULL || err == ENOSPC || err == EDQUOT) *disk_full = true;
  return why;
}

Status CopyDatabase(sqlite3* from, const std::string& to_path, bool* disk_full) {
  // Written under a temporary name and renamed: a crash never leaves a half backup that looks whole.
  const std::string tmp = to_path + ".tmp";
  std::error_code ec;
  std::filesystem::remove(tmp, ec);
  sqlite3* to = nullptr;
  int rc = sqlite3_open_v2(tmp.c_str(), &to, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc != SQLITE_OK) {
    Status s = Status::IOError("cannot create " + tmp + ": " + Why(to, rc, disk_full));
    sqlite3_close(to);
    return s;
  }
  Status result = Status::Ok();
  sqlite3_backup* backup = sqlite3_backup_init(to, "main", from, "main");
  if (!backup) {
    result = Status::IOError("cannot back up to " + tmp + ": " + Why(to, sqlite3_errcode(to), disk_full));
  } else {
    // One step copies every page under one read transaction: a consistent snapshot; writers in
    // WAL mode go on meanwhile. BUSY/LOCKED (a writer mid-checkpoint) are retried a while.
    for (int tries = 0; (rc = sqlite3_backup_step(backup, -1)) == SQLITE_BUSY || rc == SQLITE_LOCKED; ++tries) {
      if (tries >= 200) break;
      sqlite3_sleep(25);
    }
    sqlite3_backup_finish(backup);
    if (rc != SQLITE_DONE) result = Status::IOError("cannot back up to " + tmp + ": " + Why(to, rc, disk_full));
    // One self-contained file (the source's WAL mode is in the pages copied): a copy that needs
    // no -wal or -shm beside it, readable from a read-only medium.
    else if ((rc = sqlite3_exec(to, "PRAGMA journal_mode=DELETE", nullptr, nullptr, nullptr)) != SQLITE_OK)
      result = Status::IOError("cannot finish the backup " + tmp + ": " + Why(to, rc, disk_full));
  }
  if (result.ok() && sqlite3_close(to) != SQLITE_OK) result = Status::IOError("cannot close " + tmp);
  else if (!result.ok()) sqlite3_close(to);
  if (result.ok()) {
    std::filesystem::rename(tmp, to_path, ec);
    if (ec) result = Status::IOError("cannot rename " + tmp + " to " + to_path + ": " + ec.message());
    if (ec == std::errc::no_space_on_device) *disk_full = true;
  }
  if (!result.ok()) std::filesystem::remove(tmp, ec);
  return result;
}

// Whether two files of the same size hold the same bytes.
bool SameBytes(const std::string& a, const std::string& b) {
  std::ifstream fa(a, std::ios::binary), fb(b, std::ios::binary);
  if (!fa || !fb) return false;
  std::vector<char> ba(1 << 16), bb(1 << 16);
  for (;;) {
    fa.read(ba.data(), static_cast<std::streamsize>(ba.size()));
    fb.read(bb.data(), static_cast<std::streamsize>(bb.size()));
    if (fa.gcount() != fb.gcount() || std::memcmp(ba.data(), bb.data(), static_cast<size_t>(fa.gcount())) != 0)
      return false;
    if (fa.gcount() == 0) return true;
  }
}

// An earlier backup of the same version beside `path` with the bytes of `fresh`, or "".
std::string EarlierIdenticalBackup(const std::string& path, int version, const std::string& fresh) {
  namespace fs = std::filesystem;
  const std::string prefix = fs::path(path).filename().string() + ".backup-v" + std::to_string(version) + "-";
  std::error_code ec;
  std::vector<std::string> found;
  for (fs::directory_iterator it(fs::path(path).parent_path().empty() ? "." : fs::path(path).parent_path(), ec), end;
       !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind(prefix, 0) == 0 && name.find(".tmp") == std::string::npos && it->path().string() != fresh &&
        it->is_regular_file(ec) && fs::file_size(it->path(), ec) == fs::file_size(fresh, ec))
      found.push_back(it->path().string());
  }
  std::sort(found.rbegin(), found.rend());  // the newest (latest time stamp) first
  for (const std::string& old : found)
    if (SameBytes(old, fresh)) return old;
  return "";
}

}  // namespace

Status BackupDatabase(sqlite3* from, const std::string& to_path) {
  bool disk_full = false;
  return CopyDatabase(from, to_path, &disk_full);
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
    bool disk_full = false;
    Status backed_up = CopyDatabase(db, report.backup_path, &disk_full);
    if (!backed_up.ok())
      return Status::IOError("before upgrading " + path + " from schema version " + std::to_string(report.from) +
                             " to " + std::to_string(latest) + ", its backup failed (" + backed_up.message() +
                             "); nothing was changed. " +
                             (disk_full ? "Free disk space beside it and start again"
                                        : "Fix that (the folder must be writable by this user) and start again"));
    // A start whose upgrade then failed, restarted again and again (systemd's Restart=), would
    // leave one more copy of the same database each time: an earlier backup of this version
    // with the same bytes (the database unchanged since) is kept instead of the new one.
    const std::string earlier = EarlierIdenticalBackup(path, report.from, report.backup_path);
    if (!earlier.empty()) {
      std::error_code ec;
      std::filesystem::remove(report.backup_path, ec);
      report.backup_path = earlier;
    }
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

namespace {
// Any constant: the advisory lock every node takes around its schema upgrade.
constexpr const char* kSchemaLock = "SELECT pg_advisory_xact_lock(7461746865000001)";
}  // namespace

Result<MigrationReport> MigratePostgres(SqlDb& db, const std::vector<Migration>& migrations) {
  LATHE_RETURN_IF_ERROR(CheckOrder(migrations));
  const int latest = static_cast<int>(migrations.size());
  MigrationReport report;
  Status s = InSqlTransaction(db, [&]() -> Status {
    LATHE_RETURN_IF_ERROR(db.RunScript(kSchemaLock));
    LATHE_RETURN_IF_ERROR(db.RunScript("CREATE TABLE IF NOT EXISTS lathe_schema (version INTEGER NOT NULL)"));
    SqlQuery version(db, "SELECT version FROM lathe_schema");
    const SqlQuery::Outcome o = version.Step();
    if (o != SqlQuery::kRow && o != SqlQuery::kDone) return version.Error("read the schema version");
    report.from = report.to = o == SqlQuery::kRow ? static_cast<int>(version.Int(0)) : 0;
    if (report.from > latest)
      return Status::Unsupported(db.where() + " has schema version " + std::to_string(report.from) +
                                 ", but this lathe knows versions up to " + std::to_string(latest) +
                                 ": a newer lathe wrote it, and this one would misread it. Run that newer lathe "
                                 "(or a later one); the database was not changed");
    for (const Migration& m : migrations) {
      if (m.version <= report.from) continue;
      Status ran = db.RunScript(m.postgres_sql ? m.postgres_sql : m.sql);
      if (!ran.ok())
        return Status::IOError(db.where() + ": schema migration " + std::to_string(m.version) + " (" + m.summary +
                               "): " + ran.message());
      if (auto& hook = MigrationStepHookForTesting()) hook(m.version);
    }
    if (report.from == latest) return Status::Ok();
    SqlQuery clear(db, "DELETE FROM lathe_schema");
    LATHE_RETURN_IF_ERROR(clear.Run("record the schema version"));
    SqlQuery set(db, "INSERT INTO lathe_schema (version) VALUES (?)");
    set.Bind(1, static_cast<int64_t>(latest));
    LATHE_RETURN_IF_ERROR(set.Run("record the schema version"));
    report.to = latest;
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return report;
}

}  // namespace lathe::store
