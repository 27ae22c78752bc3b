#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan + LeakSanitizer) into build-fuzz/ and runs
# each for a bounded time. Fails on any crash, leak, hang or out-of-memory.
#   scripts/fuzz.sh [SECONDS_PER_TARGET]     (default 20)
#   scripts/fuzz.sh --build-only             (scripts/test.sh builds first, so ctest only runs them)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
seconds="${1:-20}"

# -O1 with line tables only: what libFuzzer's docs suggest, and a third quicker to build than
# -O2 -g with sanitizers (the build is most of this script's time).
cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_FLAGS="-O1 -gline-tables-only" \
  -DCMAKE_CXX_COMPILER=clang++ -DLATHE_BUILD_FUZZ=ON -DLATHE_BUILD_TESTS=OFF -DLATHE_BUILD_BENCH=OFF >/dev/null
cmake --build build-fuzz --target lathe_fuzz_targets
[ "$seconds" = "--build-only" ] && exit 0

for target in build-fuzz/fuzz/fuzz_*; do
  [ -x "$target" ] || continue
  name=$(basename "$target")
  corpus="build-fuzz/corpus/$name"
  mkdir -p "$corpus"
  cp -n fuzz/seeds/"${name#fuzz_}"/* "$corpus"/ 2>/dev/null || true
  echo "fuzz: $name for ${seconds}s"
  # -rss_limit_mb catches unbounded allocation; -timeout catches hangs.
  "$target" "$corpus" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
    -max_len=65536 -print_final_stats=1 -artifact_prefix=build-fuzz/ 2>&1 | tail -n 15
done
