#!/usr/bin/env bash
# Installs the test-local npm packages of tests/integration/js (the AWS SDK for JavaScript v3: the
# second S3 client the S3 tests check the wire with and the Bedrock clients whose runtime client
# speaks HTTP/2; and s3rver, bench_s3.py's peer server) with
# `npm ci` from the committed package-lock.json: exact versions, into that folder's node_modules,
# never globally and never when lathe itself runs.
#
#   scripts/js-clients.sh          # prints the node_modules path on its last line
#
# Reinstalls only when node_modules is missing or was installed from another lock file (the
# lock's SHA-256 is kept in node_modules/.lathe-lock.sha256; comparing content, not mtimes,
# because a git checkout or a copy resets mtimes).
# Exit 77 (ctest's "skipped") when node or npm is missing or node is older than the packages
# need; a failed install with npm present exits 1: that is a failure, never a skip.
set -euo pipefail

dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/../tests/integration/js" && pwd)"
min_node=20  # @aws-sdk/client-s3's "engines"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "SKIP: node and npm are needed for the JavaScript S3 client tests (Debian: apt-get install nodejs npm)" >&2
  exit 77
fi
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if (( node_major < min_node )); then
  echo "SKIP: node $(node --version) is older than the $min_node the AWS SDK for JavaScript v3 needs" >&2
  exit 77
fi

# Two tests (or a test and the bench) starting at once share one install.
exec 9>"$dir/.install.lock"
flock 9

want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
stamp="$dir/node_modules/.lathe-lock.sha256"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  echo "js-clients: npm ci in $dir" >&2
  # --ignore-scripts: none of these packages needs an install script, so none gets to run one.
  if ! (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2); then
    echo "js-clients: npm ci failed in $dir (is the npm registry reachable?)" >&2
    exit 1
  fi
  echo "$want" >"$stamp"
fi
echo "$dir/node_modules"
