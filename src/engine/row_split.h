// Splitting a matrix product's rows across torch's threads, for the decode and prefill kernels.
#pragma once

#include <cstdint>
#include <functional>

namespace lathe::engine {

// Calls work(r0, r1) for chunks covering [0, rows) on torch's OpenMP threads (at::get_num_threads).
// The chunks go to whichever thread is free, not one fixed share per thread: a server's other
// threads (HTTP connections, a client on the same machine) take a core now and then, and with
// fixed shares every matrix then waited for its delayed half (one streaming client got 306 tok/s
// from two threads against 399 from one). A chunk is a multiple of 4 rows (the kernels' tile),
// ~1/8 of a thread's share. Each row is computed whole by one thread, so the split never changes
// a result. A RowSplitter (compact_matrix.h).
void SplitRows(int64_t rows, const std::function<void(int64_t, int64_t)>& work);

}  // namespace lathe::engine
