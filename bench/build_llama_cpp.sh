#!/usr/bin/env bash
# Builds llama.cpp's CPU tools from a source tree of the public repository (github.com/ggml-org/
# llama.cpp), for the benches that compare lathe with it: bench_generate --llama-cpp and
# bench_openai_stream.py --llama-server. Never a runtime dependency, never part of the tests, and
# nothing is downloaded: the source tree is yours.
#   bench/build_llama_cpp.sh SRC [BUILD] [JOBS] [TARGET...]
# BUILD defaults to SRC/build-lathe-bench, JOBS to every core (1 on a machine others share: the
# build takes ~20 min then), TARGETs to llama-bench llama-server llama-quantize
# llama-convert-llama2c-to-ggml (bench_openai_stream.py needs only llama-server).
# Prints the folder holding them.
set -euo pipefail
src="${1:?usage: bench/build_llama_cpp.sh LLAMA_CPP_SOURCE [BUILD_DIR] [JOBS] [TARGET...]}"
build="${2:-$src/build-lathe-bench}"
jobs="${3:-$(nproc)}"
shift $(( $# < 3 ? $# : 3 ))
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(llama-bench llama-server llama-quantize llama-convert-llama2c-to-ggml)
[ -f "$src/CMakeLists.txt" ] && [ -d "$src/ggml" ] || { echo "$src is not a llama.cpp source tree" >&2; exit 2; }
# Release, tuned for this CPU (what llama.cpp's own docs recommend for CPU use), no libcurl
# (model downloads are not wanted).
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DLLAMA_CURL=OFF \
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=ON -DLLAMA_BUILD_SERVER=ON >&2
cmake --build "$build" --target "${targets[@]}" -j "$jobs" >&2
echo "$build/bin"
