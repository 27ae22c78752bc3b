#include "store/metadata_store.h"

#include <sqlite3.h>

#include "store/migrations.h"
#include "store/sql_db.h"

namespace lathe::store {
namespace {

// Settings of a SQLite connection, not of the schema (lathe_db_schema.cc): run at every open.
constexpr const char* kConnectionSettings = R"sql(
PRAGMA journal_mode=WAL;
PRAGMA synchronous=NORMAL;
PRAGMA busy_timeout=5000;
)sql";

// The statements below are written once for both databases (sql_db.h).
using Statement = SqlQuery;

// Documents may hold text from outside (log lines, file names): invalid UTF-8 is replaced rather
// than thrown on.
std::string Dump(const nlohmann::json& doc) { return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

ResourceRow ReadRow(const Statement& s) {
  ResourceRow r;
  r.kind = s.Text(0);
  r.id = s.Text(1);
  r.name = s.Text(2);
  r.arn = s.Text(3);
  r.status = s.Text(4);
  r.created_ms = s.Int(5);
  r.doc = nlohmann::json::parse(s.Text(6), nullptr, /*allow_exceptions=*/false);
  return r;
}

}  // namespace

MetadataStore::MetadataStore(std::unique_ptr<SqlDb> sql) : sql_(std::move(sql)) {}

Result<std::unique_ptr<MetadataStore>> MetadataStore::Open(const std::string& path_or_url) {
  auto sql = OpenSqlDb(path_or_url);
  if (!sql.ok()) return sql.status();
  std::unique_ptr<MetadataStore> store(new MetadataStore(std::move(*sql)));
  // Every table, S3's and Step Functions' included, is made or upgraded here, by its numbered
  // migrations (migrations.h), so every process that opens the database agrees on it.
  sqlite3* db = store->sql_->sqlite_handle();
  if (!db) {
    auto migrated = MigratePostgres(*store->sql_, LatheDbMigrations());
    if (!migrated.ok()) return migrated.status();
    return store;
  }
  const std::string& path = path_or_url;
  // SQLite falls back to reading alone when the file or its folder is write-protected; the
  // first write would then fail with a vaguer message.
  if (sqlite3_db_readonly(db, "main") == 1)
    return Status::IOError("the metadata database " + path + " is read-only to this user or file system; "
                           "lathe serve writes to it: make it (and its folder) writable");
  Status s = store->sql_->RunScript(kConnectionSettings);
  if (s.ok()) s = MigrateDatabase(db, path, LatheDbMigrations()).status();
  if (!s.ok()) {
    const int rc = sqlite3_errcode(db);
    if (rc == SQLITE_READONLY || rc == SQLITE_CANTOPEN || rc == SQLITE_PERM)  // e.g. no room for lathe.db-wal
      return Status::IOError("the metadata database " + path + " or its folder is read-only to this user or file "
                             "system (" + s.message() + "); lathe serve writes to both: make them writable");
    return s;
  }
  return store;
}

MetadataStore::~MetadataStore() = default;

Status MetadataStore::Insert(const ResourceRow& row) {
  std::lock_guard<std::mutex> lock(mu_);
  return InsertLocked(row);
}

Status MetadataStore::InsertLocked(const ResourceRow& row) {
  Statement s(*sql_, "INSERT INTO resources (kind, id, name, arn, status, created_ms, doc) VALUES (?,?,?,?,?,?,?)");
  s.Bind(1, row.kind).Bind(2, row.id).Bind(3, row.name).Bind(4, row.arn).Bind(5, row.status);
  s.Bind(6, row.created_ms).Bind(7, Dump(row.doc));
  Statement::Outcome rc = s.Step();
  if (rc == Statement::kConstraint) return Status::AlreadyExists("a " + row.kind + " named " + row.name + " already exists");
  if (rc != Statement::kDone) return s.Error("insert " + row.kind);
  return Status::Ok();
}

Status MetadataStore::Update(const ResourceRow& row) {
  std::lock_guard<std::mutex> lock(mu_);
  return UpdateLocked(row);
}

Status MetadataStore::UpdateLocked(const ResourceRow& row) {
  Statement s(*sql_, "UPDATE resources SET status = ?, doc = ? WHERE kind = ? AND id = ?");
  s.Bind(1, row.status).Bind(2, Dump(row.doc)).Bind(3, row.kind).Bind(4, row.id);
  if (s.Step() != Statement::kDone) return s.Error("update " + row.kind);
  if (s.changes() == 0) return Status::NotFound(row.kind + " " + row.id + " does not exist");
  return Status::Ok();
}

Status MetadataStore::UpdateIf(const ResourceRow& row, const std::string& expected_status) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement s(*sql_, "UPDATE resources SET status = ?, doc = ? WHERE kind = ? AND id = ? AND status = ?");
  s.Bind(1, row.status).Bind(2, Dump(row.doc)).Bind(3, row.kind).Bind(4, row.id).Bind(5, expected_status);
  if (s.Step() != Statement::kDone) return s.Error("update " + row.kind);
  if (s.changes() > 0) return Status::Ok();
  Statement now(*sql_, "SELECT status FROM resources WHERE kind = ? AND id = ?");
  now.Bind(1, row.kind).Bind(2, row.id);
  if (now.Step() != Statement::kRow) return Status::NotFound(row.kind + " " + row.id + " does not exist");
  return Status::Conflict(row.kind + " " + row.id + " is " + now.Text(0) + ", not " + expected_status);
}

Result<ResourceRow> MetadataStore::Find(const std::string& kind, const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement s(*sql_,
              "SELECT kind, id, name, arn, status, created_ms, doc FROM resources "
              "WHERE kind = ?1 AND (id = ?2 OR name = ?2 OR arn = ?2) "
              // An ARN, then an id, then a name: a resource named like another's id must not
              // shadow it (names are the caller's, ids and ARNs the server's).
              "ORDER BY CASE WHEN arn = ?2 THEN 0 WHEN id = ?2 THEN 1 ELSE 2 END LIMIT 1");
  s.Bind(1, kind).Bind(2, key);
  Statement::Outcome rc = s.Step();
  if (rc == Statement::kRow) return ReadRow(s);
  if (rc != Statement::kDone) return s.Error("find " + kind);
  return Status::NotFound(key);
}

namespace {
// The WHERE clause of List and Count: appended to `sql`, its texts bound in order.
void AppendFilter(SqlDialect dialect, const std::string& kind, const MetadataStore::ListFilter& f, std::string& sql,
                  std::vector<std::string>& texts) {
  sql += " WHERE kind = ?";
  texts = {kind};
  if (!f.statuses.empty()) {
    sql += " AND status IN (";
    for (size_t i = 0; i < f.statuses.size(); ++i) {
      sql += i ? ", ?" : "?";
      texts.push_back(f.statuses[i]);
    }
    sql += ")";
  }
  if (!f.name_contains.empty()) {
    sql += " AND " + SubstringPositionSql(dialect, "name") + " > 0";
    texts.push_back(f.name_contains);
  }
  for (const auto& [key, value] : f.doc_equals) {
    sql += " AND " + JsonKeyTextSql(dialect, "doc") + " = ?";
    texts.push_back(key);
    texts.push_back(value);
  }
  if (f.created_after >= 0) sql += " AND created_ms > " + std::to_string(f.created_after);
  if (f.created_before >= 0) sql += " AND created_ms < " + std::to_string(f.created_before);
}
}  // namespace

Result<size_t> MetadataStore::Count(const std::string& kind, const ListFilter& f) {
  std::string sql = "SELECT COUNT(*) FROM resources";
  std::vector<std::string> texts;
  AppendFilter(sql_->dialect(), kind, f, sql, texts);
  std::lock_guard<std::mutex> lock(mu_);
  Statement s(*sql_, sql);
  for (size_t i = 0; i < texts.size(); ++i) s.Bind(static_cast<int>(i) + 1, texts[i]);
  if (s.Step() != Statement::kRow) return s.Error("count " + kind);
  return static_cast<size_t>(s.Int(0));
}

Result<std::vector<ResourceRow>> MetadataStore::List(const std::string& kind, const ListFilter& f) {
  std::string sql = "SELECT kind, id, name, arn, status, created_ms, doc FROM resources";
  std::vector<std::string> texts;
  AppendFilter(sql_->dialect(), kind, f, sql, texts);
  sql += f.descending ? " ORDER BY created_ms DESC, id DESC" : " ORDER BY created_ms, id";
  if (f.limit > 0) sql += " LIMIT " + std::to_string(f.limit) + " OFFSET " + std::to_string(f.offset);
  // No limit, an offset: the largest LIMIT both databases accept.
  else if (f.offset > 0) sql += " LIMIT 9223372036854775807 OFFSET " + std::to_string(f.offset);

  // Rows are copied out under the lock and their JSON parsed after it, so a long listing does not
  // hold up every other request.
  struct RawRow {
    ResourceRow row;
    std::string doc;
  };
  std::vector<RawRow> raw;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Statement s(*sql_, sql);
    for (size_t i = 0; i < texts.size(); ++i) s.Bind(static_cast<int>(i) + 1, texts[i]);
    Statement::Outcome rc;
    while ((rc = s.Step()) == Statement::kRow) {
      RawRow r;
      r.row.kind = s.Text(0);
      r.row.id = s.Text(1);
      r.row.name = s.Text(2);
      r.row.arn = s.Text(3);
      r.row.status = s.Text(4);
      r.row.created_ms = s.Int(5);
      r.doc = s.Text(6);
      raw.push_back(std::move(r));
    }
    if (rc != Statement::kDone) return s.Error("list " + kind);
  }
  std::vector<ResourceRow> rows;
  rows.reserve(raw.size());
  for (auto& r : raw) {
    r.row.doc = nlohmann::json::parse(r.doc, nullptr, /*allow_exceptions=*/false);
    rows.push_back(std::move(r.row));
  }
  return rows;
}

Status MetadataStore::Delete(const std::string& kind, const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  return DeleteLocked(kind, id);
}

Status MetadataStore::DeleteLocked(const std::string& kind, const std::string& id) {
  Statement s(*sql_, "DELETE FROM resources WHERE kind = ? AND id = ?");
  s.Bind(1, kind).Bind(2, id);
  if (s.Step() != Statement::kDone) return s.Error("delete " + kind);
  return Status::Ok();
}

Status MetadataStore::SetTags(const std::string& arn, const std::map<std::string, std::string>& tags) {
  std::lock_guard<std::mutex> lock(mu_);
  return SetTagsLocked(arn, tags);
}

Status MetadataStore::SetTagsLocked(const std::string& arn, const std::map<std::string, std::string>& tags) {
  for (const auto& [k, v] : tags) {
    Statement s(*sql_, "INSERT INTO tags (arn, key, value) VALUES (?,?,?) "
                         "ON CONFLICT (arn, key) DO UPDATE SET value = excluded.value");
    s.Bind(1, arn).Bind(2, k).Bind(3, v);
    if (s.Step() != Statement::kDone) return s.Error("tag " + arn);
  }
  return Status::Ok();
}

Status MetadataStore::RemoveTags(const std::string& arn, const std::vector<std::string>& keys) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& k : keys) {
    Statement s(*sql_, "DELETE FROM tags WHERE arn = ? AND key = ?");
    s.Bind(1, arn).Bind(2, k);
    if (s.Step() != Statement::kDone) return s.Error("untag " + arn);
  }
  return Status::Ok();
}

Result<std::map<std::string, std::string>> MetadataStore::Tags(const std::string& arn) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement s(*sql_, "SELECT key, value FROM tags WHERE arn = ? ORDER BY key");
  s.Bind(1, arn);
  std::map<std::string, std::string> tags;
  Statement::Outcome rc;
  while ((rc = s.Step()) == Statement::kRow) tags[s.Text(0)] = s.Text(1);
  if (rc != Statement::kDone) return s.Error("tags of " + arn);
  return tags;
}

Result<std::string> MetadataStore::RememberToken(const std::string& scope, const std::string& token,
                                                 const std::string& value) {
  std::lock_guard<std::mutex> lock(mu_);
  {
    Statement s(*sql_, "INSERT INTO tokens (scope, token, value) VALUES (?,?,?) ON CONFLICT DO NOTHING");
    s.Bind(1, scope).Bind(2, token).Bind(3, value);
    if (s.Step() != Statement::kDone) return s.Error("client token");
  }
  Statement s(*sql_, "SELECT value FROM tokens WHERE scope = ? AND token = ?");
  s.Bind(1, scope).Bind(2, token);
  if (s.Step() != Statement::kRow) return s.Error("client token");
  return s.Text(0);
}

}  // namespace lathe::store
