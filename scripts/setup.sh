#!/usr/bin/env bash
# Installs every Debian package lathe needs and builds Release into build/ (CLI: build/lathe).
# Idempotent: packages already installed are not touched and the build is incremental.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PACKAGES=(
  cmake ninja-build g++ pkg-config git
  nlohmann-json3-dev libcli11-dev libspdlog-dev libsentencepiece-dev libsqlite3-dev
  libpcre2-dev libicu-dev libssl-dev libcurl4-openssl-dev
  zlib1g-dev                 # crc32 for S3's CRC32 checksums (libcurl already depends on zlib)
  libhttp-parser-dev         # nodejs http-parser 2.9: incremental HTTP/1.1 request parsing for src/http
  libnghttp2-dev             # HTTP/2 framing, HPACK and flow control for src/http (h2c and ALPN h2)
  libpugixml-dev             # XML for S3 and the query protocols (IAM, STS, SNS)
  libpq-dev                  # libpq: the shared PostgreSQL store (lathe serve --store, docs/scale-out.md)
  postgresql-15              # initdb/pg_ctl for the store tests' throwaway server (scripts/pg-test-server.sh)
  libminizip-dev             # unzips Lambda function code (zlib's minizip; zip-slip and size checks are ours)
  libtorch-dev               # the engine (CPU libtorch 1.13)
  libgloo-dev                # Gloo's headers, which c10d's ProcessGroupGloo includes: data-parallel training
  libopenblas0-openmp        # fast BLAS for libtorch (without it Debian falls back to the
                             # reference BLAS: ~3 GFLOP/s); the OpenMP build shares torch's threads
  python3-torch              # the PyTorch-eager peer in bench/ (same weights, same settings)
  sentencepiece              # spm_train: trains the default model's tokenizer
  wordnet-base fortunes      # the default model's pretraining corpus (permissive licenses)
  libgtest-dev libgmock-dev libbenchmark-dev
  nghttp2-client             # h2load: the fixed-rate load of bench/bench_serve.py
  time                       # GNU time: peak RSS in bench/bench_startup.py
  clang libclang-rt-14-dev   # libFuzzer for the fuzz tests
  libjs-chart.js             # Chart.js, inlined into evaluation reports (report.html opens offline)
  chromium                   # headless: the evaluation report's browser test and its docs screenshot
  dpkg-dev                   # dpkg-shlibdeps: the .deb's library dependencies (scripts/package.sh)
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "setup: all ${#PACKAGES[@]} Debian packages present"
fi

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build
echo "setup: built build/lathe"
