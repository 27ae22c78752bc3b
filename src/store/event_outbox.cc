// The outbox half of MetadataStore (metadata_store.h): events stored with the state change that
// causes them, and consumer cursors.
#include "store/metadata_store.h"
#include "store/sql_db.h"

namespace lathe::store {
namespace {

std::string Dump(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

// On PostgreSQL, seq comes from an identity column: numbers are handed out at INSERT, but
// transactions commit in any order, so a consumer that read up to seq 12 could later see 11 commit
// and skip it forever. Publishers therefore take this transaction-scoped lock first: the next
// publisher's INSERT waits until the previous transaction ends, so seq order is commit order.
// (SQLite has one writer at a time anyway.)
constexpr const char* kPublishLock = "SELECT pg_advisory_xact_lock(7461746865000002)";

}  // namespace

Status MetadataStore::PublishLocked(const OutboxEvent& event) {
  nlohmann::json e = {{"source", event.source},       {"detailType", event.detail_type}, {"account", event.account},
                      {"region", event.region},       {"resources", event.resources},    {"detail", event.detail},
                      {"timeMs", event.time_ms}};
  if (!event.id.empty()) e["id"] = event.id;
  if (!event.event_bus.empty()) e["eventBus"] = event.event_bus;
  if (sql_->dialect() == SqlDialect::kPostgres) {
    // Outside a transaction the lock would end with its own statement: publishing needs one.
    if (!sql_->in_transaction()) return InSqlTransaction(*sql_, [&] { return PublishLocked(event); });
    LATHE_RETURN_IF_ERROR(sql_->RunScript(kPublishLock));
  }
  SqlQuery insert(*sql_, "INSERT INTO outbox (event) VALUES (?)");
  insert.Bind(1, Dump(e));
  LATHE_RETURN_IF_ERROR(insert.Run("publish"));
  if (publish_listener_) publish_listener_();
  return Status::Ok();
}

Status MetadataStore::UpdateAndPublish(const ResourceRow& row, const OutboxEvent& event) {
  std::lock_guard<std::mutex> lock(mu_);
  return InSqlTransaction(*sql_, [&] {
    LATHE_RETURN_IF_ERROR(UpdateLocked(row));
    return PublishLocked(event);
  });
}

Status MetadataStore::InsertAndPublish(const ResourceRow& row, const OutboxEvent& event) {
  std::lock_guard<std::mutex> lock(mu_);
  return InSqlTransaction(*sql_, [&] {
    LATHE_RETURN_IF_ERROR(InsertLocked(row));
    return PublishLocked(event);
  });
}

Status MetadataStore::Write(const WriteBatch& batch) {
  std::lock_guard<std::mutex> lock(mu_);
  return InSqlTransaction(*sql_, [&]() -> Status {
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
  // On PostgreSQL (READ COMMITTED, several nodes) the row is locked until the batch commits, so a
  // writer that read the same revision waits here and then sees the new one: compare-and-swap
  // holds across nodes. SQLite's IMMEDIATE transaction already serialises every writer.
  const std::string lock = sql_->dialect() == SqlDialect::kPostgres ? " FOR UPDATE" : "";
  SqlQuery q(*sql_, "SELECT doc FROM resources WHERE kind = ? AND id = ?" + lock);
  q.Bind(1, expect.kind).Bind(2, expect.id);
  const SqlQuery::Outcome rc = q.Step();
  if (rc == SqlQuery::kDone) return Status::NotFound(expect.kind + " " + expect.id + " does not exist");
  if (rc != SqlQuery::kRow) return q.Error("check " + expect.kind);
  const std::string text = q.Text(0);
  const nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
  const nlohmann::json found = doc.is_object() && doc.contains(expect.key) ? doc[expect.key] : nlohmann::json();
  if (found != expect.value)
    return Status::Conflict(expect.kind + " " + expect.id + " changed meanwhile (" + expect.key + " is " +
                            found.dump() + ", expected " + expect.value.dump() + ")");
  return Status::Ok();
}

Status MetadataStore::InsertAll(const std::vector<ResourceRow>& rows) {
  std::lock_guard<std::mutex> lock(mu_);
  return InSqlTransaction(*sql_, [&] {
    for (const ResourceRow& row : rows) LATHE_RETURN_IF_ERROR(InsertLocked(row));
    return Status::Ok();
  });
}

Result<std::vector<OutboxEvent>> MetadataStore::EventsAfter(int64_t after, size_t limit) {
  std::lock_guard<std::mutex> lock(mu_);
  SqlQuery q(*sql_, "SELECT seq, event FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?");
  q.Bind(1, after).Bind(2, static_cast<int64_t>(limit));
  std::vector<OutboxEvent> out;
  SqlQuery::Outcome rc;
  while ((rc = q.Step()) == SqlQuery::kRow) {
    OutboxEvent e;
    e.seq = q.Int(0);
    nlohmann::json j = nlohmann::json::parse(q.Text(1), nullptr, false);
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
  if (rc != SqlQuery::kDone) return q.Error("read events");
  return out;
}

Result<int64_t> MetadataStore::Cursor(const std::string& consumer) {
  std::lock_guard<std::mutex> lock(mu_);
  SqlQuery q(*sql_, "SELECT seq FROM outbox_cursors WHERE consumer = ?");
  q.Bind(1, consumer);
  const SqlQuery::Outcome rc = q.Step();
  if (rc != SqlQuery::kRow && rc != SqlQuery::kDone) return q.Error("read cursor");
  return rc == SqlQuery::kRow ? q.Int(0) : int64_t{0};
}

Status MetadataStore::SetCursor(const std::string& consumer, int64_t seq) {
  std::lock_guard<std::mutex> lock(mu_);
  return SetCursorLocked(consumer, seq);
}

Status MetadataStore::SetCursorLocked(const std::string& consumer, int64_t seq) {
  SqlQuery q(*sql_, "INSERT INTO outbox_cursors (consumer, seq) VALUES (?, ?) "
                    "ON CONFLICT (consumer) DO UPDATE SET seq = excluded.seq");
  q.Bind(1, consumer).Bind(2, seq);
  return q.Run("save cursor");
}

}  // namespace lathe::store
