// Continuous batching in the service (BatchScheduler, ModelPool with several slots), no sockets,
// on the real stories260K model: concurrent requests from many threads share forward passes and
// each gets exactly what it gets alone; streaming, cancellation and the switch.
#include "service/batch_scheduler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "engine/llama2c_import.h"
#include "service/model_pool.h"
#include "test_util.h"

namespace lathe::service {
namespace {

using lathe::testing::SharedDir;
using lathe::testing::TempDir;

struct Case {
  std::string prompt;
  engine::GenerationOptions options;
};

std::vector<Case> Cases() {
  return {{"Once upon a time", {.max_tokens = 64}},
          {"The little dog", {.max_tokens = 40, .stop_sequences = {"."}}},
          {"Lily and Tom went to the park", {.max_tokens = 7}},
          {"One day", {.max_tokens = 80}},
          {"The sun was", {.max_tokens = 30, .stop_sequences = {"\n", "ball"}}},
          {"Tim had a red ball", {.max_tokens = 0}},
          {"A cat sat", {.max_tokens = 50, .temperature = 0.8f, .top_p = 0.95f, .seed = 11}},
          {"Mom said", {.max_tokens = 64}}};
}

class BatchSchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (SharedDir().empty()) GTEST_SKIP() << "../shared is absent: this test needs models/stories260K from it";
    const std::string stories = SharedDir() + "/models/stories260K";
    ASSERT_TRUE(engine::ImportLlama2c(stories + "/stories260K.bin", stories + "/tok512.model", tmp_.File("m")).ok());
    auto model = engine::LanguageModel::Load(tmp_.File("m"));
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    model_ = std::move(*model);
    for (const Case& c : Cases()) {
      auto ids = model_->EncodePrompt(c.prompt, c.options);
      ASSERT_TRUE(ids.ok());
      prompts_.push_back(*ids);
      auto alone = model_->GenerateTokens({*ids}, c.options);
      ASSERT_TRUE(alone.ok()) << alone.status().ToString();
      alone_.push_back((*alone)[0]);
    }
  }

  // Every case from its own thread at once through `generate`; returns the results and what each
  // streamed.
  template <typename Generate>
  std::vector<Result<engine::GenerationResult>> RunConcurrently(const Generate& generate,
                                                                std::vector<std::string>* streamed) {
    const std::vector<Case> cases = Cases();
    std::vector<Result<engine::GenerationResult>> results(cases.size(), Status::Internal("did not run"));
    streamed->assign(cases.size(), "");
    std::atomic<size_t> ready{0};
    std::vector<std::thread> threads;
    for (size_t i = 0; i < cases.size(); ++i)
      threads.emplace_back([&, i] {
        ++ready;
        while (ready.load() < cases.size()) std::this_thread::yield();  // start together
        results[i] = generate(prompts_[i], cases[i].options, [&, i](size_t, std::string_view piece) {
          (*streamed)[i].append(piece);
          return true;
        });
      });
    for (std::thread& t : threads) t.join();
    return results;
  }

  void ExpectAsAlone(const std::vector<Result<engine::GenerationResult>>& results,
                     const std::vector<std::string>& streamed) {
    for (size_t i = 0; i < results.size(); ++i) {
      SCOPED_TRACE("case " + std::to_string(i));
      ASSERT_TRUE(results[i].ok()) << results[i].status().ToString();
      EXPECT_EQ(results[i]->tokens, alone_[i].tokens);
      EXPECT_EQ(results[i]->text, alone_[i].text);
      EXPECT_EQ(results[i]->reason, alone_[i].reason);
      EXPECT_EQ(results[i]->stop_sequence, alone_[i].stop_sequence);
      EXPECT_EQ(results[i]->prompt_tokens, alone_[i].prompt_tokens);
      EXPECT_EQ(streamed[i], alone_[i].text);
    }
  }

  TempDir tmp_;
  std::unique_ptr<engine::LanguageModel> model_;
  std::vector<std::vector<int>> prompts_;
  std::vector<engine::GenerationResult> alone_;
};

TEST_F(BatchSchedulerTest, ConcurrentRequestsShareStepsAndGetWhatEachGetsAlone) {
  for (size_t capacity : {size_t{8}, size_t{3}}) {  // 3: the rest wait in the queue for room
    SCOPED_TRACE("capacity " + std::to_string(capacity));
    auto batch = model_->NewGenerationBatch(static_cast<int>(capacity));
    ASSERT_TRUE(batch.ok());
    BatchScheduler scheduler(std::move(*batch), /*queue_limit=*/8);
    EXPECT_EQ(scheduler.capacity(), capacity);
    // Threads that start together almost always overlap; three tries make "never" out of reach.
    for (int attempt = 0; attempt < 3 && scheduler.counters().widest < 2; ++attempt) {
      std::vector<std::string> streamed;
      auto results = RunConcurrently(
          [&](const std::vector<int>& p, const engine::GenerationOptions& o, const engine::TextCallback& t) {
            return scheduler.Generate(p, o, t);
          },
          &streamed);
      ExpectAsAlone(results, streamed);
    }
    const BatchScheduler::Counters c = scheduler.counters();
    EXPECT_GE(c.widest, 2) << "no two requests ever shared a forward pass";
    EXPECT_LE(c.widest, static_cast<int64_t>(capacity));
    EXPECT_GT(c.sequence_steps, c.steps);
  }
}

TEST_F(BatchSchedulerTest, AClientThatGoesAwayIsCancelledAndTheOthersAreUntouched) {
  auto batch = model_->NewGenerationBatch(4);
  ASSERT_TRUE(batch.ok());
  BatchScheduler scheduler(std::move(*batch), 0);
  std::vector<int> long_prompt = prompts_[0];
  Result<engine::GenerationResult> gone = Status::Internal("did not run"), other = gone;
  std::string gone_text;
  std::thread t1([&] {
    gone = scheduler.Generate(long_prompt, {.max_tokens = 200}, [&](size_t, std::string_view piece) {
      gone_text.append(piece);
      return gone_text.size() < 10;  // the client leaves after some text
    });
  });
  std::thread t2([&] { other = scheduler.Generate(prompts_[3], Cases()[3].options); });
  t1.join();
  t2.join();
  ASSERT_TRUE(gone.ok()) << gone.status().ToString();
  EXPECT_EQ(gone->reason, engine::StopReason::kCancelled);
  EXPECT_LT(gone->tokens.size(), 200u);
  EXPECT_GE(gone_text.size(), 10u);
  EXPECT_EQ(alone_[0].text.rfind(gone_text, 0), 0u) << "what it got is the start of its answer";
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->tokens, alone_[3].tokens);
}

TEST_F(BatchSchedulerTest, BadRequestsAreRefusedWithTheEnginesErrorAndTheSchedulerGoesOn) {
  auto batch = model_->NewGenerationBatch(2);
  ASSERT_TRUE(batch.ok());
  BatchScheduler scheduler(std::move(*batch), 0);
  auto empty = scheduler.Generate({}, {});
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().code(), Status::Code::kInvalidArgument);
  auto negative = scheduler.Generate(prompts_[0], {.max_tokens = -3});
  EXPECT_EQ(negative.status().code(), Status::Code::kInvalidArgument);
  auto fine = scheduler.Generate(prompts_[0], Cases()[0].options);
  ASSERT_TRUE(fine.ok());
  EXPECT_EQ(fine->tokens, alone_[0].tokens);
}

// The pool batches its slots' requests (one scheduler per pool) unless told not to or it has a
// single slot; either way each request gets what it gets alone.
TEST_F(BatchSchedulerTest, ModelPoolBatchesSeveralSlotsAndTheSwitchTurnsItOff) {
  for (bool batching : {true, false}) {
    SCOPED_TRACE(batching ? "batching" : "not batching");
    auto pool = ModelPool::Over(std::shared_ptr<const engine::LanguageModel>(model_->NewInstance()), 8, 8, nullptr,
                                batching);
    EXPECT_EQ(pool->scheduler() != nullptr, batching);
    std::vector<std::string> streamed;
    auto results = RunConcurrently(
        [&](const std::vector<int>& p, const engine::GenerationOptions& o,
            const engine::TextCallback& t) -> Result<engine::GenerationResult> {
          auto lease = pool->Acquire();
          if (!lease.ok()) return lease.status();
          return lease->Generate(p, o, t);
        },
        &streamed);
    ExpectAsAlone(results, streamed);
  }
  auto single = ModelPool::Over(std::shared_ptr<const engine::LanguageModel>(model_->NewInstance()), 1, 1);
  EXPECT_EQ(single->scheduler(), nullptr);
}

// A request that ends gives its place back before its caller hears of it: the caller frees its
// slot and the next request on that slot must find room in the batch at once (it was refused
// as throttled now and then, mid-stream, when the place was freed after the answer).
TEST_F(BatchSchedulerTest, TheNextRequestOnAFreedSlotAlwaysFindsRoom) {
  auto pool = ModelPool::Over(std::shared_ptr<const engine::LanguageModel>(model_->NewInstance()), 2, 0);
  ASSERT_NE(pool->scheduler(), nullptr);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 40; ++i) {
        auto lease = pool->Acquire();
        auto r = lease.ok() ? lease->Generate(prompts_[static_cast<size_t>(t)], {.max_tokens = 2})
                            : Result<engine::GenerationResult>(lease.status());
        if (!r.ok()) ++failures;
      }
    });
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace lathe::service
