// The outbox half of MetadataStore (metadata_store.h): events stored with the state change that
// causes them, and consumer cursors.
#include <sqlite3.h>

#include "store/metadata_store.h"

namespace lathe::store {
namespace {

std::string Dump(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

Status SqlError(sqlite3* db, const std::string& what) {
  return Status::IOError("metadata database: " + what + ": " + sqlite3_errmsg(db));
}

}  // namespace

Status MetadataStore::PublishLocked(const OutboxEvent& event) {
  nlohmann::json e = {{"source", event.source},       {"detailType", event.detail_type}, {"account", event.account},
                      {"region", event.region},       {"resources", event.resources},    {"detail", event.detail},
                      {"timeMs", event.time_ms}};
  if (!event.id.empty()) e["id"] = event.id;
  if (!event.event_bus.empty()) e["eventBus"] = event.event_bus;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, "INSERT INTO outbox (event) VALUES (?)", -1, &st, nullptr) != SQLITE_OK)
    return SqlError(db_, "publish");
  const std::string text = Dump(e);
  sqlite3_bind_text(st, 1, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  const int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) return SqlError(db_, "publish");
  if (publish_listener_) publish_listener_();
  return Status::Ok();
}

namespace {
// BEGIN IMMEDIATE ... COMMIT around `body`, rolled back when it fails.
template <typename F>
Status InTransaction(sqlite3* db, F body) {
  if (sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) return SqlError(db, "begin");
  Status s = body();
  if (s.ok() && sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) s = SqlError(db, "commit");
  if (!s.ok()) sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
  return s;
}
}  // namespace

Status MetadataStore::UpdateAndPublish(const ResourceRow& row, const OutboxEvent& event) {
  std::lock_guard<std::mutex> lock(mu_);
  return InTransaction(db_, [&] {
    LATHE_RETURN_IF_ERROR(UpdateLocked(row));
    return PublishLocked(event);
  });
}

Status MetadataStore::InsertAndPublish(const ResourceRow& row, const OutboxEvent& event) {
  std::lock_guard<std::mutex> lock(mu_);
  return InTransaction(db_, [&] {
    LATHE_RETURN_IF_ERROR(InsertLocked(row));
    return PublishLocked(event);
  });
}

Status MetadataStore::Write(const WriteBatch& batch) {
  std::lock_guard<std::mutex> lock(mu_);
  return InTransaction(db_, [&]() -> Status {
    for (const Expect& e : batch.expects) LATHE_RETURN_IF_ERROR(CheckExpectLocked(e));
    for (const ResourceRow& row : batch.inserts) LATHE_RETURN_IF_ERROR(InsertLocked(row));
    for (const ResourceRow& row : batch.updates) LATHE_RETURN_IF_ERROR(UpdateLocked(row));
    for (const auto& [kind, id] : batch.deletes) LATHE_RETURN_IF_ERROR(DeleteLocked(kind, id));
    for (const OutboxEvent& event : batch.events) LATHE_RETURN_IF_ERROR(PublishLocked(event));
    if (batch.cursor) LATHE_RETURN_IF_ERROR(SetCursorLocked(batch.cursor->first, batch.cursor->second));
    for (const auto& [arn, tags] : batch.tags) LATHE_RETURN_IF_ERROR(SetTagsLocked(arn, tags));
    return Status::Ok();
  });
}

Status MetadataStore::CheckExpectLocked(const Expect& expect) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, "SELECT doc FROM resources WHERE kind = ? AND id = ?", -1, &st, nullptr) != SQLITE_OK)
    return SqlError(db_, "check " + expect.kind);
  sqlite3_bind_text(st, 1, expect.kind.data(), static_cast<int>(expect.kind.size()), SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, expect.id.data(), static_cast<int>(expect.id.size()), SQLITE_TRANSIENT);
  const int rc = sqlite3_step(st);
  std::string text;
  if (rc == SQLITE_ROW) {
    const auto* t = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    text = t ? t : "";
  }
  sqlite3_finalize(st);
  if (rc == SQLITE_DONE) return Status::NotFound(expect.kind + " " + expect.id + " does not exist");
  if (rc != SQLITE_ROW) return SqlError(db_, "check " + expect.kind);
  const nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
  const nlohmann::json found = doc.is_object() && doc.contains(expect.key) ? doc[expect.key] : nlohmann::json();
  if (found != expect.value)
    return Status::Conflict(expect.kind + " " + expect.id + " changed meanwhile (" + expect.key + " is " +
                            found.dump() + ", expected " + expect.value.dump() + ")");
  return Status::Ok();
}

Status MetadataStore::InsertAll(const std::vector<ResourceRow>& rows) {
  std::lock_guard<std::mutex> lock(mu_);
  return InTransaction(db_, [&] {
    for (const ResourceRow& row : rows) LATHE_RETURN_IF_ERROR(InsertLocked(row));
    return Status::Ok();
  });
}

Result<std::vector<OutboxEvent>> MetadataStore::EventsAfter(int64_t after, size_t limit) {
  std::lock_guard<std::mutex> lock(mu_);
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, "SELECT seq, event FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?", -1, &st, nullptr) !=
      SQLITE_OK)
    return SqlError(db_, "read events");
  sqlite3_bind_int64(st, 1, after);
  sqlite3_bind_int64(st, 2, static_cast<int64_t>(limit));
  std::vector<OutboxEvent> out;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    OutboxEvent e;
    e.seq = sqlite3_column_int64(st, 0);
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(st, 1));
    nlohmann::json j = nlohmann::json::parse(text ? text : "", nullptr, false);
    if (j.is_object()) {
      e.source = j.value("source", "");
      e.detail_type = j.value("detailType", "");
      e.account = j.value("account", "");
      e.region = j.value("region", "");
      e.resources = j.value("resources", std::vector<std::string>{});
      e.detail = j.value("detail", nlohmann::json::object());
      e.time_ms = j.value("timeMs", int64_t{0});
      e.id = j.value("id", "");
      e.event_bus = j.value("eventBus", "");
    }
    out.push_back(std::move(e));
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) return SqlError(db_, "read events");
  return out;
}

Result<int64_t> MetadataStore::Cursor(const std::string& consumer) {
  std::lock_guard<std::mutex> lock(mu_);
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, "SELECT seq FROM outbox_cursors WHERE consumer = ?", -1, &st, nullptr) != SQLITE_OK)
    return SqlError(db_, "read cursor");
  sqlite3_bind_text(st, 1, consumer.data(), static_cast<int>(consumer.size()), SQLITE_TRANSIENT);
  const int rc = sqlite3_step(st);
  const int64_t seq = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
  sqlite3_finalize(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return SqlError(db_, "read cursor");
  return seq;
}

Status MetadataStore::SetCursor(const std::string& consumer, int64_t seq) {
  std::lock_guard<std::mutex> lock(mu_);
  return SetCursorLocked(consumer, seq);
}

Status MetadataStore::SetCursorLocked(const std::string& consumer, int64_t seq) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, "INSERT INTO outbox_cursors (consumer, seq) VALUES (?, ?) "
                              "ON CONFLICT(consumer) DO UPDATE SET seq = excluded.seq", -1, &st, nullptr) != SQLITE_OK)
    return SqlError(db_, "save cursor");
  sqlite3_bind_text(st, 1, consumer.data(), static_cast<int>(consumer.size()), SQLITE_TRANSIENT);
  sqlite3_bind_int64(st, 2, seq);
  const int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? Status::Ok() : SqlError(db_, "save cursor");
}

}  // namespace lathe::store
