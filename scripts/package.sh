#!/usr/bin/env bash
# Builds the Debian package build/lathe_<version>_amd64.deb (packaging/CMakeLists.txt): the
# binary, its modules, the docs and lathe.service. Needs what scripts/setup.sh installs, plus
# dpkg-dev (dpkg-shlibdeps computes the library dependencies). Prints the package's path.
#   scripts/package.sh [BUILD_DIR]     (default: build)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build="${1:-build}"
command -v dpkg-shlibdeps >/dev/null || { echo "package: dpkg-shlibdeps is missing: apt install dpkg-dev" >&2; exit 1; }
[ -f "$build/CMakeCache.txt" ] || cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" --target lathe lathe_engine_module lathe_spm
(cd "$build" && cpack -G DEB >&2)
version="$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")"
deb="$build/lathe_${version}_amd64.deb"
[ -f "$deb" ] || { echo "package: cpack made no $deb" >&2; exit 1; }
echo "$deb"
