#include "engine/row_split.h"

#include <ATen/Parallel.h>
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

namespace lathe::engine {
namespace {

void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Rows per chunk: whole multiples of 4 (the kernels handle 4 rows at a time), ~1/8 of a share.
int64_t ChunkRows(int64_t rows, int64_t threads) { return std::max<int64_t>(4, (rows / (8 * threads) + 3) / 4 * 4); }

// The pool's state for one product at a time. `claim_` packs the product's number (high 32 bits)
// with the next unclaimed row (low 32 bits), so a thread claims a chunk with one compare-and-swap
// that fails if the product it read has ended since: a thread delayed between reading a product and
// claiming from it never computes rows of the next one. Between products `claim_` holds number 0
// (closed) while the next product's fields are written. The pool's threads wait as row_split.h says
// (kSpinMicros).
class Pool {
 public:
  // Runs the product on the caller and up to participants - 1 pool threads; false when another
  // product holds the pool (the caller then computes alone).
  bool Run(int participants, int64_t rows, int64_t chunk, const std::function<void(int64_t, int64_t)>& work) {
    std::unique_lock<std::mutex> busy(busy_, std::try_to_lock);
    if (!busy.owns_lock()) return false;
    Grow(participants - 1);
    claim_.store(0, std::memory_order_seq_cst);  // closed: a late claim on the last product fails
    work_.store(&work, std::memory_order_relaxed);
    rows_.store(rows, std::memory_order_relaxed);
    chunk_.store(chunk, std::memory_order_relaxed);
    participants_.store(participants, std::memory_order_relaxed);
    done_.store(0, std::memory_order_relaxed);
    const uint64_t product = ++products_;
    claim_.store(product << 32, std::memory_order_release);
    epoch_.store(product, std::memory_order_release);
    epoch_.notify_all();  // a futex call only while a thread sleeps (libstdc++ counts waiters)
    Work(product);
    // Every chunk is claimed; wait for those other threads still compute.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(kSpinMicros);
    for (int spins = 0; done_.load(std::memory_order_acquire) < rows; ++spins) {
      CpuRelax();
      if (spins % 64 == 63 && std::chrono::steady_clock::now() > deadline) std::this_thread::yield();
    }
    return true;
  }

  int threads() {
    std::lock_guard<std::mutex> lock(busy_);
    return started_;
  }

 private:
  // Claims and computes chunks of `product` until none is left or another product began.
  void Work(uint64_t product) {
    for (;;) {
      uint64_t c = claim_.load(std::memory_order_acquire);
      if ((c >> 32) != product) return;
      const int64_t r0 = static_cast<int64_t>(c & 0xffffffffu);
      const int64_t rows = rows_.load(std::memory_order_relaxed);
      if (r0 >= rows) return;
      const int64_t chunk = chunk_.load(std::memory_order_relaxed);
      const auto* work = work_.load(std::memory_order_relaxed);
      if (!claim_.compare_exchange_weak(c, c + static_cast<uint64_t>(chunk), std::memory_order_acq_rel)) continue;
      const int64_t r1 = std::min(rows, r0 + chunk);
      (*work)(r0, r1);
      done_.fetch_add(r1 - r0, std::memory_order_release);
    }
  }

  // Pool thread `index` (1-based; the caller is 0): waits for each product, spinning kSpinMicros
  // before it sleeps, and helps when the product wants that many threads.
  void Loop(int index) {
    uint64_t seen = 0;
    for (;;) {
      uint64_t e = epoch_.load(std::memory_order_acquire);
      auto since = std::chrono::steady_clock::now();
      for (int spins = 0; e == seen; e = epoch_.load(std::memory_order_acquire)) {
        if (++spins % 64 != 0) {
          CpuRelax();
          continue;
        }
        const auto waited = std::chrono::steady_clock::now() - since;
        if (waited > std::chrono::microseconds(kSpinMicros)) {
          epoch_.wait(seen, std::memory_order_acquire);
          since = std::chrono::steady_clock::now();
        } else if (waited > std::chrono::microseconds(kSpinPauseMicros)) {
          std::this_thread::yield();
        }
      }
      seen = e;
      if (index < participants_.load(std::memory_order_relaxed)) Work(e);
    }
  }

  void Grow(int threads) {
    for (; started_ < threads; ++started_) {
      std::thread t([this, index = started_ + 1] { Loop(index); });
      pthread_setname_np(t.native_handle(), "lathe-rows");
      t.detach();  // the pool lives as long as the process (a leaked singleton)
    }
  }

  std::mutex busy_;
  int started_ = 0;        // under busy_
  uint64_t products_ = 0;  // under busy_
  std::atomic<uint64_t> claim_{0}, epoch_{0};
  std::atomic<const std::function<void(int64_t, int64_t)>*> work_{nullptr};
  std::atomic<int64_t> rows_{0}, chunk_{1}, done_{0};
  std::atomic<int> participants_{1};
};

Pool& ThePool() {
  static Pool* pool = new Pool;  // never destroyed: its threads may outlive static destructors
  return *pool;
}

}  // namespace

void SplitRows(int64_t rows, const std::function<void(int64_t, int64_t)>& work) {
  // As at::parallel_for does: a thread's first call takes the process's thread count
  // (at::set_num_threads, LATHE_THREADS) into its own OpenMP setting, which get_num_threads reads.
  at::internal::lazy_init_num_threads();
  const int threads = std::max(1, at::get_num_threads());
  // One thread, one tile, or rows beyond the claim word's 32 bits: no pool.
  if (threads <= 1 || rows <= 4 || rows >= (int64_t{1} << 31)) return work(0, rows);
  if (!ThePool().Run(threads, rows, ChunkRows(rows, threads), work)) work(0, rows);
}

void SplitRowsOnTorchThreads(int64_t rows, const std::function<void(int64_t, int64_t)>& work) {
  const int64_t threads = at::get_num_threads();
  if (threads <= 1) return work(0, rows);
  const int64_t chunk = ChunkRows(rows, threads);
  std::atomic<int64_t> next{0};
  at::parallel_for(0, threads, 1, [&](int64_t, int64_t) {
    for (int64_t r0 = next.fetch_add(chunk); r0 < rows; r0 = next.fetch_add(chunk))
      work(r0, std::min(rows, r0 + chunk));
  });
}

int RowSplitPoolThreads() { return ThePool().threads(); }

}  // namespace lathe::engine
