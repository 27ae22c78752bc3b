#include "core/cpu_features.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

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

// lathe's OpenMP wait goes in only where the user chose none: an OMP_WAIT_POLICY or a
// GOMP_SPINCOUNT of theirs is left as it is.
TEST(OpenMpWait, SetsTheSpinCountOnlyWhereTheUserChoseNothing) {
  const char* policy = std::getenv("OMP_WAIT_POLICY");
  const char* spin = std::getenv("GOMP_SPINCOUNT");
  const std::string saved_policy = policy ? policy : "", saved_spin = spin ? spin : "";
  unsetenv("OMP_WAIT_POLICY");
  unsetenv("GOMP_SPINCOUNT");
  EXPECT_TRUE(SetOpenMpWaitDefault());
  ASSERT_NE(std::getenv("GOMP_SPINCOUNT"), nullptr);
  EXPECT_STREQ(std::getenv("GOMP_SPINCOUNT"), kOpenMpSpinCount);
  EXPECT_EQ(std::getenv("OMP_WAIT_POLICY"), nullptr);

  setenv("GOMP_SPINCOUNT", "5", 1);
  EXPECT_FALSE(SetOpenMpWaitDefault());
  EXPECT_STREQ(std::getenv("GOMP_SPINCOUNT"), "5");

  unsetenv("GOMP_SPINCOUNT");
  setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
  EXPECT_FALSE(SetOpenMpWaitDefault());
  EXPECT_EQ(std::getenv("GOMP_SPINCOUNT"), nullptr);

  policy ? setenv("OMP_WAIT_POLICY", saved_policy.c_str(), 1) : unsetenv("OMP_WAIT_POLICY");
  spin ? setenv("GOMP_SPINCOUNT", saved_spin.c_str(), 1) : unsetenv("GOMP_SPINCOUNT");
}

}  // namespace
}  // namespace lathe
