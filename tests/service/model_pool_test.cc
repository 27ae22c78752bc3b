// Generation slots and the bounded queue in front of them, on a real model (stories260K).
#include "service/model_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "engine/llama2c_import.h"
#include "test_util.h"

namespace lathe::service {
namespace {

using lathe::testing::SharedDir;
using lathe::testing::TempDir;

TEST(ModelPool, BusySlotsQueueRequestsAndAFullQueueThrottles) {
  LATHE_REQUIRE_SHARED("models/stories260K");
  TempDir tmp;
  const std::string stories = SharedDir() + "/models/stories260K";
  ASSERT_TRUE(engine::ImportLlama2c(stories + "/stories260K.bin", stories + "/tok512.model", tmp.File("m")).ok());
  auto pool = ModelPool::Load(tmp.File("m"), /*slots=*/1, /*queue_limit=*/1);
  ASSERT_TRUE(pool.ok()) << pool.status().ToString();

  std::optional<ModelPool::Lease> held;
  {
    auto lease = (*pool)->Acquire();
    ASSERT_TRUE(lease.ok());
    held.emplace(std::move(*lease));
  }
  std::atomic<bool> served{false};
  std::thread waiter([&] {
    auto lease = (*pool)->Acquire();  // waits in the queue for the one slot
    ASSERT_TRUE(lease.ok());
    auto r = lease->model().Generate({"Once upon a time"}, {.max_tokens = 4});
    EXPECT_TRUE(r.ok());
    served = true;
  });
  // Once the waiter is queued, the queue (1) is full: the next request is refused at once.
  for (int i = 0; i < 5000 && (*pool)->waiting() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_EQ((*pool)->waiting(), 1);
  auto extra = (*pool)->Acquire();
  ASSERT_FALSE(extra.ok());
  Status refused = extra.status();
  EXPECT_EQ(refused.code(), Status::Code::kThrottled) << refused.ToString();
  EXPECT_NE(refused.message().find("slots are busy"), std::string::npos);
  EXPECT_FALSE(served);
  held.reset();  // frees the slot: the queued request runs
  waiter.join();
  EXPECT_TRUE(served);
}

}  // namespace
}  // namespace lathe::service
