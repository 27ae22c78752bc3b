// SqlDb on a SQLite file (sql_db.h): the embedded default.
#include <sqlite3.h>

#include "store/sql_db.h"

namespace lathe::store {
namespace {

class SqliteDb : public SqlDb {
 public:
  SqliteDb(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  ~SqliteDb() override { sqlite3_close(db_); }
  SqlDialect dialect() const override { return SqlDialect::kSqlite; }
  const std::string& where() const override { return path_; }
  sqlite3* sqlite_handle() override { return db_; }

  Result<SqlRows> Run(const std::string& sql, const std::vector<SqlParam>& params, Failure* failure) override {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &st, nullptr) != SQLITE_OK) {
      *failure = Failure::kOther;
      return Status::IOError(sqlite3_errmsg(db_));
    }
    for (size_t i = 0; i < params.size(); ++i) {
      const SqlParam& p = params[i];
      const int at = static_cast<int>(i) + 1;
      if (p.type == SqlParam::Type::kInt) sqlite3_bind_int64(st, at, p.number);
      // Never a null pointer for a blob: SQLite would bind NULL instead of an empty BLOB.
      else if (p.type == SqlParam::Type::kBlob)
        sqlite3_bind_blob(st, at, p.text.empty() ? "" : p.text.data(), static_cast<int>(p.text.size()), SQLITE_TRANSIENT);
      else sqlite3_bind_text(st, at, p.text.data(), static_cast<int>(p.text.size()), SQLITE_TRANSIENT);
    }
    SqlRows out;
    const int columns = sqlite3_column_count(st);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      std::vector<std::string> row(static_cast<size_t>(columns));
      for (int c = 0; c < columns; ++c) {
        const void* v = sqlite3_column_blob(st, c);  // text and blob alike, as bytes
        const int n = sqlite3_column_bytes(st, c);
        if (v) row[static_cast<size_t>(c)].assign(static_cast<const char*>(v), static_cast<size_t>(n));
      }
      out.rows.push_back(std::move(row));
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
      *failure = (rc & 0xff) == SQLITE_CONSTRAINT ? Failure::kConstraint : Failure::kOther;
      return Status::IOError(sqlite3_errmsg(db_));
    }
    out.changes = sqlite3_changes(db_);
    return out;
  }

  Status RunScript(const std::string& sql) override {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "unknown error";
      sqlite3_free(err);
      return Status::IOError("metadata database: " + msg);
    }
    return Status::Ok();
  }

  Status Begin() override {
    LATHE_RETURN_IF_ERROR(RunScript("BEGIN IMMEDIATE"));
    in_transaction_ = true;
    return Status::Ok();
  }
  Status Commit() override {
    Status s = RunScript("COMMIT");
    if (s.ok()) in_transaction_ = false;
    return s;
  }
  void Rollback() override {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    in_transaction_ = false;
  }

 private:
  sqlite3* db_;
  std::string path_;
};

}  // namespace

Result<std::unique_ptr<SqlDb>> OpenSqliteDb(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Status::IOError("cannot open metadata database " + path + ": " + msg);
  }
  // Before anything else touches the file: the first PRAGMA (journal_mode=WAL) already needs the
  // lock another process (lathe serve, `lathe registry`) may hold for a moment.
  sqlite3_busy_timeout(db, 5000);
  return std::unique_ptr<SqlDb>(new SqliteDb(db, path));
}

}  // namespace lathe::store
