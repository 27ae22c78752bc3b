#include "store/nodes.h"

#include <gtest/gtest.h>

#include <atomic>

#include "store_backends.h"

namespace lathe::store {
namespace {

class NodesTest : public StoreBackendTest {
 protected:
  void SetUp() override {
    StoreBackendTest::SetUp();
    if (IsSkipped()) return;
    auto opened = MetadataStore::Open(location());
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(*opened);
    nodes_ = std::make_unique<NodeRegistry>(store_.get());
    nodes_->set_clock([this] { return now_.load(); });
  }
  static NodeInfo Worker(const std::string& id) {
    NodeInfo n;
    n.id = id;
    n.role = "worker";
    n.host = "gpu-box-1";
    n.endpoint = "http://10.0.0.7:9100/metrics";
    n.capacity = {8, 1, int64_t{32} << 30};
    n.detail = {{"work", nullptr}};
    return n;
  }
  std::atomic<int64_t> now_{1'000'000};
  std::unique_ptr<MetadataStore> store_;
  std::unique_ptr<NodeRegistry> nodes_;
};

TEST_P(NodesTest, ABeatRecordsTheNodeAndLaterBeatsUpdateIt) {
  NodeInfo api;
  api.id = "api@host-a:8080";
  api.role = "api";
  api.host = "host-a";
  api.endpoint = "http://host-a:8080";
  ASSERT_TRUE(nodes_->Beat(api).ok());
  ASSERT_TRUE(nodes_->Beat(Worker("w1")).ok());
  auto listed = nodes_->List();
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].id, "api@host-a:8080");  // by role, then id
  EXPECT_EQ((*listed)[0].started_ms, now_);       // 0 given: the first beat's time
  const NodeInfo& w = (*listed)[1];
  EXPECT_EQ(w.role, "worker");
  EXPECT_EQ(w.host, "gpu-box-1");
  EXPECT_EQ(w.endpoint, "http://10.0.0.7:9100/metrics");
  EXPECT_EQ(w.capacity.cpus, 8);
  EXPECT_EQ(w.capacity.gpus, 1);
  EXPECT_EQ(w.capacity.memory_bytes, int64_t{32} << 30);
  EXPECT_TRUE(w.detail["work"].is_null());
  EXPECT_EQ(w.last_seen_ms, now_);

  const int64_t first = now_;
  now_ += 10'000;
  NodeInfo busy = Worker("w1");
  busy.detail = {{"work", "fine-tuning-job/abc123"}};
  ASSERT_TRUE(nodes_->Beat(busy).ok());
  listed = nodes_->List();
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[1].last_seen_ms, first + 10'000);
  EXPECT_EQ((*listed)[1].started_ms, first);  // kept: the node did not restart
  EXPECT_EQ((*listed)[1].detail["work"], "fine-tuning-job/abc123");

  // A restarted node says when it started.
  busy.started_ms = now_ + 5;
  ASSERT_TRUE(nodes_->Beat(busy).ok());
  EXPECT_EQ((*nodes_->List())[1].started_ms, now_ + 5);
}

TEST_P(NodesTest, AForgottenNodeIsNoLongerListed) {
  ASSERT_TRUE(nodes_->Beat(Worker("w1")).ok());
  ASSERT_TRUE(nodes_->Beat(Worker("w2")).ok());
  ASSERT_TRUE(nodes_->Forget("w1").ok());
  auto listed = nodes_->List();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].id, "w2");
  EXPECT_EQ(nodes_->Forget("w1").code(), Status::Code::kNotFound);
  EXPECT_EQ(nodes_->Forget("").code(), Status::Code::kInvalidArgument);
  // Another connection (another machine) sees the same rows.
  auto other = MetadataStore::Open(location());
  ASSERT_TRUE(other.ok());
  NodeRegistry there(other->get());
  EXPECT_EQ(there.List()->size(), 1u);
}

TEST_P(NodesTest, BadNodesAreRefusedNamingTheField) {
  auto refused = [&](NodeInfo n, const std::string& field) {
    Status s = nodes_->Beat(n);
    EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << field;
    EXPECT_NE(s.message().find(field), std::string::npos) << s.message();
  };
  NodeInfo n = Worker("");
  refused(n, "id");
  n = Worker(std::string(kMaxNodeIdBytes + 1, 'x'));
  refused(n, "id");
  n = Worker("w\x1b[2Jevil");  // a terminal escape in what `lathe status` prints
  refused(n, "id");
  n = Worker("has space");
  refused(n, "id");
  n = Worker("w");
  n.role = "admin";
  refused(n, "role");
  n = Worker("w");
  n.host = std::string(kMaxNodeHostBytes + 1, 'h');
  refused(n, "host");
  n = Worker("w");
  n.endpoint = "http://x/\n";
  refused(n, "endpoint");
  n = Worker("w");
  n.capacity.gpus = -1;
  refused(n, "capacity");
  n = Worker("w");
  n.detail = nlohmann::json::array();
  refused(n, "detail");
  n = Worker("w");
  n.detail = {{"blob", std::string(kMaxNodeDetailBytes, 'x')}};
  refused(n, "detail");
  n = Worker("w");
  nlohmann::json deep = nlohmann::json::object();
  for (int i = 0; i < 40; ++i) deep = {{"d", deep}};
  n.detail = deep;
  refused(n, "detail");
  EXPECT_EQ(nodes_->List()->size(), 0u);
  // Hostile ids are data, not SQL.
  ASSERT_TRUE(nodes_->Beat(Worker("x');DROP_TABLE_nodes;--")).ok());
  EXPECT_EQ(nodes_->List()->size(), 1u);
}

}  // namespace

LATHE_ON_BOTH_STORES(NodesTest);

}  // namespace lathe::store
