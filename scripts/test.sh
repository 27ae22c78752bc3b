#!/usr/bin/env bash
# Builds if needed, then runs every test through ctest (unit, golden, CLI and a bounded fuzz run).
# Tests that need ../shared skip with a message when it is absent.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ ! -f build/build.ninja ]; then
  scripts/setup.sh
else
  cmake --build build
fi
# The fuzz targets (clang, sanitizers) are built here rather than inside their ctest test, whose
# time limit is for running them.
if command -v clang++ >/dev/null; then
  scripts/fuzz.sh --build-only
fi
export OMP_WAIT_POLICY=PASSIVE
ctest --test-dir build --output-on-failure -j "$(nproc)" "$@"
