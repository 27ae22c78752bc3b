// lathe.db's schema, as its numbered migrations: THE place where a table, column or index of
// lathe.db is added (docs/architecture.md#schema-versions-and-migrations). Append a migration;
// never edit or reorder one that has shipped: data directories already ran it. Say what it
// changes for users in docs/CHANGELOG.md.
#include "store/migrations.h"

namespace lathe::store {
namespace {

// Version 1: the schema as lathe wrote it before versions existed (user_version 0). Every
// statement is IF NOT EXISTS, so such a database adopts version 1 unchanged, and a new file gets
// the same tables.
//
// MetadataStore: resources as rows + the service's JSON document, tags, idempotency tokens, the
// event outbox and its consumers' cursors.
//
// ObjectIndex (S3): seq orders a key's versions (larger = newer; AUTOINCREMENT never reuses one).
// The partial index s3_objects_listed holds only what ListLatest returns, so listing skips
// deleted keys for free. Keys are BLOBs: SQLite compares them with memcmp, S3's byte order.
//
// ExecutionStore (Step Functions): history and frames are keyed by (execution, id) WITHOUT
// ROWID, so an execution's events are contiguous on disk and a page of history is one range
// read. Executions are listed newest first per state machine (by_machine) or overall
// (by_start); Running() walks by_status. Frames waiting on a task token are found by the
// partial index on the token.
constexpr const char* kVersion1 = R"sql(
CREATE TABLE IF NOT EXISTS resources (
  kind TEXT NOT NULL, id TEXT NOT NULL, name TEXT NOT NULL, arn TEXT NOT NULL, status TEXT NOT NULL,
  created_ms INTEGER NOT NULL, doc TEXT NOT NULL,
  PRIMARY KEY (kind, id), UNIQUE (kind, name));
CREATE INDEX IF NOT EXISTS resources_arn ON resources (arn);
CREATE TABLE IF NOT EXISTS tags (arn TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (arn, key));
CREATE TABLE IF NOT EXISTS tokens (scope TEXT NOT NULL, token TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (scope, token));
CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, event TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outbox_cursors (consumer TEXT PRIMARY KEY, seq INTEGER NOT NULL);

CREATE TABLE IF NOT EXISTS s3_objects (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  bucket TEXT NOT NULL, key BLOB NOT NULL, version_id TEXT NOT NULL,
  is_latest INTEGER NOT NULL, delete_marker INTEGER NOT NULL,
  blob TEXT NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL, modified_ms INTEGER NOT NULL, doc TEXT NOT NULL,
  UNIQUE (bucket, key, version_id));
CREATE INDEX IF NOT EXISTS s3_objects_versions ON s3_objects (bucket, key, seq DESC);
CREATE INDEX IF NOT EXISTS s3_objects_listed ON s3_objects (bucket, key) WHERE is_latest = 1 AND delete_marker = 0;
CREATE INDEX IF NOT EXISTS s3_objects_blob ON s3_objects (blob);
CREATE TABLE IF NOT EXISTS s3_uploads (
  upload_id TEXT PRIMARY KEY, bucket TEXT NOT NULL, key BLOB NOT NULL, initiated_ms INTEGER NOT NULL,
  doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS s3_uploads_by_key ON s3_uploads (bucket, key, initiated_ms, upload_id);
CREATE TABLE IF NOT EXISTS s3_parts (
  upload_id TEXT NOT NULL, part_number INTEGER NOT NULL, blob TEXT NOT NULL, size INTEGER NOT NULL,
  etag TEXT NOT NULL, modified_ms INTEGER NOT NULL, doc TEXT NOT NULL,
  PRIMARY KEY (upload_id, part_number));
CREATE INDEX IF NOT EXISTS s3_parts_blob ON s3_parts (blob);

CREATE TABLE IF NOT EXISTS sfn_executions (
  arn TEXT PRIMARY KEY, state_machine_arn TEXT NOT NULL, name TEXT NOT NULL, status TEXT NOT NULL,
  start_ms INTEGER NOT NULL, stop_ms INTEGER NOT NULL, parent_arn TEXT NOT NULL, doc TEXT NOT NULL,
  UNIQUE (state_machine_arn, name));
CREATE INDEX IF NOT EXISTS sfn_executions_by_machine ON sfn_executions (state_machine_arn, start_ms, arn);
CREATE INDEX IF NOT EXISTS sfn_executions_by_start ON sfn_executions (start_ms, arn);
CREATE INDEX IF NOT EXISTS sfn_executions_by_status ON sfn_executions (status, start_ms);
CREATE INDEX IF NOT EXISTS sfn_executions_by_parent ON sfn_executions (parent_arn) WHERE parent_arn != '';
CREATE TABLE IF NOT EXISTS sfn_history (
  execution_arn TEXT NOT NULL, id INTEGER NOT NULL, previous_id INTEGER NOT NULL, type TEXT NOT NULL,
  timestamp_ms INTEGER NOT NULL, details TEXT NOT NULL,
  PRIMARY KEY (execution_arn, id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sfn_frames (
  execution_arn TEXT NOT NULL, id INTEGER NOT NULL, parent_id INTEGER NOT NULL, status TEXT NOT NULL,
  wake_at_ms INTEGER NOT NULL, task_token TEXT NOT NULL, doc TEXT NOT NULL,
  PRIMARY KEY (execution_arn, id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sfn_frames_by_token ON sfn_frames (task_token) WHERE task_token != '';
)sql";

// Version 2: every List (ListModelCustomizationJobs, ListCustomModels, buckets, functions, ...)
// filters one kind and orders by creation time; with only the (kind, id) key SQLite read all of
// the kind's rows and sorted them before taking a page. On this index a page is a range read in
// order, both ways (newest first too).
constexpr const char* kVersion2 = R"sql(
CREATE INDEX resources_by_created ON resources (kind, created_ms, id);
)sql";

// Version 1 in PostgreSQL's dialect (a shared store, docs/scale-out.md): INTEGER is 32 bits there,
// so BIGINT; AUTOINCREMENT is an identity column; S3's keys, BLOBs in SQLite, are BYTEA (compared
// as bytes, and any byte may appear in a listing's bounds); text keys that SQLite orders by bytes
// get collation "C", which orders UTF-8 by bytes too (List's tie-break on id). Tables
// keyed WITHOUT ROWID are plain tables with the same primary key.
constexpr const char* kVersion1Postgres = R"sql(
CREATE TABLE IF NOT EXISTS resources (
  kind TEXT COLLATE "C" NOT NULL, id TEXT COLLATE "C" NOT NULL, name TEXT COLLATE "C" NOT NULL,
  arn TEXT COLLATE "C" NOT NULL, status TEXT NOT NULL, created_ms BIGINT NOT NULL, doc TEXT NOT NULL,
  PRIMARY KEY (kind, id), UNIQUE (kind, name));
CREATE INDEX IF NOT EXISTS resources_arn ON resources (arn);
CREATE TABLE IF NOT EXISTS tags (arn TEXT COLLATE "C" NOT NULL, key TEXT COLLATE "C" NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY (arn, key));
CREATE TABLE IF NOT EXISTS tokens (scope TEXT NOT NULL, token TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (scope, token));
CREATE TABLE IF NOT EXISTS outbox (seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, event TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outbox_cursors (consumer TEXT PRIMARY KEY, seq BIGINT NOT NULL);

CREATE TABLE IF NOT EXISTS s3_objects (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  bucket TEXT COLLATE "C" NOT NULL, key BYTEA NOT NULL, version_id TEXT COLLATE "C" NOT NULL,
  is_latest INTEGER NOT NULL, delete_marker INTEGER NOT NULL,
  blob TEXT NOT NULL, size BIGINT NOT NULL, etag TEXT NOT NULL, modified_ms BIGINT NOT NULL, doc TEXT NOT NULL,
  UNIQUE (bucket, key, version_id));
CREATE INDEX IF NOT EXISTS s3_objects_versions ON s3_objects (bucket, key, seq DESC);
CREATE INDEX IF NOT EXISTS s3_objects_listed ON s3_objects (bucket, key) WHERE is_latest = 1 AND delete_marker = 0;
CREATE INDEX IF NOT EXISTS s3_objects_blob ON s3_objects (blob);
CREATE TABLE IF NOT EXISTS s3_uploads (
  upload_id TEXT COLLATE "C" PRIMARY KEY, bucket TEXT COLLATE "C" NOT NULL, key BYTEA NOT NULL,
  initiated_ms BIGINT NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS s3_uploads_by_key ON s3_uploads (bucket, key, initiated_ms, upload_id);
CREATE TABLE IF NOT EXISTS s3_parts (
  upload_id TEXT NOT NULL, part_number BIGINT NOT NULL, blob TEXT NOT NULL, size BIGINT NOT NULL,
  etag TEXT NOT NULL, modified_ms BIGINT NOT NULL, doc TEXT NOT NULL,
  PRIMARY KEY (upload_id, part_number));
CREATE INDEX IF NOT EXISTS s3_parts_blob ON s3_parts (blob);

CREATE TABLE IF NOT EXISTS sfn_executions (
  arn TEXT COLLATE "C" PRIMARY KEY, state_machine_arn TEXT COLLATE "C" NOT NULL, name TEXT COLLATE "C" NOT NULL,
  status TEXT NOT NULL, start_ms BIGINT NOT NULL, stop_ms BIGINT NOT NULL, parent_arn TEXT NOT NULL, doc TEXT NOT NULL,
  UNIQUE (state_machine_arn, name));
CREATE INDEX IF NOT EXISTS sfn_executions_by_machine ON sfn_executions (state_machine_arn, start_ms, arn);
CREATE INDEX IF NOT EXISTS sfn_executions_by_start ON sfn_executions (start_ms, arn);
CREATE INDEX IF NOT EXISTS sfn_executions_by_status ON sfn_executions (status, start_ms);
CREATE INDEX IF NOT EXISTS sfn_executions_by_parent ON sfn_executions (parent_arn) WHERE parent_arn != '';
CREATE TABLE IF NOT EXISTS sfn_history (
  execution_arn TEXT NOT NULL, id BIGINT NOT NULL, previous_id BIGINT NOT NULL, type TEXT NOT NULL,
  timestamp_ms BIGINT NOT NULL, details TEXT NOT NULL,
  PRIMARY KEY (execution_arn, id));
CREATE TABLE IF NOT EXISTS sfn_frames (
  execution_arn TEXT NOT NULL, id BIGINT NOT NULL, parent_id BIGINT NOT NULL, status TEXT NOT NULL,
  wake_at_ms BIGINT NOT NULL, task_token TEXT NOT NULL, doc TEXT NOT NULL,
  PRIMARY KEY (execution_arn, id));
CREATE INDEX IF NOT EXISTS sfn_frames_by_token ON sfn_frames (task_token) WHERE task_token != '';
)sql";

// Version 3: work items that workers claim with leases (work_leases.h). `generation` grows with
// every claim: the fencing token that stops a worker whose lease expired from completing an item
// another worker now holds. Claims look for queued (or expired) items oldest first.
constexpr const char* kVersion3 = R"sql(
CREATE TABLE work_items (
  kind TEXT NOT NULL, id TEXT NOT NULL, cpus INTEGER NOT NULL, gpus INTEGER NOT NULL, memory_bytes INTEGER NOT NULL,
  state TEXT NOT NULL, worker_id TEXT NOT NULL, generation INTEGER NOT NULL, expires_ms INTEGER NOT NULL,
  enqueued_ms INTEGER NOT NULL, doc TEXT NOT NULL,
  PRIMARY KEY (kind, id));
CREATE INDEX work_items_by_state ON work_items (state, enqueued_ms);
)sql";
constexpr const char* kVersion3Postgres = R"sql(
CREATE TABLE work_items (
  kind TEXT COLLATE "C" NOT NULL, id TEXT COLLATE "C" NOT NULL, cpus BIGINT NOT NULL, gpus BIGINT NOT NULL,
  memory_bytes BIGINT NOT NULL, state TEXT NOT NULL, worker_id TEXT NOT NULL, generation BIGINT NOT NULL,
  expires_ms BIGINT NOT NULL, enqueued_ms BIGINT NOT NULL, doc TEXT NOT NULL,
  PRIMARY KEY (kind, id));
CREATE INDEX work_items_by_state ON work_items (state, enqueued_ms);
)sql";

// Version 4: the nodes sharing the store (nodes.h): each API node and worker rewrites its row
// every few seconds; `lathe status` lists them with how long ago each was last seen.
constexpr const char* kVersion4 = R"sql(
CREATE TABLE nodes (
  id TEXT PRIMARY KEY, role TEXT NOT NULL, host TEXT NOT NULL, endpoint TEXT NOT NULL, cpus INTEGER NOT NULL,
  gpus INTEGER NOT NULL, memory_bytes INTEGER NOT NULL, started_ms INTEGER NOT NULL, last_seen_ms INTEGER NOT NULL,
  detail TEXT NOT NULL);
)sql";
constexpr const char* kVersion4Postgres = R"sql(
CREATE TABLE nodes (
  id TEXT COLLATE "C" PRIMARY KEY, role TEXT COLLATE "C" NOT NULL, host TEXT NOT NULL, endpoint TEXT NOT NULL,
  cpus BIGINT NOT NULL, gpus BIGINT NOT NULL, memory_bytes BIGINT NOT NULL, started_ms BIGINT NOT NULL,
  last_seen_ms BIGINT NOT NULL, detail TEXT NOT NULL);
)sql";

}  // namespace

const std::vector<Migration>& LatheDbMigrations() {
  static const std::vector<Migration> migrations = {
      {1, "jobs, models, throughput, tags, tokens, the outbox, S3 and Step Functions tables", kVersion1,
       kVersion1Postgres},
      {2, "an index on (kind, creation time): listings read a page instead of sorting every row", kVersion2},
      {3, "work items that workers claim with leases (lathe worker, a shared PostgreSQL store)", kVersion3,
       kVersion3Postgres},
      {4, "the nodes that share the store, with their last heartbeat (lathe status)", kVersion4, kVersion4Postgres},
  };
  return migrations;
}

int LatheDbSchemaVersion() { return static_cast<int>(LatheDbMigrations().size()); }

}  // namespace lathe::store
