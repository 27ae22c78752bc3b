#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan + LeakSanitizer) into build-fuzz/ and runs
# each for a bounded time. Fails on any crash, leak, hang or out-of-memory.
#   scripts/fuzz.sh [SECONDS_PER_TARGET]     (default 20)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
seconds="${1:-20}"

cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++ -DLATHE_BUILD_FUZZ=ON -DLATHE_BUILD_TESTS=OFF -DLATHE_BUILD_BENCH=OFF >/dev/null
cmake --build build-fuzz --target lathe_fuzz_targets

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
