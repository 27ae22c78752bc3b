// `lathe --version`, `lathe doctor`, and the command lines of `lathe backup` / `lathe restore`
// (their work is tested in tests/store/data_dir_backup_test.cc and the operations integration test).
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "store/metadata_store.h"
#include "store/migrations.h"
#include "test_util.h"

namespace lathe {
namespace {

using testing::RunLatheBinary;
using testing::TempDir;

TEST(VersionCli, PrintsVersionCommitLibtorchAndStoreVersions) {
  std::string out;
  ASSERT_EQ(RunLatheBinary("--version", &out), 0);
  EXPECT_EQ(out.rfind("lathe 0.", 0), 0u) << out;
  EXPECT_NE(out.find("(commit "), std::string::npos) << out;
  EXPECT_EQ(out.find("commit unknown"), std::string::npos) << out;  // built from a git checkout
  EXPECT_NE(out.find(", libtorch 1."), std::string::npos) << out;
  EXPECT_NE(out.find("lathe.db schema version " + std::to_string(store::LatheDbSchemaVersion())), std::string::npos)
      << out;
}

// lathe doctor --json on `dir`; returns the exit code and the findings of `area`.
int Doctor(const std::string& args, std::vector<nlohmann::json>* findings, const std::string& area) {
  std::string out, err;
  const int rc = RunLatheBinary("doctor --json " + args, &out, &err);
  auto j = nlohmann::json::parse(out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << out << err;
  if (!j.is_discarded())
    for (const auto& f : j["findings"])
      if (f["area"] == area) findings->push_back(f);
  return rc;
}

bool Has(const std::vector<nlohmann::json>& findings, const std::string& level, const std::string& text) {
  for (const auto& f : findings)
    if (f["level"] == level && (f["what"].get<std::string>() + f["fix"].get<std::string>()).find(text) != std::string::npos)
      return true;
  return false;
}

// A data directory lathe serve would leave: lathe.db at the current schema, keys 0600, and a
// config whose model is a folder with config.json (so the default model is not needed).
struct DataDir {
  TempDir dir;
  std::string data = dir.path() + "/data";
  std::string args;
  DataDir() {
    std::filesystem::create_directories(data);
    EXPECT_TRUE(store::MetadataStore::Open(data + "/lathe.db").ok());
    ::chmod(dir.Write("data/credentials.json", "{}").c_str(), 0600);
    dir.Write("model/config.json", "{}");
    dir.Write("config.json", "{\"models\": {\"lathe.default-v1\": \"" + dir.path() + "/model\"}}");
    args = "--data-dir " + data + " --config " + dir.path() + "/config.json --listen 127.0.0.1:0";  // port 0: not checked
  }
};

TEST(DoctorCli, AHealthyDataDirectoryExitsZeroWithTheStoreChecked) {
  DataDir d;
  std::vector<nlohmann::json> store, models, perms;
  EXPECT_EQ(Doctor(d.args, &store, "store"), 0);
  EXPECT_TRUE(Has(store, "ok", "schema version " + std::to_string(store::LatheDbSchemaVersion()) + " (this lathe's)"));
  EXPECT_TRUE(Has(store, "ok", "integrity_check: ok"));
  Doctor(d.args, &models, "model");
  EXPECT_TRUE(Has(models, "ok", "lathe.default-v1 -> "));
  Doctor(d.args, &perms, "permissions");
  EXPECT_TRUE(Has(perms, "ok", "credentials.json (the server's access keys) is 0600"));
}

TEST(DoctorCli, ReadableKeysANewerOrDamagedStoreAndAMissingModelAreErrorsWithFixes) {
  DataDir d;
  ::chmod((d.data + "/credentials.json").c_str(), 0644);
  std::vector<nlohmann::json> perms;
  EXPECT_EQ(Doctor(d.args, &perms, "permissions"), 1);
  EXPECT_TRUE(Has(perms, "error", "chmod 600 " + d.data + "/credentials.json"));
  ::chmod((d.data + "/credentials.json").c_str(), 0600);

  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((d.data + "/lathe.db").c_str(), &db), SQLITE_OK);
    sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr);
    sqlite3_close(db);
  }
  std::vector<nlohmann::json> store;
  EXPECT_EQ(Doctor(d.args, &store, "store"), 1);
  EXPECT_TRUE(Has(store, "error", "schema version 99, newer than this lathe knows (" +
                                     std::to_string(store::LatheDbSchemaVersion()) + ")"));

  // Pages overwritten in the middle of the file: integrity_check names the damage.
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((d.data + "/lathe.db").c_str(), &db), SQLITE_OK);
    const std::string current = "PRAGMA user_version = " + std::to_string(store::LatheDbSchemaVersion()) + ";";
    sqlite3_exec(db, (current + " PRAGMA journal_mode=DELETE; CREATE TABLE filler (x);"
                     "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) "
                     "INSERT INTO filler SELECT printf('%0500d', i) FROM n;").c_str(), nullptr, nullptr, nullptr);
    sqlite3_close(db);
    std::fstream f(d.data + "/lathe.db", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(40 * 4096);
    const std::string junk(8192, '\x5a');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  store.clear();
  EXPECT_EQ(Doctor(d.args, &store, "store"), 1);
  EXPECT_TRUE(Has(store, "error", "lathe restore")) << nlohmann::json(store).dump();

  std::vector<nlohmann::json> models;
  d.dir.Write("config.json", "{\"models\": {\"lathe.default-v1\": \"" + d.dir.path() + "/gone\"}}");
  Doctor(d.args, &models, "model");
  EXPECT_TRUE(Has(models, "error", "no config.json there"));
}

// A model listed in lathe.db whose folder is gone (a backup taken while it was being deleted,
// restored) is named, with what to do.
TEST(DoctorCli, AModelListedWithoutItsFilesIsAnError) {
  DataDir d;
  d.dir.Write("data/custom-models/kept/config.json", "{}");
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((d.data + "/lathe.db").c_str(), &db), SQLITE_OK);
    const std::string sql =
        "INSERT INTO resources VALUES ('custom-model', 'k', 'kept', 'arn:k', 'Active', 1, '{\"_dir\": \"" + d.data +
        "/custom-models/kept\"}'), ('imported-model', 'g', 'gone-model', 'arn:g', 'Active', 2, '{\"_dir\": \"" +
        d.data + "/imported-models/gone\"}'), ('custom-model', 'x', 'not-json', 'arn:x', 'Active', 3, '{')";
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  std::vector<nlohmann::json> models;
  EXPECT_EQ(Doctor(d.args, &models, "model"), 1);
  EXPECT_TRUE(Has(models, "error", "1 model(s) listed in lathe.db have no files")) << nlohmann::json(models).dump();
  EXPECT_TRUE(Has(models, "error", "gone-model -> " + d.data + "/imported-models/gone"));
  EXPECT_FALSE(Has(models, "error", "kept ->"));
}

TEST(DoctorCli, APortHeldByAnotherProgramIsNamed) {
  DataDir d;
  int bound = 0;
  const int fd = lathe::testing::BindLoopback(&bound, /*listen=*/true);
  ASSERT_GE(fd, 0);
  const std::string port = std::to_string(bound);
  std::vector<nlohmann::json> found;
  Doctor("--data-dir " + d.data + " --listen 127.0.0.1:" + port, &found, "port");
  EXPECT_TRUE(Has(found, "warning", "in use by another program")) << nlohmann::json(found).dump();
  EXPECT_TRUE(Has(found, "warning", "sport = :" + port));
  ::close(fd);
  // Closed, the port is free again, unless another test running meanwhile took it: a few tries.
  bool free_seen = false;
  for (int attempt = 0; attempt < 5 && !free_seen; ++attempt) {
    found.clear();
    Doctor("--data-dir " + d.data + " --listen 127.0.0.1:" + port, &found, "port");
    free_seen = Has(found, "ok", "is free");
  }
  EXPECT_TRUE(free_seen) << nlohmann::json(found).dump();
  found.clear();
  Doctor("--data-dir " + d.data + " --clock-url file:///etc/passwd", &found, "clock");
  EXPECT_TRUE(Has(found, "error", "must be an http:// or https:// URL"));
}

TEST(BackupCli, UsageAndRefusals) {
  TempDir dir;
  std::string out, err;
  EXPECT_EQ(RunLatheBinary("backup", &out, &err), 2);  // --to is required
  EXPECT_EQ(RunLatheBinary("restore --data-dir " + dir.path() + "/x", &out, &err), 2);  // --from too
  // s3:// names are checked before anything is contacted or copied: the bucket's syntax, the length.
  EXPECT_EQ(RunLatheBinary("backup --to s3://Bad_Bucket/x --endpoint http://127.0.0.1:1 --data-dir " + dir.path(), &out, &err), 1);
  EXPECT_NE(err.find("Bad_Bucket"), std::string::npos) << err;
  EXPECT_EQ(RunLatheBinary("restore --from s3://b/" + std::string(1100, 'k') + " --endpoint http://127.0.0.1:1 --data-dir " +
                               dir.path() + "/new", &out, &err), 1);
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/new"));
  // No server at the endpoint: said so, nothing restored.
  EXPECT_EQ(RunLatheBinary("restore --from s3://bucket/backups --endpoint http://127.0.0.1:1 --data-dir " + dir.path() + "/new",
                           &out, &err), 1);
  EXPECT_FALSE(err.empty());
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/new"));
  EXPECT_EQ(RunLatheBinary("backup --to " + dir.path() + "/b --data-dir " + dir.path() + "/none", &out, &err), 1);
  EXPECT_NE(err.find("no lathe.db in"), std::string::npos) << err;
  EXPECT_EQ(RunLatheBinary("restore --from " + dir.path() + " --data-dir " + dir.path() + "/new", &out, &err), 1);
  EXPECT_NE(err.find("has no manifest.json"), std::string::npos) << err;
}

// An s3:// backup never goes to the client's default endpoint nor to the server holding the data
// directory: kept in the S3 it backs up, each backup would be inside every later one.
TEST(BackupCli, AnS3BackupNeedsAnEndpointOtherThanItsOwnServer) {
  TempDir dir;
  const std::string data = dir.path() + "/data";
  std::filesystem::create_directories(data);
  std::ofstream(data + "/serve.url") << "http://127.0.0.1:8080\n";  // what lathe serve writes while it runs
  ::unsetenv("AWS_ENDPOINT_URL");
  std::string out, err;
  EXPECT_EQ(RunLatheBinary("backup --to s3://backups/nightly/ --data-dir " + data, &out, &err), 1);
  EXPECT_NE(err.find("needs --endpoint URL (or $AWS_ENDPOINT_URL)"), std::string::npos) << err;
  for (const char* self : {"http://127.0.0.1:8080", "http://localhost:8080/", "HTTP://[::1]:8080"}) {
    EXPECT_EQ(RunLatheBinary("backup --to s3://backups/nightly/ --endpoint " + std::string(self) + " --data-dir " + data,
                             &out, &err), 1);
    EXPECT_NE(err.find("is the lathe serve of " + data), std::string::npos) << self << ": " << err;
  }
  ::setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:8080", 1);
  EXPECT_EQ(RunLatheBinary("backup --to s3://backups/nightly/ --data-dir " + data, &out, &err), 1);
  EXPECT_NE(err.find("is the lathe serve of"), std::string::npos) << err;
  ::unsetenv("AWS_ENDPOINT_URL");
  // Another endpoint passes this check (and here finds no server).
  EXPECT_EQ(RunLatheBinary("backup --to s3://backups/nightly/ --endpoint http://127.0.0.1:1 --data-dir " + data, &out, &err), 1);
  EXPECT_EQ(err.find("is the lathe serve of"), std::string::npos) << err;
  EXPECT_EQ(err.find("needs --endpoint"), std::string::npos) << err;
}

}  // namespace
}  // namespace lathe
