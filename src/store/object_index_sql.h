// Internal to ObjectIndex (object_index*.cc): its SQL helpers, shared by the object and the
// multipart halves. Callers hold MetadataStore's lock.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/object_index.h"
#include "store/sql_db.h"

namespace lathe::store::index_sql {

// A statement with bindings (sql_db.h), on either database. Keys go in as BLOBs (BYTEA on
// PostgreSQL), compared with memcmp: S3's UTF-8 binary order.
class Stmt {
 public:
  Stmt(SqlDb& db, const std::string& sql) : q_(db, sql) {}
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt& Text(int i, const std::string& v) {
    q_.Bind(i, v);
    return *this;
  }
  Stmt& Blob(int i, const std::string& v) {
    q_.BindBlob(i, v);
    return *this;
  }
  Stmt& Int(int i, int64_t v) {
    q_.Bind(i, v);
    return *this;
  }
  SqlQuery::Outcome Step() { return q_.Step(); }
  // Ready to run again with new bindings (one statement for many rows).
  void Reset() { q_.Reset(); }
  // Text and blob columns alike, as bytes.
  std::string ColText(int col) const { return q_.Text(col); }
  int64_t ColInt(int col) const { return q_.Int(col); }
  int64_t changes() const { return q_.changes(); }
  Status Error(const std::string& what) const { return q_.Error(what); }
  // Runs a statement that returns no rows.
  Status Run(const std::string& what) { return q_.Run(what); }

 private:
  SqlQuery q_;
};

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
Status PutLocked(SqlDb& db, const ObjectVersion& v, std::vector<std::string>* candidates);
// Appends to *freed those candidates no row (version or part) refers to any more; inside the
// transaction, after the change.
Status Unreferenced(SqlDb& db, std::vector<std::string> candidates, std::vector<std::string>* freed);

// Steps the statement through all its rows, calling row(s) for each; s.Error(what) when a step
// fails. The loop every reader of these tables writes.
template <class RowFn>
Status ForEachRow(Stmt& s, const char* what, RowFn row) {
  SqlQuery::Outcome rc;
  while ((rc = s.Step()) == SqlQuery::kRow) row(s);
  return rc == SqlQuery::kDone ? Status::Ok() : s.Error(what);
}

}  // namespace lathe::store::index_sql
