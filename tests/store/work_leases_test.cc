#include "store/work_leases.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <set>
#include <thread>
#include <vector>

#include "store_backends.h"

namespace lathe::store {
namespace {

class WorkLeasesTest : public StoreBackendTest {
 protected:
  void SetUp() override {
    StoreBackendTest::SetUp();
    if (IsSkipped()) return;
    auto opened = MetadataStore::Open(location());
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(*opened);
    leases_ = std::make_unique<WorkLeases>(store_.get());
    leases_->set_clock([this] { return now_.load(); });
  }
  static WorkItem Item(const std::string& id, Capacity needs = {1, 0, 1000}) {
    WorkItem w;
    w.kind = "fine-tuning-job";
    w.id = id;
    w.needs = needs;
    w.doc = {{"jobArn", "arn:" + id}};
    return w;
  }
  std::atomic<int64_t> now_{1000};
  std::unique_ptr<MetadataStore> store_;
  std::unique_ptr<WorkLeases> leases_;
};

TEST_P(WorkLeasesTest, AWorkerClaimsTheOldestItemThatFitsItsCapacity) {
  ASSERT_TRUE(leases_->Enqueue(Item("gpu-job", {1, 1, 1000})).ok());
  now_ += 1;
  ASSERT_TRUE(leases_->Enqueue(Item("cpu-job")).ok());
  auto cpu_only = leases_->Claim("cpu-worker", {4, 0, 1 << 20}, 30000);
  ASSERT_TRUE(cpu_only.ok()) << cpu_only.status().ToString();
  ASSERT_TRUE(cpu_only->has_value());  // the GPU job is older but does not fit
  EXPECT_EQ((*cpu_only)->item.id, "cpu-job");
  EXPECT_EQ((*cpu_only)->item.doc["jobArn"], "arn:cpu-job");
  EXPECT_EQ((*cpu_only)->generation, 1);
  EXPECT_EQ((*cpu_only)->expires_ms, now_ + 30000);
  EXPECT_FALSE(leases_->Claim("cpu-worker", {4, 0, 1 << 20}, 30000)->has_value());
  EXPECT_FALSE(leases_->Claim("small-gpu", {4, 1, 10}, 30000)->has_value());  // too little memory
  auto gpu = leases_->Claim("gpu-worker", {4, 1, 1 << 20}, 30000);
  ASSERT_TRUE(gpu.ok() && gpu->has_value());
  EXPECT_EQ((*gpu)->item.id, "gpu-job");
  auto depth = leases_->Depth();
  ASSERT_TRUE(depth.ok());
  EXPECT_EQ(depth->leased, 2);
  ASSERT_TRUE(leases_->Complete(**gpu).ok());
  EXPECT_EQ(leases_->Depth()->done, 1);
}

TEST_P(WorkLeasesTest, BadInputIsRefused) {
  ASSERT_TRUE(leases_->Enqueue(Item("a")).ok());
  EXPECT_EQ(leases_->Enqueue(Item("a")).code(), Status::Code::kAlreadyExists);
  EXPECT_EQ(leases_->Enqueue(Item("")).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(leases_->Enqueue(Item(std::string(1025, 'x'))).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(leases_->Enqueue(Item("neg", {-1, 0, 0})).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(leases_->Claim("w", {1, 0, 1000}, 0).status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(leases_->Claim("w", {1, 0, 1000}, 25LL * 3600 * 1000).status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(leases_->Claim("", {1, 0, 1000}, 1000).status().code(), Status::Code::kInvalidArgument);
  // Hostile ids are data, not SQL.
  WorkItem odd = Item("x'); DROP TABLE work_items; --");
  ASSERT_TRUE(leases_->Enqueue(odd).ok());
  auto first = leases_->Claim("w", {1, 0, 1000}, 1000);
  ASSERT_TRUE(first.ok() && first->has_value());
  // A forged lease (a generation never handed out) changes nothing.
  Lease forged = **first;
  forged.generation += 7;
  EXPECT_EQ(leases_->Complete(forged).code(), Status::Code::kConflict);
  forged = **first;
  forged.worker_id = "someone-else";
  EXPECT_EQ(leases_->Release(forged).code(), Status::Code::kConflict);
  EXPECT_EQ(leases_->Depth()->leased, 1);
}

TEST_P(WorkLeasesTest, AnExpiredLeaseIsClaimedAgainAndTheOldHolderIsFencedOut) {
  ASSERT_TRUE(leases_->Enqueue(Item("job")).ok());
  auto first = leases_->Claim("w1", {1, 0, 1000}, 5000);
  ASSERT_TRUE(first.ok() && first->has_value());
  Lease mine = **first;
  now_ += 4000;
  ASSERT_TRUE(leases_->Heartbeat(mine, 5000).ok());  // renewed: good until 10000 from the start
  now_ += 4000;
  EXPECT_FALSE(leases_->Claim("w2", {1, 0, 1000}, 5000)->has_value());  // still held
  now_ += 2000;  // w1 died: no heartbeat, the lease ends
  auto second = leases_->Claim("w2", {1, 0, 1000}, 5000);
  ASSERT_TRUE(second.ok() && second->has_value());
  EXPECT_EQ((*second)->worker_id, "w2");
  EXPECT_EQ((*second)->generation, mine.generation + 1);
  // w1 comes back: it can neither renew, nor give back, nor finish what w2 now holds.
  EXPECT_EQ(leases_->Heartbeat(mine, 5000).code(), Status::Code::kConflict);
  EXPECT_EQ(leases_->Release(mine).code(), Status::Code::kConflict);
  EXPECT_EQ(leases_->Complete(mine).code(), Status::Code::kConflict);
  ASSERT_TRUE(leases_->Complete(**second).ok());
  now_ += 100000;
  EXPECT_FALSE(leases_->Claim("w3", {1, 0, 1000}, 5000)->has_value());  // done is done
  EXPECT_EQ(leases_->Complete(**second).code(), Status::Code::kConflict);  // once
}

int64_t WallMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Two machines whose wall clocks are an hour apart share the store. On PostgreSQL the database's
// clock decides: the one ahead cannot take over a lease that has not run out, and the one behind
// gets leases that end when the store says. A SQLite store is one machine's: its clock decides.
TEST_P(WorkLeasesTest, LeasesEndByTheStoresClockNotAWorkersWallClock) {
  constexpr int64_t kHour = 3600 * 1000;
  WorkLeases behind(store_.get()), ahead(store_.get());  // no set_clock: the store's own clock
  behind.set_machine_clock([] { return WallMillis() - kHour; });
  ahead.set_machine_clock([] { return WallMillis() + kHour; });
  ASSERT_TRUE(behind.Enqueue(Item("job")).ok());
  const auto sent = std::chrono::steady_clock::now();
  auto mine = behind.Claim("behind", {1, 0, 1000}, 60000);
  ASSERT_TRUE(mine.ok() && mine->has_value()) << mine.status().ToString();
  // This machine's own deadline counts from before the claim, on its steady clock.
  EXPECT_GE((*mine)->local_deadline, sent + std::chrono::milliseconds(60000));
  EXPECT_LE((*mine)->local_deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(60000));
  auto taken = ahead.Claim("ahead", {1, 0, 1000}, 60000);
  ASSERT_TRUE(taken.ok()) << taken.status().ToString();
  auto store_now = behind.Now();
  ASSERT_TRUE(store_now.ok()) << store_now.status().ToString();
  if (GetParam() == Backend::kPostgres) {
    EXPECT_FALSE(taken->has_value());  // an hour ahead, yet the lease still holds
    EXPECT_LT(std::abs(*store_now - WallMillis()), kHour / 2);  // the database's clock, not a skewed one
    EXPECT_GT((*mine)->expires_ms, WallMillis() - kHour / 2);   // not an hour early
    Lease renewed = **mine;
    ASSERT_TRUE(behind.Heartbeat(renewed, 60000).ok());
    EXPECT_GT(renewed.expires_ms, WallMillis() - kHour / 2);
  } else {
    ASSERT_TRUE(taken->has_value());  // by the one clock a SQLite store has, the lease ran out
    EXPECT_EQ((*taken)->worker_id, "ahead");
    EXPECT_LT(*store_now, WallMillis() - kHour / 2);  // this WorkLeases's machine clock
  }
}

TEST_P(WorkLeasesTest, AReleasedItemIsClaimableAtOnce) {
  ASSERT_TRUE(leases_->Enqueue(Item("job")).ok());
  auto first = leases_->Claim("w1", {1, 0, 1000}, 60000);
  ASSERT_TRUE(first.ok() && first->has_value());
  ASSERT_TRUE(leases_->Release(**first).ok());
  auto second = leases_->Claim("w2", {1, 0, 1000}, 60000);
  ASSERT_TRUE(second.ok() && second->has_value());
  EXPECT_EQ((*second)->generation, 2);
}

TEST_P(WorkLeasesTest, AClaimMayAskForOneKindOfWork) {
  WorkItem evaluation = Item("eval-1");
  evaluation.kind = "evaluation-job";
  ASSERT_TRUE(leases_->Enqueue(evaluation).ok());
  now_ += 1;
  ASSERT_TRUE(leases_->Enqueue(Item("train-1")).ok());
  auto training = leases_->Claim("w", {4, 0, 1 << 20}, 30000, "fine-tuning-job");
  ASSERT_TRUE(training.ok() && training->has_value());
  EXPECT_EQ((*training)->item.id, "train-1");  // the older evaluation is not this claimer's kind
  EXPECT_FALSE(leases_->Claim("w", {4, 0, 1 << 20}, 30000, "fine-tuning-job")->has_value());
  EXPECT_FALSE(leases_->Claim("w", {4, 0, 1 << 20}, 30000, "no-such-kind' OR ''='")->has_value());
  auto any = leases_->Claim("w", {4, 0, 1 << 20}, 30000);
  ASSERT_TRUE(any.ok() && any->has_value());
  EXPECT_EQ((*any)->item.id, "eval-1");
}

TEST_P(WorkLeasesTest, AQueuedItemIsCancelledButAClaimedOneIsNot) {
  ASSERT_TRUE(leases_->Enqueue(Item("claimed")).ok());
  now_ += 1;
  ASSERT_TRUE(leases_->Enqueue(Item("queued")).ok());
  auto claimed = leases_->Claim("w", {4, 0, 1 << 20}, 30000);
  ASSERT_TRUE(claimed.ok() && claimed->has_value());
  ASSERT_EQ((*claimed)->item.id, "claimed");  // the oldest
  // The claimed one is its holder's to end; the one still queued goes at once.
  EXPECT_EQ(leases_->CancelQueued("fine-tuning-job", "claimed").code(), Status::Code::kConflict);
  ASSERT_TRUE(leases_->CancelQueued("fine-tuning-job", "queued").ok());
  EXPECT_FALSE(leases_->Claim("w2", {4, 0, 1 << 20}, 30000)->has_value());  // nothing left to claim
  EXPECT_EQ(leases_->CancelQueued("fine-tuning-job", "queued").code(), Status::Code::kConflict);  // done already
  EXPECT_EQ(leases_->CancelQueued("fine-tuning-job", "never-queued").code(), Status::Code::kConflict);
  EXPECT_EQ(leases_->CancelQueued("fine-tuning-job", "x' OR '1'='1").code(), Status::Code::kConflict);
  EXPECT_EQ(leases_->Depth()->done, 1);
  EXPECT_EQ(leases_->Depth()->leased, 1);
  ASSERT_TRUE(leases_->Complete(**claimed).ok());  // the holder still ends its own
}

TEST_P(WorkLeasesTest, StatusListsItemsLeasedFirstAndCountsThemPerKind) {
  ASSERT_TRUE(leases_->Enqueue(Item("queued-1")).ok());
  now_ += 1;
  WorkItem eval = Item("eval-1");
  eval.kind = "evaluation-job";
  ASSERT_TRUE(leases_->Enqueue(eval).ok());
  now_ += 1;
  ASSERT_TRUE(leases_->Enqueue(Item("done-1")).ok());
  auto first = leases_->Claim("w1", {1, 0, 1000}, 5000);  // the oldest: queued-1
  ASSERT_TRUE(first.ok() && first->has_value());
  ASSERT_TRUE(leases_->Complete(**first).ok());
  auto second = leases_->Claim("w2", {1, 0, 1000}, 5000);  // eval-1
  ASSERT_TRUE(second.ok() && second->has_value());

  auto items = leases_->List(100);
  ASSERT_TRUE(items.ok()) << items.status().ToString();
  ASSERT_EQ(items->size(), 2u);  // done items are left out
  EXPECT_EQ((*items)[0].id, "eval-1");
  EXPECT_EQ((*items)[0].kind, "evaluation-job");
  EXPECT_EQ((*items)[0].state, "leased");
  EXPECT_EQ((*items)[0].worker_id, "w2");
  EXPECT_EQ((*items)[0].generation, 1);
  EXPECT_EQ((*items)[0].expires_ms, now_ + 5000);
  EXPECT_EQ((*items)[0].needs.memory_bytes, 1000);
  EXPECT_EQ((*items)[1].id, "done-1");
  EXPECT_EQ((*items)[1].state, "queued");
  auto all = leases_->List(100, /*include_done=*/true);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[2].state, "done");
  EXPECT_EQ(leases_->List(1)->size(), 1u);
  EXPECT_EQ(leases_->List(0).status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(leases_->List(kMaxListedWorkItems + 1).status().code(), Status::Code::kInvalidArgument);

  auto by_kind = leases_->DepthByKind();
  ASSERT_TRUE(by_kind.ok());
  ASSERT_EQ(by_kind->size(), 2u);
  EXPECT_EQ(by_kind->at("fine-tuning-job").queued, 1);
  EXPECT_EQ(by_kind->at("fine-tuning-job").done, 1);
  EXPECT_EQ(by_kind->at("fine-tuning-job").leased, 0);
  EXPECT_EQ(by_kind->at("evaluation-job").leased, 1);
  auto total = leases_->Depth();
  EXPECT_EQ(total->queued + total->leased + total->done, 3);
}

// Workers with their own connections (as on separate machines) claim at once: every item is
// claimed exactly once.
TEST_P(WorkLeasesTest, ConcurrentWorkersNeverClaimTheSameItem) {
  constexpr int kItems = 60, kWorkers = 4;
  for (int i = 0; i < kItems; ++i) ASSERT_TRUE(leases_->Enqueue(Item("job-" + std::to_string(i))).ok());
  std::vector<std::unique_ptr<MetadataStore>> stores;
  for (int w = 0; w < kWorkers; ++w) {
    auto s = MetadataStore::Open(location());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    stores.push_back(std::move(*s));
  }
  std::vector<std::vector<std::string>> claimed(kWorkers);
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWorkers; ++w)
    threads.emplace_back([&, w] {
      WorkLeases leases(stores[static_cast<size_t>(w)].get());
      for (;;) {
        auto lease = leases.Claim("w" + std::to_string(w), {1, 0, 1000}, 60000);
        if (!lease.ok()) {
          ++errors;
          return;
        }
        if (!lease->has_value()) return;
        claimed[static_cast<size_t>(w)].push_back((*lease)->item.id);
        if (!leases.Complete(**lease).ok()) ++errors;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  std::multiset<std::string> all;
  for (const auto& ids : claimed) all.insert(ids.begin(), ids.end());
  EXPECT_EQ(all.size(), static_cast<size_t>(kItems));
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), static_cast<size_t>(kItems));
  EXPECT_EQ(leases_->Depth()->done, kItems);
}

}  // namespace

LATHE_ON_BOTH_STORES(WorkLeasesTest);

}  // namespace lathe::store
