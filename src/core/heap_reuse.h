// Keeping freed memory in the process's heap, for processes that repeat one large computation.
#pragma once

#include <cstddef>

namespace lathe {

// A training step frees and allocates again the same activation tensors (a few MB each, ~1 GB in
// all for a 135M model). glibc hands blocks above its mmap threshold back to the kernel on free()
// and trims the heap's top above M_TRIM_THRESHOLD, so every step paid the page faults and the
// kernel's zeroing of those pages again: 16% of a 135M LoRA step in perf, and tokens/s rose 20-30%
// without them (docs/training.md). This raises both thresholds to kHeapReuseBytes, so freed memory
// stays in the heap for the next step; peak RSS grew ~8% (blocks kept apart by fragmentation).
// Process-wide and permanent: called by the commands whose process trains (`lathe train`, the
// default model's build), never by the server, whose memory should go back after a burst.
// Returns false where the C library refused (not glibc); nothing else changes then.
inline constexpr std::size_t kHeapReuseBytes = std::size_t{1} << 30;
bool KeepFreedMemoryInHeap();

}  // namespace lathe
