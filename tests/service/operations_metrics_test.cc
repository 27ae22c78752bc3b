// The service layer's operations parts: a node's heartbeat into the store, the store's gauges on
// /metrics, and what ending a job records.
#include <gtest/gtest.h>

#include "core/arn.h"
#include "core/metrics.h"
#include "service/job_metrics.h"
#include "service/node_heartbeat.h"
#include "service/store_gauges.h"
#include "store/nodes.h"
#include "store/work_leases.h"
#include "test_util.h"

namespace lathe::service {
namespace {

using testing::Eventually;
using testing::TempDir;

// The value of one series in a registry's text; -1 when it is not there.
double Scraped(const metrics::Registry& registry, const std::string& series) {
  const std::string text = "\n" + registry.Exposition();
  const size_t at = text.find("\n" + series + " ");
  return at == std::string::npos ? -1 : std::stod(text.substr(at + series.size() + 2));
}

class OperationsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = store::MetadataStore::Open(dir_.path() + "/lathe.db");
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    db_ = std::move(*opened);
  }
  TempDir dir_;
  std::unique_ptr<store::MetadataStore> db_;
};

store::NodeInfo Worker() {
  store::NodeInfo n;
  n.id = "worker@test";
  n.role = "worker";
  n.host = "test";
  n.capacity = {2, 0, 1 << 30};
  return n;
}

TEST_F(OperationsTest, AHeartbeatWritesTheNodeAtOnceAndItsDetailWhenItChanges) {
  store::NodeRegistry nodes(db_.get());
  // An hour between beats: what the test sees was written by Start and set_detail, not by time.
  NodeHeartbeat beat(&nodes, Worker(), std::chrono::hours(1));
  ASSERT_TRUE(beat.Start().ok());
  ASSERT_TRUE(Eventually([&] { return nodes.List().ok() && nodes.List()->size() == 1; }));
  EXPECT_EQ((*nodes.List())[0].id, "worker@test");
  EXPECT_GT((*nodes.List())[0].started_ms, 0);
  beat.set_detail({{"work", "fine-tuning-job/j1"}});
  ASSERT_TRUE(Eventually([&] {
    auto listed = nodes.List();
    return listed.ok() && listed->size() == 1 && (*listed)[0].detail.value("work", "") == "fine-tuning-job/j1";
  }));
  EXPECT_TRUE(beat.last_status().ok());
  beat.Stop();  // a clean stop forgets the node
  EXPECT_EQ(nodes.List()->size(), 0u);
}

TEST_F(OperationsTest, AHeartbeatRefusesABadNodeAndKeepsTheRowWhenAskedTo) {
  store::NodeRegistry nodes(db_.get());
  store::NodeInfo bad = Worker();
  bad.role = "boss";
  NodeHeartbeat refused(&nodes, bad, std::chrono::hours(1));
  EXPECT_EQ(refused.Start().code(), Status::Code::kInvalidArgument);
  NodeHeartbeat beat(&nodes, Worker(), std::chrono::hours(1));
  ASSERT_TRUE(beat.Start().ok());
  ASSERT_TRUE(Eventually([&] { return nodes.List()->size() == 1; }));
  // A detail the store refuses: the beat fails and says why; the node's last good row stays.
  beat.set_detail({{"blob", std::string(store::kMaxNodeDetailBytes, 'x')}});
  ASSERT_TRUE(Eventually([&] { return !beat.last_status().ok(); }));
  EXPECT_EQ(beat.last_status().code(), Status::Code::kInvalidArgument);
  beat.Stop(/*forget=*/false);
  EXPECT_EQ(nodes.List()->size(), 1u);
}

TEST_F(OperationsTest, TheStoreGaugesReadQueueDepthNodesAndRunningJobsAtEachScrape) {
  metrics::Registry registry;
  int64_t now = 10'000'000;
  auto gauges = AddStoreGauges(db_.get(), &registry, [&] { return now; });
  EXPECT_EQ(Scraped(registry, R"(lathe_nodes{role="worker",state="alive"})"), 0);

  store::WorkLeases leases(db_.get());
  for (const char* id : {"a", "b"}) {
    store::WorkItem item;
    item.kind = "fine-tuning-job";
    item.id = id;
    ASSERT_TRUE(leases.Enqueue(item).ok());
  }
  ASSERT_TRUE(leases.Claim("w", {1, 0, 0}, 1000).ok());
  store::NodeRegistry nodes(db_.get());
  nodes.set_clock([&] { return now; });
  ASSERT_TRUE(nodes.Beat(Worker()).ok());
  store::NodeInfo api = Worker();
  api.id = "api@test:1";
  api.role = "api";
  ASSERT_TRUE(nodes.Beat(api).ok());
  now += 31'000;  // both silent since: stale
  ASSERT_TRUE(nodes.Beat(Worker()).ok());  // the worker beats again
  store::ResourceRow job;
  job.kind = "job";
  job.id = "j1";
  job.name = "j1";
  job.arn = "arn:j1";
  job.status = "InProgress";
  job.created_ms = 1;
  job.doc = {{"_progress", {{"tokensPerSecond", 1234.5}, {"trainedTokens", 99000}}}};
  ASSERT_TRUE(db_->Insert(job).ok());

  EXPECT_EQ(Scraped(registry, R"(lathe_work_items{kind="fine-tuning-job",state="queued"})"), 1);
  EXPECT_EQ(Scraped(registry, R"(lathe_work_items{kind="fine-tuning-job",state="leased"})"), 1);
  EXPECT_EQ(Scraped(registry, R"(lathe_work_items{kind="fine-tuning-job",state="done"})"), 0);
  EXPECT_EQ(Scraped(registry, R"(lathe_nodes{role="worker",state="alive"})"), 1);
  EXPECT_EQ(Scraped(registry, R"(lathe_nodes{role="api",state="stale"})"), 1);
  EXPECT_EQ(Scraped(registry, R"(lathe_training_tokens_per_second{job="j1"})"), 1234.5);
  EXPECT_EQ(Scraped(registry, R"(lathe_training_trained_tokens{job="j1"})"), 99000);

  gauges.clear();  // their owner goes: the store is no longer read
  EXPECT_EQ(Scraped(registry, R"(lathe_work_items{kind="fine-tuning-job",state="queued"})"), -1);
}

TEST(JobMetrics, AnEndedJobAddsItsDurationAndTokens) {
  metrics::Registry& r = metrics::DefaultRegistry();
  const std::string count = R"(lathe_job_duration_seconds_count{kind="model-customization",status="Completed"})";
  const std::string under_10s = R"(lathe_job_duration_seconds_bucket{kind="model-customization",status="Completed",le="10"})";
  const std::string trained = R"(lathe_job_tokens_total{kind="model-customization",what="trained"})";
  const std::string generated = R"(lathe_job_tokens_total{kind="evaluation",what="generated"})";
  auto before = [&](const std::string& s) { return std::max(0.0, Scraped(r, s)); };
  const double count0 = before(count), under0 = before(under_10s), trained0 = before(trained), gen0 = before(generated);

  store::ResourceRow job;
  job.kind = "job";
  job.status = "Completed";
  job.created_ms = 1'000'000;
  job.doc = {{"_compute", {{"trainedTokens", 5000}}}};
  RecordJobEnd(job, 1'000'000 + 7'500);  // 7.5 s
  store::ResourceRow eval;
  eval.kind = "evaluation-job";
  eval.status = "Completed";
  eval.created_ms = 1;
  eval.doc = {{"_compute", {{"models", {{{"outputTokens", 300}, {"inputTokens", 900}}, {{"outputTokens", 200}}}}}}};
  RecordJobEnd(eval, 2);
  // Malformed documents record the duration and no tokens.
  store::ResourceRow odd = job;
  odd.doc = {{"_compute", {{"trainedTokens", "lots"}, {"models", "none"}}}};
  RecordJobEnd(odd, 1'000'000 + 20'000);

  EXPECT_EQ(Scraped(r, count) - count0, 2);
  EXPECT_EQ(Scraped(r, under_10s) - under0, 1);
  EXPECT_EQ(Scraped(r, trained) - trained0, 5000);
  EXPECT_EQ(Scraped(r, generated) - gen0, 500);
}

}  // namespace
}  // namespace lathe::service
