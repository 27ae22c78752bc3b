#include <unistd.h>

#include <cstdlib>

#include "cli/commands.h"

int main(int argc, char** argv) {
  // OpenBLAS and libtorch's OpenMP threads spin-wait against each other on a small machine,
  // slowing training 1.7-3x; libgomp reads OMP_WAIT_POLICY only when it loads, before main().
  // So set it and re-execute once (docs/engine.md).
  if (std::getenv("OMP_WAIT_POLICY") == nullptr) {
    setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
    execv("/proc/self/exe", argv);  // on failure, carry on without it
  }
  return lathe::cli::RunLathe(argc, argv);
}
