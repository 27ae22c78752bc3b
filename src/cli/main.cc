#include <cstdlib>
#include <string>

#include "cli/commands.h"
#include "core/cpu_features.h"

int main(int argc, char** argv) {
  // OpenBLAS and libtorch's OpenMP threads spin-wait against each other on a small machine,
  // slowing training 1.7-3x; libgomp reads OMP_WAIT_POLICY once, when it loads. build/lathe does
  // not link it: it arrives with the engine module (liblathe_engine.so), dlopen()ed after this
  // line, so setting it here is enough (docs/engine.md). Set before any thread starts.
  setenv("OMP_WAIT_POLICY", "PASSIVE", 0);
  // OpenBLAS (torch's fp32 matmuls) picks its kernels by CPU model when it loads, and a CPU newer
  // than Debian's OpenBLAS gets its slowest ones (4-6x slower prefill); choose by the CPU's
  // features instead, unless the user has (docs/engine.md, "Matmul kernels").
  if (std::getenv("OPENBLAS_CORETYPE") == nullptr) {
    std::string core = lathe::OpenBlasCoreTypeFor(lathe::DetectCpuFeatures());
    if (!core.empty()) setenv("OPENBLAS_CORETYPE", core.c_str(), 0);
  }
  return lathe::cli::RunLathe(argc, argv);
}
