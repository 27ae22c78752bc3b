#include "engine/row_split.h"

#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "engine/compact_matrix.h"

namespace lathe::engine {
namespace {

class RowSplit : public ::testing::Test {
 protected:
  void SetUp() override {
    threads_before_ = at::get_num_threads();
    at::set_num_threads(3);  // more threads than this machine may have cores: still correct
  }
  void TearDown() override { at::set_num_threads(threads_before_); }
  int threads_before_ = 1;
};

// Each row of every size is handed out exactly once, in chunks of whole tiles (4 rows) but the
// last, by both splitters; the pool grows to at most the thread count less the caller.
TEST_F(RowSplit, EveryRowExactlyOnce) {
  for (const RowSplitter& split : {RowSplitter(SplitRows), RowSplitter(SplitRowsOnTorchThreads)})
    for (int64_t rows : {1, 3, 4, 5, 63, 64, 65, 768, 4097, 32000}) {
      std::vector<std::atomic<int>> seen(static_cast<size_t>(rows));
      std::atomic<int> bad_chunks{0};
      split(rows, [&](int64_t r0, int64_t r1) {
        if (r0 < 0 || r1 > rows || r0 >= r1 || (r1 != rows && (r1 - r0) % 4 != 0)) ++bad_chunks;
        for (int64_t r = r0; r < r1; ++r) seen[static_cast<size_t>(r)].fetch_add(1);
      });
      EXPECT_EQ(bad_chunks.load(), 0) << rows << " rows";
      for (int64_t r = 0; r < rows; ++r)
        ASSERT_EQ(seen[static_cast<size_t>(r)].load(), 1) << "row " << r << " of " << rows;
    }
  EXPECT_LE(RowSplitPoolThreads(), 2);
}

// Products from several threads at once (several models' schedulers) and back to back (a token's
// products): each completes whole before SplitRows returns, none computes another's rows.
TEST_F(RowSplit, ConcurrentCallersEachGetTheirOwnRowsWhole) {
  constexpr int kCallers = 3, kProducts = 300;
  constexpr int64_t kRows = 512;
  std::atomic<int> wrong{0};
  std::vector<std::thread> callers;
  for (int c = 0; c < kCallers; ++c)
    callers.emplace_back([&, c] {
      std::vector<int> out(kRows);
      for (int p = 0; p < kProducts; ++p) {
        const int tag = c * kProducts + p;
        SplitRows(kRows, [&](int64_t r0, int64_t r1) {
          for (int64_t r = r0; r < r1; ++r) out[static_cast<size_t>(r)] = tag;
        });
        for (int v : out) wrong += v != tag;
      }
    });
  for (auto& t : callers) t.join();
  EXPECT_EQ(wrong.load(), 0);
}

// After the pool's threads have slept (well past kSpinMicros), a product still completes, and a
// long one is shared: some chunk runs on a thread other than the caller's.
TEST_F(RowSplit, SleepingPoolThreadsWakeAndHelp) {
  const auto caller = std::this_thread::get_id();
  std::atomic<int> helped{0};
  for (int round = 0; round < 20 && helped.load() == 0; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::atomic<int64_t> rows_done{0};
    SplitRows(256, [&](int64_t r0, int64_t r1) {
      if (std::this_thread::get_id() != caller) ++helped;
      const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(200);
      while (std::chrono::steady_clock::now() < until) {
      }
      rows_done += r1 - r0;
    });
    ASSERT_EQ(rows_done.load(), 256);
  }
  EXPECT_GT(helped.load(), 0) << "no chunk of 20 products of ~13 ms ran on a pool thread";
}

// One thread (at::set_num_threads(1), as LATHE_THREADS=1 sets it): the caller computes the whole
// product in one call, on the thread that set it and on a thread started afterwards (a server's
// scheduler) alike.
TEST_F(RowSplit, OneThreadComputesInOneCall) {
  at::set_num_threads(1);
  auto one_call = [] {
    int calls = 0;
    SplitRows(1000, [&](int64_t r0, int64_t r1) {
      ++calls;
      EXPECT_EQ(r0, 0);
      EXPECT_EQ(r1, 1000);
    });
    EXPECT_EQ(calls, 1);
  };
  one_call();
  std::thread(one_call).join();
}

}  // namespace
}  // namespace lathe::engine
