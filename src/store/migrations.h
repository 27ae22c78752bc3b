// Schema versions and forward-only migrations for lathe's SQLite databases.
//
// A database records its schema version in SQLite's header (PRAGMA user_version; 0 = a database
// lathe wrote before versions existed, whose tables are version 1's). At start-up, a database
// older than the binary is first copied beside itself with SQLite's online backup API
// (`lathe.db.backup-v<from>-<UTC time>`; an earlier backup of that version with the same bytes is
// kept instead, so retried failing upgrades leave one), then every missing migration runs, in order, inside one
// BEGIN IMMEDIATE transaction that also sets the new version: a crash or SIGKILL midway leaves
// the old schema and data as they were, and the next start runs them again. A database newer
// than the binary is refused, naming the file, its version and the binary's.
//
// Adding a migration is one entry at the end of LatheDbMigrations() (lathe_db_schema.cc); see
// docs/architecture.md#schema-versions-and-migrations.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/status.h"

struct sqlite3;

namespace lathe::store {

class SqlDb;

struct Migration {
  int version;          // 1, 2, 3, ... in order, without gaps
  const char* summary;  // one line for users: docs/CHANGELOG.md and `lathe doctor` say it too
  const char* sql;      // statements run inside the upgrade's transaction
  // The same change in PostgreSQL's dialect (BIGINT, identity columns, collation "C" where
  // SQLite compares bytes); null when `sql` reads the same on both.
  const char* postgres_sql = nullptr;
};

struct MigrationReport {
  int from = 0, to = 0;      // equal when nothing ran
  std::string backup_path;   // "" when no backup was needed (nothing ran, or a new empty file)
};

// Brings the open database at `path` to the last migration's version (see above). `path` names
// the file in messages and places the backup beside it.
Result<MigrationReport> MigrateDatabase(sqlite3* db, const std::string& path, const std::vector<Migration>& migrations);

// The same for a PostgreSQL store (sql_db.h): the version is the row of table lathe_schema, and
// the missing migrations' postgres_sql runs in one transaction under an advisory lock, so nodes
// starting together upgrade once. No backup is made: that is pg_dump's job (docs/scale-out.md).
// A database newer than the binary is refused as above.
Result<MigrationReport> MigratePostgres(SqlDb& db, const std::vector<Migration>& migrations);

// PRAGMA user_version.
Result<int> SchemaVersion(sqlite3* db);

// Copies the whole database `from` into a new file `to_path` with SQLite's online backup API: a
// consistent snapshot even while other connections (other processes) write; WAL contents
// included. The copy is a rollback-journal database with no -wal file of its own.
Status BackupDatabase(sqlite3* from, const std::string& to_path);

// lathe.db's migrations, in order (lathe_db_schema.cc), and the version they end at.
const std::vector<Migration>& LatheDbMigrations();
int LatheDbSchemaVersion();

// Test seam: called inside the upgrade transaction after each migration's statements ran, with
// its version (e.g. to pause there and be killed). Empty in production.
std::function<void(int version)>& MigrationStepHookForTesting();

}  // namespace lathe::store
