// lathe sets OPENBLAS_CORETYPE from the CPU's features (core/cpu_features.h, cli/main.cc). OpenBLAS
// reads it once, when it loads, so each core type is checked in a child process: this binary run
// again with the variable set and a filter selecting the child test below, which checks that
// OpenBLAS took that core type and that torch's fp32 matmuls (OpenBLAS's sgemm) match a
// double-precision reference on shapes that exercise every kernel edge. The child test is
// DISABLED_ so that it runs only there.
#include <ATen/ATen.h>
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "core/cpu_features.h"

namespace lathe {
namespace {

constexpr const char* kChildFlag = "LATHE_BLAS_CORETYPE_CHILD";

// The core types lathe may choose that this CPU can run (the others cannot be tested here).
std::vector<std::string> CoreTypesThisCpuRuns() {
  CpuFeatures f = DetectCpuFeatures();
  std::vector<std::string> types;
  for (const char* type : {"Cooperlake", "SkylakeX", "Haswell"}) {
    CpuFeatures only = f;
    if (std::string(type) != "Cooperlake") only.avx512_bf16 = false;
    if (std::string(type) == "Haswell") only.avx512f = false;
    if (OpenBlasCoreTypeFor(only) == type) types.push_back(type);
  }
  return types;
}

TEST(BlasCoreType, EachCoreTypeLatheMayChooseComputesCorrectMatmuls) {
  if (std::getenv(kChildFlag)) GTEST_SKIP() << "in the child";
  std::vector<std::string> types = CoreTypesThisCpuRuns();
  if (types.empty()) GTEST_SKIP() << "this CPU has no AVX2+FMA: lathe leaves OpenBLAS's choice alone";
  EXPECT_EQ(types.front(), OpenBlasCoreTypeFor(DetectCpuFeatures())) << "the first is what lathe chooses here";
  for (const std::string& type : types) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      setenv("OPENBLAS_CORETYPE", type.c_str(), 1);
      setenv(kChildFlag, "1", 1);
      execl("/proc/self/exe", "blas-child", "--gtest_filter=BlasCoreTypeChild.*", "--gtest_also_run_disabled_tests", static_cast<char*>(nullptr));
      _exit(127);
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "core type " << type << ": child status " << status;
  }
}

TEST(BlasCoreTypeChild, DISABLED_OpenBlasUsesTheRequestedCoreAndSgemmMatchesAReference) {
  const char* wanted = std::getenv("OPENBLAS_CORETYPE");
  if (!std::getenv(kChildFlag) || !wanted) GTEST_SKIP() << "run by BlasCoreType in a child process";
  using CoreName = char* (*)();
  auto core_name = reinterpret_cast<CoreName>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  if (core_name == nullptr) GTEST_SKIP() << "torch's BLAS is not OpenBLAS";
  EXPECT_EQ(strcasecmp(core_name(), wanted), 0) << "OpenBLAS chose " << core_name() << ", not " << wanted;
  at::manual_seed(7);
  // Odd sizes hit the kernels' edge handling; the transposed case takes the other packing path.
  for (auto [m, k, n] : std::vector<std::tuple<int, int, int>>{{1, 1, 1}, {67, 129, 45}, {256, 256, 256}, {3, 513, 17}}) {
    at::Tensor a = at::randn({m, k}), b = at::randn({k, n});
    at::Tensor reference = at::mm(a.to(at::kDouble), b.to(at::kDouble));
    for (bool transposed : {false, true}) {
      at::Tensor got = transposed ? at::mm(a, b.t().contiguous().t()) : at::mm(a, b);
      double err = (got.to(at::kDouble) - reference).abs().max().item<double>();
      double scale = reference.abs().max().item<double>() + 1;
      EXPECT_LT(err / scale, 1e-5) << wanted << " " << m << "x" << k << "x" << n << (transposed ? " (B transposed)" : "");
    }
  }
}

}  // namespace
}  // namespace lathe
