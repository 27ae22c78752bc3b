#include <cstdlib>
#include <string>

#include "cli/commands.h"
#include "core/cpu_features.h"

int main(int argc, char** argv) {
  // OpenMP threads that spin long after a parallel region take the cores from OpenBLAS and from
  // other requests; threads that sleep at once pay a wake-up ~50 times a token. lathe's threads
  // spin ~0.1 ms (kOpenMpSpinCount), unless the user chose (docs/engine.md). libgomp reads it once,
  // when it loads: build/lathe does not link it, it arrives with the engine module
  // (liblathe_engine.so), dlopen()ed after this line. Set before any thread starts.
  lathe::SetOpenMpWaitDefault();
  // OpenBLAS (torch's fp32 matmuls) picks its kernels by CPU model when it loads, and a CPU newer
  // than Debian's OpenBLAS gets its slowest ones (4-6x slower prefill); choose by the CPU's
  // features instead, unless the user has (docs/engine.md, "Matmul kernels").
  if (std::getenv("OPENBLAS_CORETYPE") == nullptr) {
    std::string core = lathe::OpenBlasCoreTypeFor(lathe::DetectCpuFeatures());
    if (!core.empty()) setenv("OPENBLAS_CORETYPE", core.c_str(), 0);
  }
  return lathe::cli::RunLathe(argc, argv);
}
