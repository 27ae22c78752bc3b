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

}  // namespace lathe
