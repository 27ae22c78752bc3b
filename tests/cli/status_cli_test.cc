// `lathe status` through the built binary, on a data directory's lathe.db and on a PostgreSQL store
// (ctest's throwaway server, LATHE_TEST_PG_URL; the PostgreSQL variant skips without one): nodes
// written by NodeRegistry as lathe serve and lathe worker write them, work items leased and queued.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/arn.h"
#include "store/nodes.h"
#include "store/store_backends.h"
#include "store/work_leases.h"
#include "test_util.h"

namespace lathe {
namespace {

using nlohmann::json;
using store::Backend;
using testing::RunLatheBinary;

class StatusCliTest : public store::StoreBackendTest {
 protected:
  void SetUp() override {
    StoreBackendTest::SetUp();
    if (IsSkipped()) return;
    // SQLite: the data directory's lathe.db, found with --data-dir; PostgreSQL: --store URL.
    if (GetParam() == Backend::kSqlite) {
      ASSERT_EQ(location(), dir_.path() + "/lathe.db");
      args_ = "--data-dir '" + dir_.path() + "'";
    } else {
      args_ = "--store '" + location() + "'";
    }
    auto opened = store::MetadataStore::Open(location());
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    db_ = std::move(*opened);
  }
  // A fresh api node, a worker that beat a minute ago (stale) holding a leased item, a queued
  // item, and a done one.
  void Populate() {
    const int64_t now = NowMillis();
    store::NodeRegistry nodes(db_.get());
    store::NodeInfo api;
    api.id = "api@host-a:8080";
    api.role = "api";
    api.host = "host-a";
    api.endpoint = "http://host-a:8080";
    api.capacity = {16, 0, int64_t{64} << 30};
    ASSERT_TRUE(nodes.Beat(api).ok());
    nodes.set_clock([now] { return now - 60'000; });
    store::NodeInfo worker;
    worker.id = "worker@gpu-1";
    worker.role = "worker";
    worker.host = "gpu-1";
    worker.capacity = {8, 1, int64_t{32} << 30};
    worker.detail = {{"work", "fine-tuning-job/job-1"}};
    ASSERT_TRUE(nodes.Beat(worker).ok());

    store::WorkLeases leases(db_.get());
    for (const char* id : {"job-1", "job-2", "job-3"}) {
      store::WorkItem item;
      item.kind = "fine-tuning-job";
      item.id = id;
      item.needs = {1, 0, 1 << 20};
      ASSERT_TRUE(leases.Enqueue(item).ok());
    }
    auto held = leases.Claim("worker@gpu-1", {8, 1, int64_t{32} << 30}, 600'000);
    ASSERT_TRUE(held.ok() && held->has_value());
    auto done = leases.Claim("worker@gpu-1", {8, 1, int64_t{32} << 30}, 600'000);
    ASSERT_TRUE(done.ok() && done->has_value());
    ASSERT_TRUE(leases.Complete(**done).ok());
  }
  std::string args_;
  std::unique_ptr<store::MetadataStore> db_;
};

TEST_P(StatusCliTest, ShowsNodesLeasesAndQueueDepthAsJson) {
  Populate();
  std::string out, err;
  ASSERT_EQ(RunLatheBinary("status --json " + args_, &out, &err), 0) << err;
  const json j = json::parse(out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << out;
  ASSERT_EQ(j["nodes"].size(), 2u) << out;
  EXPECT_EQ(j["nodes"][0]["id"], "api@host-a:8080");
  EXPECT_EQ(j["nodes"][0]["state"], "alive");
  EXPECT_EQ(j["nodes"][0]["capacity"]["cpus"], 16);
  EXPECT_EQ(j["nodes"][0]["endpoint"], "http://host-a:8080");
  EXPECT_EQ(j["nodes"][1]["id"], "worker@gpu-1");
  EXPECT_EQ(j["nodes"][1]["state"], "stale");  // silent for a minute
  EXPECT_GE(j["nodes"][1]["lastSeenSecondsAgo"].get<int64_t>(), 59);
  EXPECT_EQ(j["nodes"][1]["detail"]["work"], "fine-tuning-job/job-1");
  EXPECT_EQ(j["nodes"][1]["capacity"]["gpus"], 1);

  ASSERT_EQ(j["workItems"].size(), 2u) << out;  // the done one is not listed
  EXPECT_EQ(j["workItems"][0]["id"], "job-1");
  EXPECT_EQ(j["workItems"][0]["state"], "leased");
  EXPECT_EQ(j["workItems"][0]["workerId"], "worker@gpu-1");
  EXPECT_EQ(j["workItems"][0]["generation"], 1);
  EXPECT_EQ(j["workItems"][0]["leaseExpired"], false);
  EXPECT_EQ(j["workItems"][1]["id"], "job-3");
  EXPECT_EQ(j["workItems"][1]["state"], "queued");
  EXPECT_FALSE(j["workItems"][1].contains("workerId"));

  EXPECT_EQ(j["queueDepth"]["fine-tuning-job"]["queued"], 1);
  EXPECT_EQ(j["queueDepth"]["fine-tuning-job"]["leased"], 1);
  EXPECT_EQ(j["queueDepth"]["fine-tuning-job"]["done"], 1);
  if (GetParam() == Backend::kSqlite) EXPECT_EQ(j["store"], location());
  else EXPECT_EQ(j["store"].get<std::string>().rfind("postgresql://", 0), 0u);

  // --limit bounds the listing.
  ASSERT_EQ(RunLatheBinary("status --json --limit 1 " + args_, &out, &err), 0) << err;
  EXPECT_EQ(json::parse(out)["workItems"].size(), 1u);
}

TEST_P(StatusCliTest, ShowsTheSameAsTables) {
  Populate();
  std::string out, err;
  ASSERT_EQ(RunLatheBinary("status " + args_, &out, &err), 0) << err;
  for (const char* text : {"nodes (2)", "api@host-a:8080", "worker@gpu-1", "STALE", "alive", "64 GiB",
                           "fine-tuning-job/job-1", "work items not done (2)", "expires in", "queue depth"})
    EXPECT_NE(out.find(text), std::string::npos) << text << " missing from:\n" << out;
}

TEST_P(StatusCliTest, ForgetsANodeThatWillNotComeBack) {
  Populate();
  std::string out, err;
  ASSERT_EQ(RunLatheBinary("status --json --forget worker@gpu-1 " + args_, &out, &err), 0) << err;
  const json j = json::parse(out);
  ASSERT_EQ(j["nodes"].size(), 1u);
  EXPECT_EQ(j["nodes"][0]["id"], "api@host-a:8080");
  EXPECT_EQ(RunLatheBinary("status --forget worker@gpu-1 " + args_, &out, &err), 1);
  EXPECT_NE(err.find("no node worker@gpu-1"), std::string::npos) << err;
}

TEST_P(StatusCliTest, AnEmptyStoreSaysSo) {
  std::string out, err;
  ASSERT_EQ(RunLatheBinary("status " + args_, &out, &err), 0) << err;
  EXPECT_NE(out.find("nodes (0)"), std::string::npos) << out;
  EXPECT_NE(out.find("none has beaten"), std::string::npos) << out;
}

LATHE_ON_BOTH_STORES(StatusCliTest);

TEST(StatusCli, BadInputIsRefusedWithAMessage) {
  testing::TempDir dir;
  std::string out, err;
  EXPECT_EQ(RunLatheBinary("status --data-dir '" + dir.path() + "'", &out, &err), 1);
  EXPECT_NE(err.find("no lathe.db in " + dir.path()), std::string::npos) << err;
  EXPECT_FALSE(Env::Default()->FileExists(dir.path() + "/lathe.db"));  // nothing made
  EXPECT_EQ(RunLatheBinary("status --store mysql://db/lathe", &out, &err), 1);
  EXPECT_NE(err.find("--store: expected a postgresql:// URL"), std::string::npos) << err;
  EXPECT_EQ(RunLatheBinary("status --store 'postgresql://u:secret@127.0.0.1:1/x?connect_timeout=2'", &out, &err), 1);
  EXPECT_EQ(err.find("secret"), std::string::npos) << err;  // the password never shows
  EXPECT_EQ(RunLatheBinary("status --limit 0 --data-dir '" + dir.path() + "'", &out, &err), 1);
  EXPECT_NE(err.find("--limit"), std::string::npos) << err;
  EXPECT_EQ(RunLatheBinary("status --limit 10001 --data-dir '" + dir.path() + "'", &out, &err), 1);
  EXPECT_EQ(RunLatheBinary("status --limit x", &out, &err), 2);
  EXPECT_EQ(RunLatheBinary("status --config /no/such/file.json", &out, &err), 2);
  const std::string config = dir.Write("bad.json", R"({"store": "sqlite:///x"})");
  EXPECT_EQ(RunLatheBinary("status --config '" + config + "'", &out, &err), 1);
  EXPECT_NE(err.find("\"store\""), std::string::npos) << err;
}

}  // namespace
}  // namespace lathe
