// SqlDb on PostgreSQL through libpq (sql_db.h): the shared store of several lathe nodes.
#include <libpq-fe.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "store/sql_db.h"

namespace lathe::store {
namespace {

// A store URL comes from the operator's config or command line, yet it is still bounded: it is
// echoed in messages and handed to libpq's parser.
constexpr size_t kMaxUrlBytes = 2048;
// pg_type's OIDs of bytea, int8 and text (catalog/pg_type_d.h, stable across versions).
constexpr Oid kByteaOid = 17, kInt8Oid = 20, kTextOid = 25;

// A bytea parameter in text format: \x and two hex digits a byte.
std::string HexBytea(const std::string& bytes) {
  static const char* kHex = "0123456789abcdef";
  std::string out = "\\x";
  out.reserve(2 + 2 * bytes.size());
  for (unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

// `?` and `?N` become `$n`, outside quoted strings and identifiers: the stores write SQLite's
// placeholders once. *used[i] tells whether $i+1 appears.
std::string NumberPlaceholders(const std::string& sql, std::vector<bool>* used) {
  std::string out;
  out.reserve(sql.size() + 16);
  int next = 0;
  char quote = 0;
  for (size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (quote) {
      out += c;
      if (c == quote) quote = 0;  // a doubled quote closes and reopens: same result
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      out += c;
    } else if (c == '?') {
      size_t j = i + 1;
      while (j < sql.size() && sql[j] >= '0' && sql[j] <= '9') ++j;
      const int n = j > i + 1 ? std::atoi(sql.substr(i + 1, std::min<size_t>(j - i - 1, 6)).c_str()) : ++next;
      out += '$' + std::to_string(n);
      if (n >= 1 && n <= 65535) {
        if (used->size() < static_cast<size_t>(n)) used->resize(static_cast<size_t>(n));
        (*used)[static_cast<size_t>(n) - 1] = true;
      }
      i = j - 1;
    } else {
      out += c;
    }
  }
  return out;
}

class PostgresDb : public SqlDb {
 public:
  PostgresDb(PGconn* conn, std::string where) : conn_(conn), where_(std::move(where)) {}
  ~PostgresDb() override { PQfinish(conn_); }
  SqlDialect dialect() const override { return SqlDialect::kPostgres; }
  const std::string& where() const override { return where_; }

  Result<SqlRows> Run(const std::string& sql, const std::vector<SqlParam>& params, Failure* failure) override {
    *failure = Failure::kOther;
    LATHE_RETURN_IF_ERROR(Reconnect());
    std::vector<bool> used;
    const std::string numbered = NumberPlaceholders(sql, &used);
    std::vector<std::string> texts(params.size());
    std::vector<const char*> values(params.size());
    // Numbers are int8; text is typed by where it is used. A parameter the statement does not
    // use (a filter left out) must still have a type: text.
    std::vector<Oid> types(params.size(), 0);
    for (size_t i = 0; i < params.size(); ++i) {
      const SqlParam& p = params[i];
      if (p.type == SqlParam::Type::kInt) types[i] = kInt8Oid;
      else if (i >= used.size() || !used[i]) types[i] = kTextOid;
      if (p.type == SqlParam::Type::kBlob) types[i] = kByteaOid;
      if (p.type == SqlParam::Type::kInt) texts[i] = std::to_string(p.number);
      else if (p.type == SqlParam::Type::kBlob) texts[i] = HexBytea(p.text);
      else if (p.text.find('\0') != std::string::npos)
        return Status::InvalidArgument("PostgreSQL text cannot hold a NUL byte");
      else texts[i] = p.text;
      values[i] = texts[i].c_str();
    }
    PGresult* res = PQexecParams(conn_, numbered.c_str(), static_cast<int>(values.size()), types.data(),
                                 values.data(), nullptr, nullptr, 0);
    const ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
      const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
      if (state && std::strncmp(state, "23", 2) == 0) *failure = Failure::kConstraint;  // integrity violations
      Status s = Error(res);
      PQclear(res);
      return s;
    }
    SqlRows out;
    const int rows = PQntuples(res), columns = PQnfields(res);
    out.rows.reserve(static_cast<size_t>(rows));
    for (int r = 0; r < rows; ++r) {
      std::vector<std::string> row(static_cast<size_t>(columns));
      for (int c = 0; c < columns; ++c) {
        const char* v = PQgetvalue(res, r, c);
        if (PQftype(res, c) == kByteaOid) {  // "\x..." in text format: the bytes themselves
          size_t n = 0;
          unsigned char* bytes = PQunescapeBytea(reinterpret_cast<const unsigned char*>(v), &n);
          if (bytes) row[static_cast<size_t>(c)].assign(reinterpret_cast<const char*>(bytes), n);
          PQfreemem(bytes);
        } else {
          row[static_cast<size_t>(c)].assign(v, static_cast<size_t>(PQgetlength(res, r, c)));
        }
      }
      out.rows.push_back(std::move(row));
    }
    const char* changed = PQcmdTuples(res);
    out.changes = changed && *changed ? std::strtoll(changed, nullptr, 10) : 0;
    PQclear(res);
    *failure = Failure::kNone;
    return out;
  }

  Status RunScript(const std::string& sql) override {
    LATHE_RETURN_IF_ERROR(Reconnect());
    PGresult* res = PQexec(conn_, sql.c_str());
    const ExecStatusType st = PQresultStatus(res);
    Status s = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? Status::Ok() : Error(res);
    PQclear(res);
    return s;
  }

  Status Begin() override {
    LATHE_RETURN_IF_ERROR(RunScript("BEGIN"));
    in_transaction_ = true;
    return Status::Ok();
  }
  Status Commit() override {
    Status s = RunScript("COMMIT");
    in_transaction_ = false;  // a failed COMMIT ended the transaction too (rolled back)
    return s;
  }
  void Rollback() override {
    if (PQstatus(conn_) == CONNECTION_OK) PQclear(PQexec(conn_, "ROLLBACK"));
    in_transaction_ = false;
  }

 private:
  // A server that went away (restart, failover, a killed backend) is reconnected to before the
  // next statement, never inside a transaction: that one has failed and its owner rolls it back.
  Status Reconnect() {
    if (PQstatus(conn_) == CONNECTION_OK) return Status::Ok();
    if (in_transaction_) return Status::IOError("metadata database " + where_ + ": the connection was lost mid-transaction");
    PQreset(conn_);
    if (PQstatus(conn_) != CONNECTION_OK)
      return Status::IOError("metadata database " + where_ + ": cannot reconnect: " + PQerrorMessage(conn_));
    return Status::Ok();
  }
  Status Error(const PGresult* res) const {
    std::string msg = res ? PQresultErrorMessage(res) : "";
    if (msg.empty()) msg = PQerrorMessage(conn_);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    return Status::IOError(msg.empty() ? "the server answered nothing" : msg);
  }
  PGconn* conn_;
  std::string where_;
};

}  // namespace

std::string RedactUrl(const std::string& url) {
  // postgresql://user:secret@host/db -> postgresql://user:***@host/db; and a password= parameter.
  // The last '@': a password typed without percent-encoding may hold '@', '/' or ':' itself, and
  // hiding too much of a URL in a message is harmless where showing part of a secret is not.
  std::string out = url;
  const size_t scheme = out.find("://");
  const size_t at = out.rfind('@');
  if (scheme != std::string::npos && at != std::string::npos && at > scheme + 3) {
    const size_t colon = out.find(':', scheme + 3);
    if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
  }
  for (size_t p = out.find("password="); p != std::string::npos; p = out.find("password=", p + 1)) {
    const size_t end = out.find('&', p);
    out.replace(p + 9, (end == std::string::npos ? out.size() : end) - p - 9, "***");
  }
  return out;
}

// What the server lets one statement (or an idle transaction) take on lathe's connections.
constexpr const char* kStatementTimeout = "10min";

Result<std::unique_ptr<SqlDb>> OpenPostgresDb(const std::string& url) {
  if (url.size() > kMaxUrlBytes)
    return Status::InvalidArgument("the store URL is " + std::to_string(url.size()) + " bytes; at most " +
                                   std::to_string(kMaxUrlBytes) + " are accepted");
  for (unsigned char c : url)
    if (c < 0x20 || c == 0x7f) return Status::InvalidArgument("the store URL holds a control character");
  const std::string where = RedactUrl(url);
  char* parse_error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(url.c_str(), &parse_error);
  if (!parsed) {
    std::string why = parse_error ? parse_error : "out of memory";
    PQfreemem(parse_error);
    while (!why.empty() && why.back() == '\n') why.pop_back();
    return Status::InvalidArgument("the store URL " + where + " is not a valid PostgreSQL URL: " + why);
  }
  std::string url_options;  // the URL's own server options (a search_path, say): they come after ours
  for (PQconninfoOption* o = parsed; o->keyword; ++o)
    if (std::string(o->keyword) == "options" && o->val) url_options = o->val;
  PQconninfoFree(parsed);
  // Defaults first: the URL's own settings, expanded from dbname, override them. A store on
  // another machine can vanish without a FIN (a cable, a crashed host): TCP keepalives and a
  // user timeout notice within about a minute instead of hanging on the socket; a statement or
  // a transaction left idle that outlives kStatementTimeout is ended by the server (every
  // statement lathe sends is bounded far below it), so one stuck node cannot hold row locks that
  // other nodes wait on.
  // The URL's own options follow ours in one "options" (given after dbname, so that it wins over
  // the URL's): a -c it repeats overrides ours.
  std::string server_options = std::string("-c statement_timeout=") + kStatementTimeout +
                               " -c idle_in_transaction_session_timeout=" + kStatementTimeout;
  if (!url_options.empty()) server_options += " " + url_options;
  const char* keys[] = {"connect_timeout", "application_name", "keepalives", "keepalives_idle", "keepalives_interval",
                        "keepalives_count", "tcp_user_timeout", "dbname", "options", nullptr};
  const char* values[] = {"10", "lathe", "1", "30", "10", "3", "60000", url.c_str(), server_options.c_str(), nullptr};
  PGconn* conn = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (!conn) return Status::IOError("cannot connect to " + where + ": out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string why = PQerrorMessage(conn);
    PQfinish(conn);
    while (!why.empty() && why.back() == '\n') why.pop_back();
    return Status::IOError("cannot connect to the metadata database " + where + ": " + why);
  }
  // CREATE ... IF NOT EXISTS and friends send NOTICEs; libpq would print them on stderr.
  PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);
  return std::unique_ptr<SqlDb>(new PostgresDb(conn, where));
}

}  // namespace lathe::store
