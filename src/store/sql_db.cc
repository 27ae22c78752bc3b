// SqlQuery and the dialect fragments (sql_db.h); the connections are sqlite_db.cc and
// postgres_db.cc.
#include "store/sql_db.h"

#include <cstdlib>

namespace lathe::store {

bool IsPostgresUrl(const std::string& location) {
  return location.rfind("postgresql://", 0) == 0 || location.rfind("postgres://", 0) == 0;
}

Result<std::unique_ptr<SqlDb>> OpenSqlDb(const std::string& path_or_url) {
  return IsPostgresUrl(path_or_url) ? OpenPostgresDb(path_or_url) : OpenSqliteDb(path_or_url);
}

std::string JsonKeyTextSql(SqlDialect d, const std::string& column) {
  // The key is bound, never spliced: a key with quotes in it stays one key.
  return d == SqlDialect::kPostgres ? "(" + column + "::json ->> ?)"
                                    : "json_extract(" + column + ", '$.\"' || ? || '\"')";
}

std::string SubstringPositionSql(SqlDialect d, const std::string& column) {
  return d == SqlDialect::kPostgres ? "strpos(" + column + ", ?)" : "instr(" + column + ", ?)";
}

std::string ForUpdateSkipLockedSql(SqlDialect d) {
  return d == SqlDialect::kPostgres ? " FOR UPDATE SKIP LOCKED" : "";
}

SqlQuery& SqlQuery::Set(int i, SqlParam p) {
  if (i < 1) return *this;
  if (params_.size() < static_cast<size_t>(i)) params_.resize(static_cast<size_t>(i));
  params_[static_cast<size_t>(i) - 1] = std::move(p);
  return *this;
}

SqlQuery::Outcome SqlQuery::Step() {
  if (!ran_) {
    ran_ = true;
    SqlDb::Failure failure = SqlDb::Failure::kNone;
    Result<SqlRows> r = db_.Run(sql_, params_, &failure);
    if (!r.ok()) {
      failed_ = failure == SqlDb::Failure::kConstraint ? kConstraint : kError;
      message_ = r.status().message();
      return failed_;
    }
    result_ = std::move(*r);
    failed_ = kDone;
  }
  if (failed_ != kDone) return failed_;
  if (next_ < result_.rows.size()) {
    ++next_;
    return kRow;
  }
  return kDone;
}

std::string SqlQuery::Text(int col) const {
  if (next_ == 0 || next_ > result_.rows.size()) return "";
  const auto& row = result_.rows[next_ - 1];
  return col >= 0 && static_cast<size_t>(col) < row.size() ? row[static_cast<size_t>(col)] : "";
}

int64_t SqlQuery::Int(int col) const { return std::strtoll(Text(col).c_str(), nullptr, 10); }

Status SqlQuery::Run(const std::string& what) {
  const Outcome o = Step();
  return o == kDone || o == kRow ? Status::Ok() : Error(what);
}

Status SqlQuery::Error(const std::string& what) const {
  return Status::IOError("metadata database: " + what + ": " + (message_.empty() ? "no result" : message_));
}

void SqlQuery::Reset() {
  params_.clear();
  ran_ = false;
  failed_ = kDone;
  message_.clear();
  result_ = {};
  next_ = 0;
}

}  // namespace lathe::store
