// Internal to ObjectIndex (object_index*.cc): its SQL helpers, shared by the object and the
// multipart halves. Callers hold MetadataStore's lock.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/object_index.h"

namespace lathe::store::index_sql {

// A prepared statement that finalizes itself; binds by 1-based position. Keys go in as BLOBs, so
// SQLite compares them with memcmp (S3's UTF-8 binary order).
class Stmt {
 public:
  Stmt(sqlite3* db, const std::string& sql) : db_(db) { rc_ = sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt_, nullptr); }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt& Text(int i, const std::string& v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  // Never a null pointer: SQLite would bind NULL instead of an empty BLOB.
  Stmt& Blob(int i, const std::string& v) {
    sqlite3_bind_blob(stmt_, i, v.empty() ? "" : v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Int(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  int Step() { return rc_ == SQLITE_OK ? sqlite3_step(stmt_) : rc_; }
  // Ready to run again with new bindings (one prepared statement for many rows).
  void Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  // Text and blob columns alike, as bytes.
  std::string ColText(int col) const {
    const void* p = sqlite3_column_blob(stmt_, col);
    const int n = sqlite3_column_bytes(stmt_, col);
    return p ? std::string(static_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
  }
  int64_t ColInt(int col) const { return sqlite3_column_int64(stmt_, col); }
  Status Error(const std::string& what) const {
    return Status::IOError("metadata database: " + what + ": " + sqlite3_errmsg(db_));
  }
  // Runs a statement that returns no rows.
  Status Run(const std::string& what) { return Step() == SQLITE_DONE ? Status::Ok() : Error(what); }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

// BEGIN IMMEDIATE ... COMMIT around `body`, rolled back when it fails.
template <typename F>
Status InTransaction(sqlite3* db, F body) {
  if (sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK)
    return Status::IOError(std::string("metadata database: begin: ") + sqlite3_errmsg(db));
  Status s = body();
  if (s.ok() && sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK)
    s = Status::IOError(std::string("metadata database: commit: ") + sqlite3_errmsg(db));
  if (!s.ok()) sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
  return s;
}

std::string Dump(const nlohmann::json& doc);
// A damaged document reads as {} rather than failing the listing it is in.
nlohmann::json Parse(const std::string& text);
// A size_t limit as SQLite's LIMIT (int64).
int64_t SqlLimit(size_t limit);

// The smallest string greater than every string that starts with `prefix`, or nullopt when there
// is none (prefix empty or all 0xFF bytes).
std::optional<std::string> PrefixSuccessor(std::string prefix);

// " AND key <op> ?lower [AND key < ?upper]": keys that start with `prefix` and sort after `after`
// (or at it, when inclusive; "" = no bound). An index range, never LIKE: keys hold '%' and '_'.
struct KeyRange {
  std::string sql;
  std::string lower;
  std::optional<std::string> upper;
};
KeyRange RangeOf(const std::string& prefix, const std::string& after, bool after_inclusive, int lower_param,
                 int upper_param);
void BindRange(Stmt& s, const KeyRange& r, int lower_param, int upper_param);

// InvalidArgument unless the version names bucket, key, version id, and a blob id (none for a
// delete marker).
Status CheckVersion(const ObjectVersion& v);
// The version becomes its key's latest, replacing one of the same version id, whose blob is
// added to *candidates. Inside a transaction.
Status PutLocked(sqlite3* db, const ObjectVersion& v, std::vector<std::string>* candidates);
// Appends to *freed those candidates no row (version or part) refers to any more; inside the
// transaction, after the change.
Status Unreferenced(sqlite3* db, std::vector<std::string> candidates, std::vector<std::string>* freed);

// Steps the statement through all its rows, calling row(s) for each; s.Error(what) when a step
// fails. The loop every reader of these tables writes.
template <class RowFn>
Status ForEachRow(Stmt& s, const char* what, RowFn row) {
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) row(s);
  return rc == SQLITE_DONE ? Status::Ok() : s.Error(what);
}

}  // namespace lathe::store::index_sql
