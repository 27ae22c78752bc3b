// lathe serve's metadata: jobs, custom models, provisioned throughput, tags and idempotency
// tokens, in one SQLite database (WAL, synchronous=NORMAL: a crash loses at most the last
// transactions, never the file), or in PostgreSQL, the store several nodes share
// (docs/scale-out.md): the same tables, migrations and semantics through one SQL seam (sql_db.h). Each resource is a row with its queryable columns plus a JSON
// document the service owns; the store knows nothing of Bedrock's shapes. Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>
#include <string>
#include <vector>

#include "core/status.h"

namespace lathe::store {

class SqlDb;

struct ResourceRow {
  std::string kind;  // "job", "custom-model", "provisioned-model"
  std::string id;
  std::string name;  // unique within a kind
  std::string arn;
  std::string status;
  int64_t created_ms = 0;
  nlohmann::json doc = nlohmann::json::object();
};

// An event in the outbox (the bus inside lathe): published in the same transaction as the state
// change that causes it, read by consumers in order, after a crash as before one. Fields follow
// EventBridge's envelope, so the EventBridge service can deliver them as they are.
struct OutboxEvent {
  int64_t seq = 0;          // assigned by the store on publish; increasing
  std::string source;       // "aws.bedrock"
  std::string detail_type;  // "Model Customization Job State Change"
  std::string account, region;
  std::vector<std::string> resources;  // ARNs
  nlohmann::json detail = nlohmann::json::object();
  int64_t time_ms = 0;
  // EventBridge's event id when the publisher chose one (PutEvents answers it to the caller);
  // "" lets the consumer derive a stable one from seq.
  std::string id;
  // The EventBridge bus it was put on; "" is the account's default bus.
  std::string event_bus;
};

// Changes written as one transaction (MetadataStore::Write): all of them or none. A consumer
// records what it derived from events (rows) together with its new cursor, so a crash never
// leaves the cursor past work that was not recorded.
// A precondition of a WriteBatch, checked inside its transaction before any change: the row
// (kind, id) exists and its document's top-level `key` equals `value` (a missing key reads as
// null). Otherwise the whole batch is refused with Conflict (NotFound when the row is gone), so a
// read-modify-write across processes can compare-and-swap on a revision number in the document.
struct Expect {
  std::string kind, id, key;
  nlohmann::json value;
};

struct WriteBatch {
  std::vector<Expect> expects;  // checked first; any failing one refuses the batch
  std::vector<ResourceRow> inserts;
  std::vector<ResourceRow> updates;                          // status and doc, as Update
  std::vector<std::pair<std::string, std::string>> deletes;  // kind, id
  std::vector<OutboxEvent> events;                           // published
  std::optional<std::pair<std::string, int64_t>> cursor;     // consumer, seq
  // Tags set on ARNs (as SetTags), with the rows they describe.
  std::vector<std::pair<std::string, std::map<std::string, std::string>>> tags;
};

class MetadataStore {
 public:
  // Opens (creating if needed) the database file, e.g. DATA_DIR/lathe.db, or, for a
  // postgresql:// URL, that database; either is brought to the binary's schema version.
  static Result<std::unique_ptr<MetadataStore>> Open(const std::string& path_or_url);
  ~MetadataStore();

  // AlreadyExists when the kind already has a row of that name (or id).
  Status Insert(const ResourceRow& row);
  // Replaces status and doc of an existing row; NotFound when it is gone.
  Status Update(const ResourceRow& row);
  // The same only while the stored status is `expected_status` (compare-and-swap), so two writers
  // cannot undo each other's transitions; Conflict names the status found otherwise.
  Status UpdateIf(const ResourceRow& row, const std::string& expected_status);
  // By ARN, id or name, in that order when several rows match (a name like another row's id does
  // not shadow it); NotFound names what was looked for.
  Result<ResourceRow> Find(const std::string& kind, const std::string& id_name_or_arn);
  // Rows of a kind matching the filter, oldest first unless descending; filtering, ordering and
  // paging happen in SQL, so only the rows returned are parsed (List cost does not grow with
  // history).
  struct ListFilter {
    std::vector<std::string> statuses;  // any of these; empty = all
    std::string name_contains;
    int64_t created_after = -1, created_before = -1;    // exclusive, ms; -1 = unbounded
    std::map<std::string, std::string> doc_equals;      // top-level document key -> string value
    bool descending = false;
    size_t offset = 0, limit = 0;                        // limit 0 = no limit
  };
  Result<std::vector<ResourceRow>> List(const std::string& kind, const ListFilter& filter);
  Result<std::vector<ResourceRow>> List(const std::string& kind) { return List(kind, ListFilter{}); }
  // How many rows List would find without paging (ordering, offset and limit are ignored), counted
  // in SQL: no row is read or parsed.
  Result<size_t> Count(const std::string& kind, const ListFilter& filter);
  Status Delete(const std::string& kind, const std::string& id);

  // Update(row) and publishing `event` as one transaction: both happen or neither does.
  Status UpdateAndPublish(const ResourceRow& row, const OutboxEvent& event);
  // Insert(row) likewise.
  Status InsertAndPublish(const ResourceRow& row, const OutboxEvent& event);
  // Everything in `batch` as one transaction; the first failing change rolls all back.
  Status Write(const WriteBatch& batch);
  // Inserts every row in one transaction: all of them or none (SNS: a message and its deliveries).
  Status InsertAll(const std::vector<ResourceRow>& rows);
  // Called each time an event is written to the outbox, inside the store's lock and before the
  // transaction commits (a reader that then takes the lock sees it, or nothing if it rolled back):
  // the consumer's wake-up. Only this process's events call it: on a shared PostgreSQL store,
  // consumers also poll EventsAfter to see other nodes' events. It must not call the store. Set once, before other threads use it.
  void set_publish_listener(std::function<void()> listener) { publish_listener_ = std::move(listener); }
  // Events with seq > after, oldest first, at most `limit`.
  Result<std::vector<OutboxEvent>> EventsAfter(int64_t after, size_t limit);
  // A consumer's position (0 before its first event); consumers save it after handling events,
  // so delivery is at least once.
  Result<int64_t> Cursor(const std::string& consumer);
  Status SetCursor(const std::string& consumer, int64_t seq);

  // Tags of any ARN.
  Status SetTags(const std::string& arn, const std::map<std::string, std::string>& tags);
  Status RemoveTags(const std::string& arn, const std::vector<std::string>& keys);
  Result<std::map<std::string, std::string>> Tags(const std::string& arn);

  // Idempotency: the first caller with (scope, token) stores `value`; later callers get the
  // stored value back. Returns the value that holds for the token.
  Result<std::string> RememberToken(const std::string& scope, const std::string& token, const std::string& value);

 private:
  // S3's and Step Functions' tables live in this database so that their rows and their events
  // share a transaction; they use sql_ under mu_.
  friend class ObjectIndex;
  friend class ExecutionStore;
  friend class WorkLeases;
  friend class NodeRegistry;
  explicit MetadataStore(std::unique_ptr<SqlDb> sql);
  // Inserts the event; the caller holds mu_ inside a transaction.
  Status PublishLocked(const OutboxEvent& event);
  Status UpdateLocked(const ResourceRow& row);
  Status InsertLocked(const ResourceRow& row);
  Status DeleteLocked(const std::string& kind, const std::string& id);
  Status SetCursorLocked(const std::string& consumer, int64_t seq);
  Status CheckExpectLocked(const Expect& expect);
  Status SetTagsLocked(const std::string& arn, const std::map<std::string, std::string>& tags);
  std::unique_ptr<SqlDb> sql_;
  std::mutex mu_;
  std::function<void()> publish_listener_;
};

}  // namespace lathe::store
