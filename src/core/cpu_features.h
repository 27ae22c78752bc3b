// The CPU's instruction-set features that decide which matmul kernels lathe asks for.
#pragma once

#include <string>
#include <string_view>

namespace lathe {

struct CpuFeatures {
  bool avx2 = false;
  bool fma = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512cd = false;
  bool avx512dq = false;
  bool avx512vl = false;
  bool avx512_bf16 = false;  // bf16 dot products: twice the fp32 matmul peak
};

// The features named by a /proc/cpuinfo "flags" line (space-separated, Linux's names).
CpuFeatures ParseCpuFlags(std::string_view flags_line);

// This machine's features, from /proc/cpuinfo's first "flags" line (all false when unreadable).
CpuFeatures DetectCpuFeatures();

// The OpenBLAS core type (OPENBLAS_CORETYPE) whose kernels suit FEATURES, or "" to leave the choice
// to OpenBLAS. Debian's OpenBLAS 0.3.21 (a DYNAMIC_ARCH build) detects CPUs by vendor and model
// number, so a CPU newer than it (Sapphire Rapids) falls back to its slowest kernels ("Prescott",
// 34-54 GFLOP/s where SkylakeX gives 184-224); the features say what the CPU can run whatever
// its model. Cooperlake = SkylakeX's kernels plus bf16 GEMM.
std::string OpenBlasCoreTypeFor(const CpuFeatures& features);

// How long lathe's OpenMP threads (torch's and OpenBLAS's one pool) spin when a parallel region
// ends before they sleep: libgomp's GOMP_SPINCOUNT, about 100,000 spins a millisecond, so ~0.1 ms.
// Long enough to bridge the gaps between the regions of one decode step or training step (a
// sleeping thread takes tens of microseconds to wake, ~50 times a token); short enough that idle
// threads do not take the cores from OpenBLAS or from other requests. Measured on the 2-core
// machine against OMP_WAIT_POLICY=PASSIVE (no spinning): 110M-shaped decode 1.2-1.5x, prefill
// 1.2x, 135M LoRA training 1.16-1.22x; libgomp's own default (300,000) trains 8% slower than
// PASSIVE (docs/engine.md, "Threads and BLAS").
inline constexpr char kOpenMpSpinCount[] = "10000";

// Sets GOMP_SPINCOUNT to kOpenMpSpinCount unless the user chose how OpenMP threads wait
// (OMP_WAIT_POLICY or GOMP_SPINCOUNT set). libgomp reads it once, when it loads: call first.
// Returns whether it set it.
bool SetOpenMpWaitDefault();

}  // namespace lathe
