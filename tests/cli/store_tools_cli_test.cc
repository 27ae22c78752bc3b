// The tools that read lathe serve's store directly (cli/store_choice.h), through the built binary,
// on a data directory's lathe.db and on a PostgreSQL store (ctest's throwaway server,
// LATHE_TEST_PG_URL; those variants skip without one). Rows are written as the servers write them
// (IAM, EventBridge's dead letters) or by the tools themselves (`lathe registry create-group`),
// then read back by another invocation. On PostgreSQL the node's data directory is empty: a tool
// that still read DATA_DIR/lathe.db would answer "no lathe.db".
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/arn.h"
#include "services/events/dispatcher.h"
#include "services/iam/backend.h"
#include "store/migrations.h"
#include "store/store_backends.h"
#include "test_util.h"

namespace lathe {
namespace {

using nlohmann::json;
using store::Backend;
using testing::RunLatheBinary;

constexpr const char* kAccount = "000000000000";

class StoreToolsCliTest : public store::StoreBackendTest {
 protected:
  void SetUp() override {
    StoreBackendTest::SetUp();
    if (IsSkipped()) return;
    shared_ = GetParam() == Backend::kPostgres;
    // SQLite: the data directory's lathe.db; PostgreSQL: --store, beside an empty data directory.
    args_ = shared_ ? "--store '" + location() + "' --data-dir '" + node_.path() + "'" : "--data-dir '" + dir_.path() + "'";
    auto opened = store::MetadataStore::Open(location());
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    db_ = std::move(*opened);
  }
  // What lathe serve writes: an IAM user allowed to read one bucket, and a dead-lettered
  // EventBridge delivery.
  void Populate() {
    iam::IamBackend iam(db_.get());
    iam::CreateUserInput user;
    user.name = "ci";
    ASSERT_TRUE(iam.CreateUser(kAccount, user).ok());
    ASSERT_TRUE(iam.PutUserPolicy(kAccount, "ci", "read-training",
                                  R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject",)"
                                  R"("Resource":"arn:aws:s3:::training/*"}]})")
                    .ok());
    store::ResourceRow failed;
    failed.kind = events::kFailedDeliveryKind;
    failed.id = failed.name = "delivery-1";
    failed.status = "failed";
    failed.created_ms = NowMillis();
    failed.doc = {{"ruleArn", "arn:aws:events:us-east-1:000000000000:rule/on-job"},
                  {"targetArn", "arn:aws:lambda:us-east-1:000000000000:function:notify"},
                  {"attempts", 3},
                  {"lastError", "HTTP 500 from the target"},
                  {"nextAttemptMs", NowMillis()}};
    ASSERT_TRUE(db_->Insert(failed).ok());
  }
  // Runs `lathe COMMAND ARGS` and parses its JSON output.
  json RunJson(const std::string& command, const std::string& args) {
    std::string out, err;
    EXPECT_EQ(RunLatheBinary(command + " --json " + args, &out, &err), 0) << command << ": " << err;
    json j = json::parse(out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << command << ": " << out;
    return j;
  }
  bool shared_ = false;
  std::string args_;
  testing::TempDir node_;  // the node's own data directory (models, job folders), empty here
  std::unique_ptr<store::MetadataStore> db_;
};

TEST_P(StoreToolsCliTest, ToolsReadAndWriteTheChosenStore) {
  Populate();
  std::string out, err;
  // The registry: one invocation writes, another reads.
  ASSERT_EQ(RunLatheBinary("registry create-group banking --description 'support answers' " + args_, &out, &err), 0)
      << err;
  json groups = RunJson("registry groups", args_);
  ASSERT_EQ(groups.size(), 1u) << groups;
  EXPECT_EQ(groups[0]["name"], "banking");
  EXPECT_EQ(groups[0]["description"], "support answers");

  json decisions = RunJson("iam simulate --user ci --action s3:GetObject --resource arn:aws:s3:::training/a.jsonl", args_);
  ASSERT_EQ(decisions.size(), 1u) << decisions;
  EXPECT_EQ(decisions[0]["decision"], "allowed");
  EXPECT_NE(decisions[0]["decidedBy"].get<std::string>().find("read-training"), std::string::npos) << decisions;

  json failed = RunJson("events failed", args_);
  ASSERT_EQ(failed.size(), 1u) << failed;
  EXPECT_EQ(failed[0]["lastError"], "HTTP 500 from the target");
  EXPECT_EQ(failed[0]["attempts"], 3);

  EXPECT_EQ(RunJson("notifications --deliveries", args_), json::array());
  json costs = RunJson("costs", args_);
  EXPECT_TRUE(costs.is_object()) << costs;

  // Without a server, deployments stats reads the store: an unknown deployment is the store's answer.
  EXPECT_EQ(RunLatheBinary("deployments stats nope --endpoint http://127.0.0.1:1 " + args_, &out, &err), 1);
  EXPECT_NE(err.find("reading the numbers last flushed to the store"), std::string::npos) << err;
  EXPECT_EQ(err.find("no lathe.db"), std::string::npos) << err;
}

TEST_P(StoreToolsCliTest, DoctorChecksTheStoresSchemaVersion) {
  json report = RunJson("doctor", args_);
  std::vector<std::string> store_findings;
  for (const auto& f : report["findings"])
    if (f["area"] == "store") store_findings.push_back(f["level"].get<std::string>() + " " + f["what"].get<std::string>());
  const std::string version = "has schema version " + std::to_string(store::LatheDbSchemaVersion()) + " (this lathe's)";
  ASSERT_FALSE(store_findings.empty()) << report;
  EXPECT_EQ(store_findings[0].rfind("ok ", 0), 0u) << store_findings[0];
  EXPECT_NE(store_findings[0].find(version), std::string::npos) << store_findings[0];
  std::string all;
  for (const auto& f : store_findings) all += f + "\n";
  if (shared_) {
    EXPECT_NE(all.find("no PRAGMA integrity_check"), std::string::npos) << all;
    EXPECT_EQ(all.find("PRAGMA integrity_check: ok"), std::string::npos) << all;
  } else {
    EXPECT_NE(all.find("PRAGMA integrity_check: ok"), std::string::npos) << all;
  }
}

TEST_P(StoreToolsCliTest, BackupAndCleanupOnASharedStoreSayWhatToDoInstead) {
  testing::TempDir target;
  std::string out, backup_err, cleanup_err;
  const int backup = RunLatheBinary("backup --to '" + target.path() + "/b' " + args_, &out, &backup_err);
  const int cleanup = RunLatheBinary("cleanup --keep-versions 1 " + args_, &out, &cleanup_err);
  if (!shared_) {
    EXPECT_EQ(backup, 0) << backup_err;
    EXPECT_EQ(cleanup, 0) << cleanup_err;
    return;
  }
  EXPECT_EQ(backup, 1);
  EXPECT_NE(backup_err.find("pg_dump"), std::string::npos) << backup_err;
  EXPECT_FALSE(Env::Default()->FileExists(target.path() + "/b"));  // nothing half-made
  EXPECT_EQ(cleanup, 1);
  EXPECT_NE(cleanup_err.find("--dry-run"), std::string::npos) << cleanup_err;
  ASSERT_EQ(RunLatheBinary("cleanup --dry-run --keep-versions 1 " + args_, &out, &cleanup_err), 0) << cleanup_err;
  EXPECT_NE(out.find("Nothing to delete"), std::string::npos) << out;
}

// What a PostgreSQL deployment's tools did before: read the data directory's (absent) lathe.db.
// Without --store they still do; the config's "store" is the other way to name it.
TEST_P(StoreToolsCliTest, WithoutStoreTheDataDirectoryIsRead) {
  if (!shared_) GTEST_SKIP() << "PostgreSQL only: on SQLite the data directory is the store";
  Populate();
  std::string out, err;
  ASSERT_EQ(RunLatheBinary("registry create-group banking " + args_, &out, &err), 0) << err;
  const std::string plain = "--data-dir '" + node_.path() + "'";
  for (const std::string command :
       {"registry groups", "events failed", "iam simulate --user ci --action s3:GetObject", "costs",
        "notifications --deliveries", "deployments stats nope --endpoint http://127.0.0.1:1"}) {
    EXPECT_EQ(RunLatheBinary(command + " " + plain, &out, &err), 1) << command;
    EXPECT_NE(err.find("no lathe.db in " + node_.path() + " (is --data-dir right?"), std::string::npos)
        << command << ": " << err;
  }
  EXPECT_FALSE(Env::Default()->FileExists(node_.path() + "/lathe.db"));  // nothing made

  const std::string config = node_.Write("serve.json", json{{"store", location()}}.dump());
  json groups = RunJson("registry groups", plain + " --config '" + config + "'");
  ASSERT_EQ(groups.size(), 1u) << groups;
  EXPECT_EQ(groups[0]["name"], "banking");
  EXPECT_EQ(RunJson("events failed", plain + " --config '" + config + "'").size(), 1u);
}

LATHE_ON_BOTH_STORES(StoreToolsCliTest);

TEST(StoreToolsCli, BadStoreValuesAreRefusedByEveryTool) {
  testing::TempDir dir;
  std::string out, err;
  for (const std::string& command :
       std::vector<std::string>{"registry groups", "events failed", "iam simulate --user ci --action s3:GetObject", "costs",
        "notifications --deliveries", "cleanup --dry-run --keep-versions 1", "backup --to " + dir.path() + "/b",
        "deployments stats x --endpoint http://127.0.0.1:1"}) {
    EXPECT_EQ(RunLatheBinary(command + " --data-dir '" + dir.path() + "' --store mysql://db/lathe", &out, &err), 1)
        << command;
    EXPECT_NE(err.find("--store: expected a postgresql:// URL"), std::string::npos) << command << ": " << err;
    EXPECT_EQ(RunLatheBinary(command + " --store 'postgresql://u:hunter2@127.0.0.1:1/x?connect_timeout=2'", &out, &err),
              1)
        << command;
    EXPECT_EQ(err.find("hunter2"), std::string::npos) << command << ": " << err;
  }
  // doctor reports a bad store as a finding (and exits 1 with the other findings).
  EXPECT_EQ(RunLatheBinary("doctor --json --data-dir '" + dir.path() + "' --store mysql://db/lathe", &out, &err), 1);
  EXPECT_NE(out.find("--store: expected a postgresql:// URL"), std::string::npos) << out;
  EXPECT_EQ(RunLatheBinary("doctor --json --data-dir '" + dir.path() +
                               "' --store 'postgresql://u:hunter2@127.0.0.1:1/x?connect_timeout=2'",
                           &out, &err),
            1);
  EXPECT_NE(out.find("cannot reach the shared store"), std::string::npos) << out;
  EXPECT_EQ(out.find("hunter2"), std::string::npos) << out;
}

}  // namespace
}  // namespace lathe
