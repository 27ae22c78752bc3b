#include "store/metadata_store.h"

#include <sqlite3.h>

#include "store/migrations.h"

namespace lathe::store {
namespace {

// Settings of the connection, not of the schema (lathe_db_schema.cc): run at every open.
constexpr const char* kConnectionSettings = R"sql(
PRAGMA journal_mode=WAL;
PRAGMA synchronous=NORMAL;
PRAGMA busy_timeout=5000;
)sql";

// A prepared statement that finalizes itself; binds by 1-based position.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) { rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr); }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement& Bind(int i, const std::string& v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& Bind(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int Step() { return rc_ == SQLITE_OK ? sqlite3_step(stmt_) : rc_; }
  std::string Text(int col) const {
    auto* p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }
  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  Status Error(const std::string& what) const {
    return Status::IOError("metadata database: " + what + ": " + sqlite3_errmsg(db_));
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};


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

Result<std::unique_ptr<MetadataStore>> MetadataStore::Open(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Status::IOError("cannot open metadata database " + path + ": " + msg);
  }
  // Before anything else touches the file: the schema's first PRAGMA (journal_mode=WAL) already
  // needs the lock another process (lathe serve, `lathe registry`) may hold for a moment.
  sqlite3_busy_timeout(db, 5000);
  std::unique_ptr<MetadataStore> store(new MetadataStore(db));
  // SQLite falls back to reading alone when the file or its folder is write-protected; the
  // first write would then fail with a vaguer message.
  if (sqlite3_db_readonly(db, "main") == 1)
    return Status::IOError("the metadata database " + path + " is read-only to this user or file system; "
                           "lathe serve writes to it: make it (and its folder) writable");
  Status s = store->Exec(kConnectionSettings);
  // Every table of lathe.db, S3's and Step Functions' included, is made or upgraded here, by
  // its numbered migrations (migrations.h), so every process that opens the file agrees on it.
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

MetadataStore::~MetadataStore() { sqlite3_close(db_); }

Status MetadataStore::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return Status::IOError("metadata database: " + msg);
  }
  return Status::Ok();
}

Status MetadataStore::Insert(const ResourceRow& row) {
  std::lock_guard<std::mutex> lock(mu_);
  return InsertLocked(row);
}

Status MetadataStore::InsertLocked(const ResourceRow& row) {
  Statement s(db_, "INSERT INTO resources (kind, id, name, arn, status, created_ms, doc) VALUES (?,?,?,?,?,?,?)");
  s.Bind(1, row.kind).Bind(2, row.id).Bind(3, row.name).Bind(4, row.arn).Bind(5, row.status);
  s.Bind(6, row.created_ms).Bind(7, Dump(row.doc));
  int rc = s.Step();
  if (rc == SQLITE_CONSTRAINT) return Status::AlreadyExists("a " + row.kind + " named " + row.name + " already exists");
  if (rc != SQLITE_DONE) return s.Error("insert " + row.kind);
  return Status::Ok();
}

Status MetadataStore::Update(const ResourceRow& row) {
  std::lock_guard<std::mutex> lock(mu_);
  return UpdateLocked(row);
}

Status MetadataStore::UpdateLocked(const ResourceRow& row) {
  Statement s(db_, "UPDATE resources SET status = ?, doc = ? WHERE kind = ? AND id = ?");
  s.Bind(1, row.status).Bind(2, Dump(row.doc)).Bind(3, row.kind).Bind(4, row.id);
  if (s.Step() != SQLITE_DONE) return s.Error("update " + row.kind);
  if (sqlite3_changes(db_) == 0) return Status::NotFound(row.kind + " " + row.id + " does not exist");
  return Status::Ok();
}

Status MetadataStore::UpdateIf(const ResourceRow& row, const std::string& expected_status) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement s(db_, "UPDATE resources SET status = ?, doc = ? WHERE kind = ? AND id = ? AND status = ?");
  s.Bind(1, row.status).Bind(2, Dump(row.doc)).Bind(3, row.kind).Bind(4, row.id).Bind(5, expected_status);
  if (s.Step() != SQLITE_DONE) return s.Error("update " + row.kind);
  if (sqlite3_changes(db_) > 0) return Status::Ok();
  Statement now(db_, "SELECT status FROM resources WHERE kind = ? AND id = ?");
  now.Bind(1, row.kind).Bind(2, row.id);
  if (now.Step() != SQLITE_ROW) return Status::NotFound(row.kind + " " + row.id + " does not exist");
  return Status::Conflict(row.kind + " " + row.id + " is " + now.Text(0) + ", not " + expected_status);
}

Result<ResourceRow> MetadataStore::Find(const std::string& kind, const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement s(db_,
              "SELECT kind, id, name, arn, status, created_ms, doc FROM resources "
              "WHERE kind = ?1 AND (id = ?2 OR name = ?2 OR arn = ?2) "
              // An ARN, then an id, then a name: a resource named like another's id must not
              // shadow it (names are the caller's, ids and ARNs the server's).
              "ORDER BY CASE WHEN arn = ?2 THEN 0 WHEN id = ?2 THEN 1 ELSE 2 END LIMIT 1");
  s.Bind(1, kind).Bind(2, key);
  int rc = s.Step();
  if (rc == SQLITE_ROW) return ReadRow(s);
  if (rc != SQLITE_DONE) return s.Error("find " + kind);
  return Status::NotFound(key);
}

namespace {
// The WHERE clause of List and Count: appended to `sql`, its texts bound in order.
void AppendFilter(const std::string& kind, const MetadataStore::ListFilter& f, std::string& sql,
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
    sql += " AND instr(name, ?) > 0";
    texts.push_back(f.name_contains);
  }
  for (const auto& [key, value] : f.doc_equals) {
    sql += " AND json_extract(doc, ?) = ?";
    texts.push_back("$.\"" + key + "\"");
    texts.push_back(value);
  }
  if (f.created_after >= 0) sql += " AND created_ms > " + std::to_string(f.created_after);
  if (f.created_before >= 0) sql += " AND created_ms < " + std::to_string(f.created_before);
}
}  // namespace

Result<size_t> MetadataStore::Count(const std::string& kind, const ListFilter& f) {
  std::string sql = "SELECT COUNT(*) FROM resources";
  std::vector<std::string> texts;
  AppendFilter(kind, f, sql, texts);
  std::lock_guard<std::mutex> lock(mu_);
  Statement s(db_, sql.c_str());
  for (size_t i = 0; i < texts.size(); ++i) s.Bind(static_cast<int>(i) + 1, texts[i]);
  if (s.Step() != SQLITE_ROW) return s.Error("count " + kind);
  return static_cast<size_t>(s.Int(0));
}

Result<std::vector<ResourceRow>> MetadataStore::List(const std::string& kind, const ListFilter& f) {
  std::string sql = "SELECT kind, id, name, arn, status, created_ms, doc FROM resources";
  std::vector<std::string> texts;
  AppendFilter(kind, f, sql, texts);
  sql += f.descending ? " ORDER BY created_ms DESC, id DESC" : " ORDER BY created_ms, id";
  if (f.limit > 0) sql += " LIMIT " + std::to_string(f.limit) + " OFFSET " + std::to_string(f.offset);
  else if (f.offset > 0) sql += " LIMIT -1 OFFSET " + std::to_string(f.offset);

  // Rows are copied out under the lock and their JSON parsed after it, so a long listing does not
  // hold up every other request.
  struct RawRow {
    ResourceRow row;
    std::string doc;
  };
  std::vector<RawRow> raw;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Statement s(db_, sql.c_str());
    for (size_t i = 0; i < texts.size(); ++i) s.Bind(static_cast<int>(i) + 1, texts[i]);
    int rc;
    while ((rc = s.Step()) == SQLITE_ROW) {
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
    if (rc != SQLITE_DONE) return s.Error("list " + kind);
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
  Statement s(db_, "DELETE FROM resources WHERE kind = ? AND id = ?");
  s.Bind(1, kind).Bind(2, id);
  if (s.Step() != SQLITE_DONE) return s.Error("delete " + kind);
  return Status::Ok();
}

Status MetadataStore::SetTags(const std::string& arn, const std::map<std::string, std::string>& tags) {
  std::lock_guard<std::mutex> lock(mu_);
  return SetTagsLocked(arn, tags);
}

Status MetadataStore::SetTagsLocked(const std::string& arn, const std::map<std::string, std::string>& tags) {
  for (const auto& [k, v] : tags) {
    Statement s(db_, "INSERT OR REPLACE INTO tags (arn, key, value) VALUES (?,?,?)");
    s.Bind(1, arn).Bind(2, k).Bind(3, v);
    if (s.Step() != SQLITE_DONE) return s.Error("tag " + arn);
  }
  return Status::Ok();
}

Status MetadataStore::RemoveTags(const std::string& arn, const std::vector<std::string>& keys) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& k : keys) {
    Statement s(db_, "DELETE FROM tags WHERE arn = ? AND key = ?");
    s.Bind(1, arn).Bind(2, k);
    if (s.Step() != SQLITE_DONE) return s.Error("untag " + arn);
  }
  return Status::Ok();
}

Result<std::map<std::string, std::string>> MetadataStore::Tags(const std::string& arn) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement s(db_, "SELECT key, value FROM tags WHERE arn = ? ORDER BY key");
  s.Bind(1, arn);
  std::map<std::string, std::string> tags;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) tags[s.Text(0)] = s.Text(1);
  if (rc != SQLITE_DONE) return s.Error("tags of " + arn);
  return tags;
}

Result<std::string> MetadataStore::RememberToken(const std::string& scope, const std::string& token,
                                                 const std::string& value) {
  std::lock_guard<std::mutex> lock(mu_);
  {
    Statement s(db_, "INSERT OR IGNORE INTO tokens (scope, token, value) VALUES (?,?,?)");
    s.Bind(1, scope).Bind(2, token).Bind(3, value);
    if (s.Step() != SQLITE_DONE) return s.Error("client token");
  }
  Statement s(db_, "SELECT value FROM tokens WHERE scope = ? AND token = ?");
  s.Bind(1, scope).Bind(2, token);
  if (s.Step() != SQLITE_ROW) return s.Error("client token");
  return s.Text(0);
}

}  // namespace lathe::store
