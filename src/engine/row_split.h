// Splitting a matrix product's rows across threads, for the decode and prefill kernels.
#pragma once

#include <cstdint>
#include <functional>

namespace lathe::engine {

// Both call work(r0, r1) for chunks covering [0, rows), each row exactly once, on the calling
// thread and up to at::get_num_threads() - 1 others, and return when every chunk is done; both are
// RowSplitters (compact_matrix.h). The chunks go to whichever thread is free, not one fixed share
// per thread: a server's other threads (HTTP connections, a client on the same machine) take a core
// now and then, and with fixed shares every matrix then waited for its delayed half. A chunk is a
// multiple of 4 rows (the kernels' tile), ~1/8 of a thread's share. Each row is computed whole by
// one thread, so the split never changes a result.

// For decode's products (tens of microseconds each, ~70 a token), on the engine's own pool of
// threads. libgomp keeps a pool of threads per thread that ever ran a parallel region, and once it
// manages more threads than there are cores (a server's model loader, the HTTP thread that made a
// batch's caches, the scheduler: three pools on two cores) it stops spinning everywhere, so each
// product woke a sleeping thread through the kernel (~100 futex calls a token). This pool's threads
// spin kSpinMicros after each product before they sleep, whoever calls. One product at a time uses
// the pool: a second caller meanwhile (another model's scheduler) computes alone.
void SplitRows(int64_t rows, const std::function<void(int64_t, int64_t)>& work);

// For prefill's products (milliseconds each), on torch's OpenMP threads: the prompt's other
// operations (attention, norms) run on those between the products, and two pools spinning in turn
// on two cores would take the cores from each other. A wake-up per product costs little here.
void SplitRowsOnTorchThreads(int64_t rows, const std::function<void(int64_t, int64_t)>& work);

// How long a pool thread waits for the next product before it sleeps: a token's products follow
// each other within microseconds; between tokens and requests the threads give the cores back.
// After kSpinPauseMicros of pure spinning it yields the core between checks, so a thread that wants
// the core (torch's, the HTTP server's) gets it.
inline constexpr int kSpinMicros = 100, kSpinPauseMicros = 10;

// Threads the pool has started so far (it grows to at::get_num_threads() - 1 on demand). For tests.
int RowSplitPoolThreads();

}  // namespace lathe::engine
