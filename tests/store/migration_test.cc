// lathe.db's schema versions (store/migrations.h) on a data directory as lathe 0.1 left it,
// written by tests/fixtures/make_v1_data_dir.py: every row survives the upgrade, a backup is
// made first, a migration killed midway (SIGKILL) leaves the old schema and the next start
// completes it, and a database newer than the binary is refused untouched.
#include "store/migrations.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>

#include "store/execution_store.h"
#include "store/metadata_store.h"
#include "store/object_index.h"
#include "test_util.h"

namespace lathe::store {
namespace {

using lathe::testing::TempDir;

const char* kJobArn = "arn:aws:bedrock:us-east-1:000000000000:model-customization-job/lathe.default-v1/7s2arwn1h13h";
const char* kModelArn = "arn:aws:bedrock:us-east-1:000000000000:custom-model/lathe.default-v1/pb0bvt8l9pvs";
const char* kThroughputArn = "arn:aws:bedrock:us-east-1:000000000000:provisioned-model/1t7q2dbisrdf";

// Runs the fixture generator into dir/data; returns the database's path.
std::string MakeFixture(const TempDir& dir, const std::string& args = "") {
  const std::string data = dir.path() + "/data";
  const std::string cmd = "python3 " LATHE_SOURCE_DIR "/tests/fixtures/make_v1_data_dir.py " + data + " " + args +
                          " > " + dir.path() + "/fixture.json";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  return data + "/lathe.db";
}

// A raw connection, outside the store: what is really in the file.
struct RawDb {
  explicit RawDb(const std::string& path) { sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr); }
  ~RawDb() { sqlite3_close(db); }
  int64_t Int(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr);
    const int64_t v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    sqlite3_finalize(s);
    return v;
  }
  std::vector<std::string> Column(const std::string& sql) {
    std::vector<std::string> out;
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr);
    while (sqlite3_step(s) == SQLITE_ROW) {
      std::string row;
      for (int c = 0; c < sqlite3_column_count(s); ++c) {
        const void* p = sqlite3_column_blob(s, c);
        row += (c ? "|" : "") + (p ? std::string(static_cast<const char*>(p), sqlite3_column_bytes(s, c)) : "NULL");
      }
      out.push_back(row);
    }
    sqlite3_finalize(s);
    return out;
  }
  // Every row of every table, as text: what an upgrade must not change.
  std::map<std::string, std::vector<std::string>> Rows() {
    std::map<std::string, std::vector<std::string>> all;
    for (const std::string& table : Column("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"))
      all[table] = Column("SELECT * FROM \"" + table + "\" ORDER BY 1, 2");
    return all;
  }
  bool HasIndex(const std::string& name) {
    return Int("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = '" + name + "'") == 1;
  }
  sqlite3* db = nullptr;
};

// Every row of the tables `before` had; the tables an upgrade added must be empty, and are left out.
std::map<std::string, std::vector<std::string>> RowsOfOldTables(
    RawDb& raw, const std::map<std::string, std::vector<std::string>>& before) {
  auto all = raw.Rows();
  for (auto it = all.begin(); it != all.end();) {
    if (before.count(it->first)) {
      ++it;
      continue;
    }
    EXPECT_TRUE(it->second.empty()) << "the new table " << it->first << " has rows";
    it = all.erase(it);
  }
  return all;
}

std::vector<std::string> BackupsOf(const std::string& db) {
  std::vector<std::string> out;
  const std::filesystem::path p(db);
  for (const auto& e : std::filesystem::directory_iterator(p.parent_path()))
    if (e.path().filename().string().rfind(p.filename().string() + ".backup-", 0) == 0) out.push_back(e.path());
  return out;
}

TEST(SchemaMigrations, APreVersionDatabaseIsBackedUpAndUpgradedWithEveryRowKept) {
  TempDir dir;
  const std::string path = MakeFixture(dir);
  std::map<std::string, std::vector<std::string>> before;
  {
    RawDb raw(path);
    ASSERT_EQ(raw.Int("PRAGMA user_version"), 0);
    before = raw.Rows();
  }
  ASSERT_EQ(before["resources"].size(), 5u);
  auto db = MetadataStore::Open(path);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  {
    RawDb raw(path);
    EXPECT_EQ(raw.Int("PRAGMA user_version"), LatheDbSchemaVersion());
    EXPECT_TRUE(raw.HasIndex("resources_by_created"));
    EXPECT_EQ(RowsOfOldTables(raw, before), before);  // byte for byte, every table
  }
  // The backup is the database as it was: version 0, the same rows, no new index.
  const auto backups = BackupsOf(path);
  ASSERT_EQ(backups.size(), 1u);
  EXPECT_NE(backups[0].find("lathe.db.backup-v0-"), std::string::npos) << backups[0];
  {
    RawDb raw(backups[0]);
    EXPECT_EQ(raw.Int("PRAGMA user_version"), 0);
    EXPECT_FALSE(raw.HasIndex("resources_by_created"));
    EXPECT_EQ(raw.Rows(), before);
  }

  // What the services read back through the store.
  auto job = (*db)->Find("job", kJobArn);
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->status, "Completed");
  EXPECT_EQ(job->doc["outputModelArn"], kModelArn);
  auto model = (*db)->Find("custom-model", "fixture-model");
  ASSERT_TRUE(model.ok());
  EXPECT_EQ(model->arn, kModelArn);
  auto throughput = (*db)->Find("provisioned-model", kThroughputArn);
  ASSERT_TRUE(throughput.ok());
  EXPECT_EQ(throughput->status, "InService");
  EXPECT_EQ((*(*db)->Tags(kModelArn)), (std::map<std::string, std::string>{{"owner", "alice"}, {"stage", "dev"}}));
  EXPECT_EQ((*(*db)->Tags(kJobArn)), (std::map<std::string, std::string>{{"team", "ml"}}));
  EXPECT_EQ((*(*db)->Tags(kThroughputArn)), (std::map<std::string, std::string>{{"env", "test"}}));
  EXPECT_EQ(*(*db)->Cursor("events-dispatcher"), 2);
  auto events = (*db)->EventsAfter(0, 10);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[1].detail["jobStatus"], "Completed");
  auto index = ObjectIndex::Open(db->get());
  ASSERT_TRUE(index.ok());
  auto listed = (*index)->ListLatest("fixture-data", "", "", 100);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 3u);
  auto executions = ExecutionStore::Open(db->get());
  ASSERT_TRUE(executions.ok());

  // A second open finds nothing to do: no second backup.
  db->reset();
  ASSERT_TRUE(MetadataStore::Open(path).ok());
  EXPECT_EQ(BackupsOf(path).size(), 1u);
}

TEST(SchemaMigrations, VersionOneIsUpgradedToo) {
  TempDir dir;
  const std::string path = MakeFixture(dir, "--user-version 1");
  ASSERT_TRUE(MetadataStore::Open(path).ok());
  RawDb raw(path);
  EXPECT_EQ(raw.Int("PRAGMA user_version"), LatheDbSchemaVersion());
  ASSERT_EQ(BackupsOf(path).size(), 1u);
  EXPECT_NE(BackupsOf(path)[0].find(".backup-v1-"), std::string::npos);
}

TEST(SchemaMigrations, ANewFileGetsTheLatestSchemaWithoutABackup) {
  TempDir dir;
  const std::string path = dir.path() + "/lathe.db";
  ASSERT_TRUE(MetadataStore::Open(path).ok());
  RawDb raw(path);
  EXPECT_EQ(raw.Int("PRAGMA user_version"), LatheDbSchemaVersion());
  EXPECT_TRUE(raw.HasIndex("resources_by_created"));
  EXPECT_EQ(raw.Int("SELECT count(*) FROM sqlite_master WHERE name = 'sfn_history'"), 1);
  EXPECT_TRUE(BackupsOf(path).empty());
}

TEST(SchemaMigrations, AMigrationKilledMidwayLeavesTheOldSchemaAndTheNextStartCompletesIt) {
  TempDir dir;
  const std::string path = MakeFixture(dir);
  std::map<std::string, std::vector<std::string>> before = RawDb(path).Rows();
  const std::string paused = dir.path() + "/paused";
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The start-up's upgrade, stopped inside its transaction after migration 2's statements ran.
    MigrationStepHookForTesting() = [&](int version) {
      if (version != 2) return;
      FILE* f = std::fopen(paused.c_str(), "w");
      std::fclose(f);
      for (;;) pause();
    };
    (void)MetadataStore::Open(path);
    _exit(3);  // not reached unless the hook never ran
  }
  ASSERT_TRUE(lathe::testing::Eventually([&] { return std::filesystem::exists(paused); }));
  ASSERT_EQ(kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  {
    RawDb raw(path);  // the kill left a hot WAL / journal; SQLite rolls it back on this open
    EXPECT_EQ(raw.Int("PRAGMA user_version"), 0);
    EXPECT_FALSE(raw.HasIndex("resources_by_created"));
    EXPECT_EQ(raw.Column("PRAGMA integrity_check"), std::vector<std::string>{"ok"});
    EXPECT_EQ(raw.Rows(), before);
  }
  auto db = MetadataStore::Open(path);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  RawDb raw(path);
  EXPECT_EQ(raw.Int("PRAGMA user_version"), LatheDbSchemaVersion());
  EXPECT_TRUE(raw.HasIndex("resources_by_created"));
  EXPECT_EQ(RowsOfOldTables(raw, before), before);
}

TEST(SchemaMigrations, ADatabaseNewerThanTheBinaryIsRefusedUntouched) {
  TempDir dir;
  const std::string path = MakeFixture(dir);
  {
    RawDb raw(path);
    ASSERT_EQ(sqlite3_exec(raw.db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
  }
  auto before = RawDb(path).Rows();
  auto db = MetadataStore::Open(path);
  ASSERT_FALSE(db.ok());
  const std::string& msg = db.status().message();
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("schema version 99"), std::string::npos) << msg;
  EXPECT_NE(msg.find("up to " + std::to_string(LatheDbSchemaVersion())), std::string::npos) << msg;
  RawDb raw(path);
  EXPECT_EQ(raw.Int("PRAGMA user_version"), 99);
  EXPECT_EQ(raw.Rows(), before);
  EXPECT_TRUE(BackupsOf(path).empty());
}

TEST(SchemaMigrations, ListingsReadTheCreationIndexInsteadOfSorting) {
  TempDir dir;
  const std::string path = dir.path() + "/lathe.db";
  ASSERT_TRUE(MetadataStore::Open(path).ok());
  RawDb raw(path);
  for (const char* order : {"created_ms, id", "created_ms DESC, id DESC"}) {
    // MetadataStore::List's statement for a kind and a status filter, paged.
    const auto plan = raw.Column(std::string("EXPLAIN QUERY PLAN SELECT kind, id, name, arn, status, created_ms, doc "
                                             "FROM resources WHERE kind = 'job' AND status IN ('Completed') ORDER BY ") +
                                 order + " LIMIT 10 OFFSET 0");
    std::string text;
    for (const auto& row : plan) text += row + "\n";
    EXPECT_NE(text.find("resources_by_created"), std::string::npos) << text;
    EXPECT_EQ(text.find("TEMP B-TREE"), std::string::npos) << text;
  }
}

// A server whose upgrade fails is restarted by systemd again and again: each start must not leave
// one more copy of the same database. A changed database gets a backup of its own.
TEST(SchemaMigrations, AFailingUpgradeRetriedKeepsOneBackupOfTheUnchangedDatabase) {
  TempDir dir;
  const std::string path = dir.path() + "/x.db";
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE t (x); INSERT INTO t VALUES (1)", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  const std::vector<Migration> failing = {{1, "one", "CREATE TABLE t (x)"}};  // t exists: fails every time
  std::string first;
  for (int start = 0; start < 3; ++start) {
    RawDb raw(path);
    auto r = MigrateDatabase(raw.db, path, failing);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("schema migration 1 (one)"), std::string::npos) << r.status().message();
    ASSERT_EQ(BackupsOf(path).size(), 1u) << "start " << start;
    if (start == 0) first = BackupsOf(path)[0];
    EXPECT_EQ(BackupsOf(path)[0], first);
  }
  {
    RawDb raw(path);
    ASSERT_EQ(sqlite3_exec(raw.db, "INSERT INTO t VALUES (2)", nullptr, nullptr, nullptr), SQLITE_OK);
    ASSERT_FALSE(MigrateDatabase(raw.db, path, failing).ok());
  }
  EXPECT_EQ(BackupsOf(path).size(), 2u);
}

// The backup's own failure says why (here: the folder `path` names is not there); the disk
// advice only when the disk is the reason.
TEST(SchemaMigrations, ABackupThatCannotBeWrittenSaysWhy) {
  TempDir dir;
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir.path() + "/x.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE t (x)", nullptr, nullptr, nullptr), SQLITE_OK);
  auto r = MigrateDatabase(db, dir.path() + "/gone/x.db", {{1, "one", "CREATE TABLE u (x)"}});
  ASSERT_FALSE(r.ok());
  const std::string& msg = r.status().message();
  EXPECT_NE(msg.find("its backup failed"), std::string::npos) << msg;
  EXPECT_NE(msg.find("No such file or directory"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("Free disk space"), std::string::npos) << msg;
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, nullptr);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(s, 0), 0);  // nothing ran
  sqlite3_finalize(s);
  sqlite3_close(db);
}

TEST(SchemaMigrations, MigrationsMustBeNumberedInOrder) {
  TempDir dir;
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir.path() + "/x.db").c_str(), &db), SQLITE_OK);
  std::vector<Migration> gap = {{1, "one", "CREATE TABLE a (x)"}, {3, "three", "CREATE TABLE b (x)"}};
  EXPECT_EQ(MigrateDatabase(db, dir.path() + "/x.db", gap).status().code(), Status::Code::kInternal);
  // A failing statement rolls back the ones before it.
  std::vector<Migration> bad = {{1, "one", "CREATE TABLE a (x)"}, {2, "two", "CREATE TABLE a (x)"}};
  auto r = MigrateDatabase(db, dir.path() + "/x.db", bad);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("schema migration 2 (two)"), std::string::npos) << r.status().message();
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master", -1, &s, nullptr);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(s, 0), 0);
  sqlite3_finalize(s);
  sqlite3_close(db);
}

}  // namespace
}  // namespace lathe::store
