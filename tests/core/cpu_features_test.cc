#include "core/cpu_features.h"

#include <gtest/gtest.h>

namespace lathe {
namespace {

// Flags lines as Linux prints them for three CPU generations (abridged to the flags that matter
// plus neighbours that must not be mistaken for them).
constexpr const char* kSapphireRapids =
    "flags\t\t: fpu sse2 avx avx2 fma avx512f avx512dq avx512cd avx512bw avx512vl avx512_bf16 "
    "avx512_vnni amx_bf16 amx_tile";
constexpr const char* kSkylakeServer = "flags : sse4_2 avx avx2 fma avx512f avx512dq avx512cd avx512bw avx512vl";
constexpr const char* kZen3 = "flags : sse4_2 avx avx2 fma bmi2";
constexpr const char* kOld = "flags : sse2 sse4_2 avx";

TEST(CpuFeatures, ReadsLinuxFlagNamesExactly) {
  CpuFeatures f = ParseCpuFlags(kSapphireRapids);
  EXPECT_TRUE(f.avx2 && f.fma && f.avx512f && f.avx512dq && f.avx512cd && f.avx512bw && f.avx512vl && f.avx512_bf16);
  // A flag that only starts like one (avx512_vnni, avx512_bf16x) is not it.
  CpuFeatures g = ParseCpuFlags("flags : avx512_bf16x avx512fx avx2_ fma4");
  EXPECT_FALSE(g.avx512_bf16 || g.avx512f || g.avx2 || g.fma);
  EXPECT_FALSE(ParseCpuFlags("").avx2);
  EXPECT_FALSE(ParseCpuFlags("flags :").avx2);
}

TEST(CpuFeatures, ChoosesTheStrongestOpenBlasKernelsTheCpuRuns) {
  EXPECT_EQ(OpenBlasCoreTypeFor(ParseCpuFlags(kSapphireRapids)), "Cooperlake");
  EXPECT_EQ(OpenBlasCoreTypeFor(ParseCpuFlags(kSkylakeServer)), "SkylakeX");
  EXPECT_EQ(OpenBlasCoreTypeFor(ParseCpuFlags(kZen3)), "Haswell");
  EXPECT_EQ(OpenBlasCoreTypeFor(ParseCpuFlags(kOld)), "");
  // AVX-512 without all of SkylakeX's subsets (Xeon Phi: no BW/VL/DQ) gets Haswell's, not SkylakeX's.
  EXPECT_EQ(OpenBlasCoreTypeFor(ParseCpuFlags("flags : avx2 fma avx512f avx512cd")), "Haswell");
}

}  // namespace
}  // namespace lathe
