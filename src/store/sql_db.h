// The SQL seam under lathe's stores: one connection to SQLite (a file, the embedded default) or
// to PostgreSQL (a postgresql:// URL, the shared store of several nodes; docs/scale-out.md).
// The stores write their SQL once, with `?` placeholders; the few places where the two dialects
// differ go through the helpers below. Not thread-safe: its owner (MetadataStore) serialises
// every use with its own mutex.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

struct sqlite3;

namespace lathe::store {

enum class SqlDialect { kSqlite, kPostgres };

// A bound parameter. Blobs are S3 keys, any bytes: a BLOB in SQLite, a BYTEA in PostgreSQL; both
// compare them with memcmp.
struct SqlParam {
  enum class Type { kText, kInt, kBlob } type = Type::kText;
  std::string text;
  int64_t number = 0;
};

// What one statement returned: every row (as bytes; NULL reads as ""), and how many rows it
// changed. Results are buffered: a statement never holds the connection between calls.
struct SqlRows {
  std::vector<std::vector<std::string>> rows;
  int64_t changes = 0;
};

class SqlDb {
 public:
  // Why a statement failed: a unique/primary-key conflict is told apart from everything else,
  // because the stores answer it as AlreadyExists.
  enum class Failure { kNone, kConstraint, kOther };

  virtual ~SqlDb() = default;
  virtual SqlDialect dialect() const = 0;
  // The file or the URL without its password, for messages.
  virtual const std::string& where() const = 0;
  // One statement with `?` (or `?N`) placeholders. On failure *failure says which kind.
  virtual Result<SqlRows> Run(const std::string& sql, const std::vector<SqlParam>& params, Failure* failure) = 0;
  // Several statements without parameters (schema, settings).
  virtual Status RunScript(const std::string& sql) = 0;
  // BEGIN IMMEDIATE on SQLite (the writer lock taken at once, so a transaction never fails
  // halfway on a lock); BEGIN on PostgreSQL.
  virtual Status Begin() = 0;
  virtual Status Commit() = 0;
  virtual void Rollback() = 0;
  bool in_transaction() const { return in_transaction_; }
  // The SQLite handle (null on PostgreSQL): for the SQLite-only tools (online backup, migration
  // of a file with its backup beside it).
  virtual sqlite3* sqlite_handle() { return nullptr; }

 protected:
  bool in_transaction_ = false;
};

// postgresql://... or postgres://... : the shared store; anything else is a SQLite file path.
bool IsPostgresUrl(const std::string& location);
// Opens either kind (without running migrations). A URL is checked first (length, control
// characters, libpq's own parse); its password never appears in a message.
Result<std::unique_ptr<SqlDb>> OpenSqlDb(const std::string& path_or_url);
Result<std::unique_ptr<SqlDb>> OpenSqliteDb(const std::string& path);
Result<std::unique_ptr<SqlDb>> OpenPostgresDb(const std::string& url);
// The URL with any password replaced by "***".
std::string RedactUrl(const std::string& url);

// The places the dialects differ, as SQL fragments:
// The text of a top-level document key (bound as a parameter) of a JSON text column.
std::string JsonKeyTextSql(SqlDialect d, const std::string& column);
// 1-based position of a bound substring in a column (0 when absent).
std::string SubstringPositionSql(SqlDialect d, const std::string& column);
// What a SELECT that claims rows appends: PostgreSQL locks them and skips rows other
// transactions hold; SQLite's writer lock already serialises claims.
std::string ForUpdateSkipLockedSql(SqlDialect d);

// A statement with bindings, run on the first Step, then read row by row: the shape of
// sqlite3_stmt, so that a store reads the same on both databases.
class SqlQuery {
 public:
  enum Outcome { kRow, kDone, kConstraint, kError };
  SqlQuery(SqlDb& db, std::string sql) : db_(db), sql_(std::move(sql)) {}
  SqlQuery& Bind(int i, const std::string& v) { return Set(i, {SqlParam::Type::kText, v, 0}); }
  SqlQuery& Bind(int i, int64_t v) { return Set(i, {SqlParam::Type::kInt, {}, v}); }
  SqlQuery& BindBlob(int i, const std::string& v) { return Set(i, {SqlParam::Type::kBlob, v, 0}); }
  // kRow while rows remain, then kDone; or the failure.
  Outcome Step();
  std::string Text(int col) const;
  int64_t Int(int col) const;
  int64_t changes() const { return result_.changes; }
  // Runs a statement that returns no rows.
  Status Run(const std::string& what);
  // IOError naming `what` and the database's message.
  Status Error(const std::string& what) const;
  // Ready to run again with new bindings.
  void Reset();

 private:
  SqlQuery& Set(int i, SqlParam p);
  SqlDb& db_;
  std::string sql_;
  std::vector<SqlParam> params_;
  bool ran_ = false;
  Outcome failed_ = kDone;
  std::string message_;
  SqlRows result_;
  size_t next_ = 0;
};

// Begin, body, Commit; Rollback when the body or the commit fails.
template <typename F>
Status InSqlTransaction(SqlDb& db, F body) {
  LATHE_RETURN_IF_ERROR(db.Begin());
  Status s = body();
  if (s.ok()) s = db.Commit();
  if (!s.ok()) db.Rollback();
  return s;
}

}  // namespace lathe::store
