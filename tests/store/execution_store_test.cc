#include "store/execution_store.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "store_backends.h"
#include "test_util.h"

namespace lathe::store {
namespace {

using lathe::testing::TempDir;

constexpr const char* kMachine = "arn:aws:states:us-east-1:123456789012:stateMachine:m";

class ExecutionStoreTest : public StoreBackendTest {
 protected:
  void SetUp() override {
    StoreBackendTest::SetUp();
    if (IsSkipped()) return;
    auto db = MetadataStore::Open(location());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    auto store = ExecutionStore::Open(db_.get());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
  }

  static std::string Arn(const std::string& name) {
    return "arn:aws:states:us-east-1:123456789012:execution:m:" + name;
  }
  static ExecutionRecord Execution(const std::string& name, int64_t start_ms, const std::string& machine = kMachine) {
    ExecutionRecord r;
    r.arn = Arn(name);
    r.state_machine_arn = machine;
    r.name = name;
    r.status = "RUNNING";
    r.start_ms = start_ms;
    r.doc = {{"input", "{}"}};
    return r;
  }
  static HistoryRecord Event(int64_t id, const std::string& type) {
    HistoryRecord h;
    h.id = id;
    h.previous_id = id - 1;
    h.type = type;
    h.timestamp_ms = 1000 + id;
    h.details = {{"n", id}};
    return h;
  }
  static FrameRecord Frame(int64_t id, const std::string& status, const std::string& token = "") {
    FrameRecord f;
    f.id = id;
    f.parent_id = id == 1 ? 0 : 1;
    f.status = status;
    f.task_token = token;
    f.doc = {{"state", "S" + std::to_string(id)}};
    return f;
  }
  // Starts an execution with its ExecutionStarted event and top frame.
  void Start(const std::string& name, int64_t start_ms) {
    ExecutionCommit c;
    c.execution_arn = Arn(name);
    c.insert = Execution(name, start_ms);
    c.history = {Event(1, "ExecutionStarted")};
    c.upsert_frames = {Frame(1, "READY")};
    ASSERT_TRUE(store_->Commit(c).ok());
  }

  std::unique_ptr<MetadataStore> db_;
  std::unique_ptr<ExecutionStore> store_;
};

// Two nodes (two connections to one store) starting executions of the same names at once: each
// name gets one execution, and the other start hears AlreadyExists (StartExecution then answers
// as AWS does), never a database error.
TEST_P(ExecutionStoreTest, TwoNodesStartingOneNameAtOnceGetOneExecutionAndAlreadyExists) {
  auto other_db = MetadataStore::Open(location());
  ASSERT_TRUE(other_db.ok()) << other_db.status().ToString();
  auto other = ExecutionStore::Open(other_db->get());
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  constexpr int kNames = 30;
  std::vector<Status> mine(kNames), theirs(kNames);
  auto start_all = [&](ExecutionStore* store, std::vector<Status>* out, const std::string& arn_suffix) {
    for (int i = 0; i < kNames; ++i) {
      ExecutionCommit c;
      ExecutionRecord r = Execution("race-" + std::to_string(i), 1000 + i);
      r.arn += arn_suffix;  // each node names its own ARN: only (machine, name) collides
      c.execution_arn = r.arn;
      c.insert = r;
      c.history = {Event(1, "ExecutionStarted")};
      (*out)[i] = store->Commit(c);
    }
  };
  std::thread a(start_all, store_.get(), &mine, "-a");
  std::thread b(start_all, other->get(), &theirs, "-b");
  a.join();
  b.join();
  for (int i = 0; i < kNames; ++i) {
    EXPECT_NE(mine[i].ok(), theirs[i].ok()) << i << ": " << mine[i].ToString() << " / " << theirs[i].ToString();
    const Status& lost = mine[i].ok() ? theirs[i] : mine[i];
    EXPECT_EQ(lost.code(), Status::Code::kAlreadyExists) << i << ": " << lost.ToString();
  }
}

TEST_P(ExecutionStoreTest, CommitStoresExecutionHistoryFramesAndEventTogether) {
  ExecutionCommit c;
  c.execution_arn = Arn("e1");
  c.insert = Execution("e1", 5000);
  c.history = {Event(1, "ExecutionStarted"), Event(2, "PassStateEntered")};
  c.upsert_frames = {Frame(1, "READY")};
  OutboxEvent e;
  e.source = "aws.states";
  e.detail_type = "Step Functions Execution Status Change";
  e.detail = {{"status", "RUNNING"}};
  c.events = {e};
  ASSERT_TRUE(store_->Commit(c).ok());

  auto got = store_->Get(Arn("e1"));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->status, "RUNNING");
  EXPECT_EQ(got->doc["input"], "{}");
  auto history = store_->History(Arn("e1"), 0, 100);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[1].type, "PassStateEntered");
  EXPECT_EQ((*history)[1].previous_id, 1);
  EXPECT_EQ((*history)[1].details["n"], 2);
  EXPECT_EQ(*store_->LastEventId(Arn("e1")), 2);
  auto frame = store_->Frame(Arn("e1"), 1);
  ASSERT_TRUE(frame.ok());
  EXPECT_EQ(frame->doc["state"], "S1");
  auto events = db_->EventsAfter(0, 10);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].detail_type, "Step Functions Execution Status Change");
}

TEST_P(ExecutionStoreTest, AFailingPartRollsBackEverything) {
  Start("e1", 1000);
  // The history ids do not continue the execution's (1 exists; 3 skips 2): nothing is written,
  // not the status change, the frames, nor the event.
  ExecutionCommit c;
  c.execution_arn = Arn("e1");
  c.update = Execution("e1", 1000);
  c.update->status = "SUCCEEDED";
  c.update->stop_ms = 2000;
  c.history = {Event(3, "ExecutionSucceeded")};
  c.upsert_frames = {Frame(2, "READY")};
  c.delete_frames = {1};
  OutboxEvent e;
  e.source = "aws.states";
  c.events = {e};
  EXPECT_FALSE(store_->Commit(c).ok());
  EXPECT_EQ(store_->Get(Arn("e1"))->status, "RUNNING");
  EXPECT_EQ(*store_->LastEventId(Arn("e1")), 1);
  EXPECT_EQ(store_->Frames(Arn("e1"))->size(), 1u);
  EXPECT_TRUE(store_->Frame(Arn("e1"), 1).ok());
  EXPECT_TRUE(db_->EventsAfter(0, 10)->empty());

  // A compare-and-swap that does not hold: Conflict, and likewise nothing written.
  c.history = {Event(2, "ExecutionSucceeded")};
  c.expected_status = "ABORTED";
  Status s = store_->Commit(c);
  EXPECT_EQ(s.code(), Status::Code::kConflict) << s.ToString();
  EXPECT_EQ(*store_->LastEventId(Arn("e1")), 1);
  EXPECT_TRUE(db_->EventsAfter(0, 10)->empty());

  // And when it holds, all of it.
  c.expected_status = "RUNNING";
  ASSERT_TRUE(store_->Commit(c).ok());
  EXPECT_EQ(store_->Get(Arn("e1"))->status, "SUCCEEDED");
  EXPECT_EQ(store_->Get(Arn("e1"))->stop_ms, 2000);
  EXPECT_EQ(*store_->LastEventId(Arn("e1")), 2);
  ASSERT_EQ(store_->Frames(Arn("e1"))->size(), 1u);
  EXPECT_EQ(store_->Frames(Arn("e1"))->at(0).id, 2);
  EXPECT_EQ(db_->EventsAfter(0, 10)->size(), 1u);
}

TEST_P(ExecutionStoreTest, NamesAreUniquePerStateMachine) {
  Start("e1", 1000);
  ExecutionCommit c;
  c.execution_arn = Arn("e1");
  c.insert = Execution("e1", 2000);
  EXPECT_EQ(store_->Commit(c).code(), Status::Code::kAlreadyExists);
  // The same name under another state machine is another execution.
  const std::string other = "arn:aws:states:us-east-1:123456789012:stateMachine:other";
  c.execution_arn = "arn:aws:states:us-east-1:123456789012:execution:other:e1";
  c.insert = Execution("e1", 2000, other);
  c.insert->arn = c.execution_arn;
  EXPECT_TRUE(store_->Commit(c).ok());
  EXPECT_EQ(store_->FindByName(other, "e1")->arn, c.execution_arn);
  EXPECT_EQ(store_->FindByName(kMachine, "e1")->arn, Arn("e1"));
  EXPECT_EQ(store_->FindByName(kMachine, "nope").status().code(), Status::Code::kNotFound);

  ExecutionCommit u;
  u.execution_arn = Arn("missing");
  u.update = Execution("missing", 1);
  EXPECT_EQ(store_->Commit(u).code(), Status::Code::kNotFound);
}

TEST_P(ExecutionStoreTest, ListsNewestFirstInPagesWithFilters) {
  for (int i = 0; i < 7; ++i) Start("e" + std::to_string(i), 1000 + (i / 2) * 10);  // pairs share a start time
  ExecutionCommit done;
  done.execution_arn = Arn("e3");
  done.update = Execution("e3", 1010);
  done.update->status = "SUCCEEDED";
  ASSERT_TRUE(store_->Commit(done).ok());

  std::vector<std::string> seen;
  ExecutionFilter f;
  f.state_machine_arn = kMachine;
  f.limit = 3;
  for (int page = 0; page < 5; ++page) {
    auto rows = store_->List(f);
    ASSERT_TRUE(rows.ok());
    for (const auto& r : *rows) seen.push_back(r.name);
    if (rows->size() < f.limit) break;
    f.after = rows->back().arn;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"e6", "e5", "e4", "e3", "e2", "e1", "e0"}));

  ExecutionFilter running;
  running.status = "RUNNING";
  EXPECT_EQ(store_->List(running)->size(), 6u);
  ExecutionFilter succeeded;
  succeeded.status = "SUCCEEDED";
  ASSERT_EQ(store_->List(succeeded)->size(), 1u);
  EXPECT_EQ(store_->List(succeeded)->at(0).name, "e3");
  auto run = store_->Running();
  ASSERT_TRUE(run.ok());
  ASSERT_EQ(run->size(), 6u);
  EXPECT_EQ(run->front(), Arn("e0"));  // oldest first
}

TEST_P(ExecutionStoreTest, HistoryPagesForwardAndReverse) {
  Start("e1", 1000);
  ExecutionCommit c;
  c.execution_arn = Arn("e1");
  for (int id = 2; id <= 10; ++id) c.history.push_back(Event(id, "PassStateEntered"));
  ASSERT_TRUE(store_->Commit(c).ok());

  auto page1 = store_->History(Arn("e1"), 0, 4);
  ASSERT_EQ(page1->size(), 4u);
  EXPECT_EQ(page1->back().id, 4);
  auto page2 = store_->History(Arn("e1"), 4, 100);
  ASSERT_EQ(page2->size(), 6u);
  EXPECT_EQ(page2->front().id, 5);
  EXPECT_EQ(page2->back().id, 10);

  auto back1 = store_->HistoryReverse(Arn("e1"), 0, 3);
  ASSERT_EQ(back1->size(), 3u);
  EXPECT_EQ(back1->at(0).id, 10);
  EXPECT_EQ(back1->at(2).id, 8);
  auto back2 = store_->HistoryReverse(Arn("e1"), 8, 100);
  ASSERT_EQ(back2->size(), 7u);
  EXPECT_EQ(back2->front().id, 7);
  EXPECT_EQ(back2->back().id, 1);
  EXPECT_TRUE(store_->History(Arn("nope"), 0, 10)->empty());
}

TEST_P(ExecutionStoreTest, FindsTheFrameThatWaitsOnAToken) {
  Start("e1", 1000);
  ExecutionCommit c;
  c.execution_arn = Arn("e1");
  c.upsert_frames = {Frame(2, "TASK", "tok-123")};
  ASSERT_TRUE(store_->Commit(c).ok());
  auto owner = store_->FindTaskToken("tok-123");
  ASSERT_TRUE(owner.ok());
  EXPECT_EQ(owner->execution_arn, Arn("e1"));
  EXPECT_EQ(owner->frame.id, 2);
  EXPECT_EQ(owner->frame.doc["state"], "S2");
  EXPECT_EQ(store_->FindTaskToken("other").status().code(), Status::Code::kNotFound);
  EXPECT_EQ(store_->FindTaskToken("").status().code(), Status::Code::kNotFound);

  // Once the frame no longer waits, the token names nothing.
  c.upsert_frames = {Frame(2, "READY")};
  ASSERT_TRUE(store_->Commit(c).ok());
  EXPECT_EQ(store_->FindTaskToken("tok-123").status().code(), Status::Code::kNotFound);
}

TEST_P(ExecutionStoreTest, DeleteRemovesHistoryAndFramesAndSurvivesReopen) {
  Start("e1", 1000);
  Start("e2", 1001);
  ASSERT_TRUE(store_->Delete(Arn("e1")).ok());
  EXPECT_EQ(store_->Get(Arn("e1")).status().code(), Status::Code::kNotFound);
  EXPECT_TRUE(store_->History(Arn("e1"), 0, 10)->empty());
  EXPECT_TRUE(store_->Frames(Arn("e1"))->empty());
  EXPECT_EQ(store_->Delete(Arn("e1")).code(), Status::Code::kNotFound);

  store_.reset();
  db_.reset();
  auto db = MetadataStore::Open(location());
  ASSERT_TRUE(db.ok());
  auto store = ExecutionStore::Open(db->get());
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->Get(Arn("e2"))->status, "RUNNING");
  EXPECT_EQ(*(*store)->LastEventId(Arn("e2")), 1);
}

TEST_P(ExecutionStoreTest, RefusesCommitsThatNameNoExecutionOrAnotherOne) {
  ExecutionCommit c;
  EXPECT_EQ(store_->Commit(c).code(), Status::Code::kInvalidArgument);
  c.execution_arn = Arn("a");
  c.insert = Execution("b", 1);
  EXPECT_EQ(store_->Commit(c).code(), Status::Code::kInvalidArgument);
  c.insert = Execution("a", 1);
  c.insert->name = "";
  c.insert->arn = Arn("a");
  EXPECT_EQ(store_->Commit(c).code(), Status::Code::kInvalidArgument);
  ExecutionCommit f;
  f.execution_arn = Arn("a");
  f.upsert_frames = {Frame(0, "READY")};
  EXPECT_EQ(store_->Commit(f).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(store_->Get(Arn("a")).status().code(), Status::Code::kNotFound);
  EXPECT_EQ(store_->Get(Arn("b")).status().code(), Status::Code::kNotFound);
}

}  // namespace
}  // namespace lathe::store

namespace lathe::store {
LATHE_ON_BOTH_STORES(ExecutionStoreTest);
}  // namespace lathe::store
