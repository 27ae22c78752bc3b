#include <cstdlib>

#include "cli/commands.h"

int main(int argc, char** argv) {
  // OpenBLAS and libtorch's OpenMP threads spin-wait against each other on a small machine,
  // slowing training 1.7-3x; libgomp reads OMP_WAIT_POLICY once, when it loads. build/lathe does
  // not link it: it arrives with the engine module (liblathe_engine.so), dlopen()ed after this
  // line, so setting it here is enough (docs/engine.md). Set before any thread starts.
  setenv("OMP_WAIT_POLICY", "PASSIVE", 0);
  return lathe::cli::RunLathe(argc, argv);
}
