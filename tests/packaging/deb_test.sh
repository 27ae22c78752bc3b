#!/usr/bin/env bash
# The Debian package (packaging/CMakeLists.txt), built by CPack from this build folder into a
# temporary one and installed into a fresh root with dpkg-deb -x:
#   - its files: the binary, its two modules beside it, /usr/bin/lathe, the unit, sysusers.d,
#     /etc/default/lathe (a conffile), the docs;
#   - its Depends: the Debian packages of the libraries lathe links (dpkg-shlibdeps) and of what
#     it runs, each one a real package (installed here);
#   - the installed binary runs, finds no missing library, and works with the packaged modules
#     (a greedy generation when a small model is at hand);
#   - `lathe doctor` of the installed binary; apt would install the package here (apt-get -s);
#   - the unit's ExecStart, run from the extracted tree with /etc/default/lathe's arguments,
#     answers the installed `lathe models list` (a SigV4-signed ListFoundationModels);
#   - `systemd-analyze verify` accepts lathe.service without a single warning.
#   deb_test.sh BUILD_DIR        exit 77 (skipped) without dpkg-deb, dpkg-shlibdeps or systemd-analyze
set -euo pipefail
build="$(cd "${1:?usage: deb_test.sh BUILD_DIR}" && pwd)"
for tool in dpkg-deb dpkg-shlibdeps systemd-analyze cpack; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

(cd "$build" && cpack -G DEB -B "$tmp/pkg" >"$tmp/cpack.log" 2>&1) || { cat "$tmp/cpack.log"; fail "cpack"; }
version="$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")"
deb="$tmp/pkg/lathe_${version}_amd64.deb"
[ -f "$deb" ] || fail "no $deb (made: $(ls "$tmp/pkg"))"
echo "ok   built $(basename "$deb") ($(stat -c %s "$deb") bytes)"

dpkg-deb -c "$deb" | awk '{s = $1; for (i = 6; i <= NF; i++) s = s " " $i; print s}' >"$tmp/files"
for f in ./usr/lib/lathe/lathe ./usr/lib/lathe/liblathe_engine.so ./usr/lib/lathe/liblathe_spm.so \
         ./lib/systemd/system/lathe.service ./usr/lib/sysusers.d/lathe.conf ./etc/default/lathe \
         ./usr/share/doc/lathe/README.md ./usr/share/doc/lathe/operations.md ./usr/share/doc/lathe/CHANGELOG.md; do
  grep -q " $f\$" "$tmp/files" || fail "the package lacks $f"
done
grep -q '^-rwxr-xr-x ./usr/lib/lathe/lathe$' "$tmp/files" || fail "usr/lib/lathe/lathe is not executable: $(grep lathe/lathe "$tmp/files")"
grep -q '^lrwxrwxrwx ./usr/bin/lathe -> ../lib/lathe/lathe$' "$tmp/files" || fail "usr/bin/lathe is not the link to ../lib/lathe/lathe"
echo "ok   files: $(wc -l <"$tmp/files") entries, binary and modules in /usr/lib/lathe, /usr/bin/lathe links there"

depends="$(dpkg-deb -f "$deb" Depends)"
for p in libtorch1.13 libsqlite3-0 libssl3 libcurl4 libnghttp2-14 libsentencepiece0 libstdc++6 \
         libopenblas0-openmp sentencepiece wordnet-base fortunes; do
  grep -qE "(^|, )${p//+/\\+}( |,|$)" <<<"$depends" || fail "Depends lacks $p: $depends"
done
# Each dependency names a real Debian package: here, an installed one or one an installed
# package provides (libspdlog1.10 provides libspdlog1.10-fmt9).
provided="$(dpkg-query -W -f='${Provides}\n' | tr ',' '\n' | sed 's/(.*//; s/ //g' | sort -u)"
for p in $(tr ',' '\n' <<<"$depends" | sed 's/(.*//; s/|.*//; s/ //g'); do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || grep -qx "$p" <<<"$provided" ||
    fail "Depends names $p, which no installed package is or provides"
done
description="$(dpkg-deb -f "$deb" Description)"
[ "$(sed -n 2p <<<"$description")" != " $(head -1 <<<"$description")" ] || fail "the synopsis is repeated: $description"
dpkg-deb -e "$deb" "$tmp/control"
[ "$(cat "$tmp/control/conffiles")" = "/etc/default/lathe" ] || fail "conffiles: $(cat "$tmp/control/conffiles")"
for script in postinst prerm postrm; do
  [ -x "$tmp/control/$script" ] || fail "$script is not executable"
  sh -n "$tmp/control/$script" || fail "$script has a syntax error"
done
echo "ok   Depends: $depends"

root="$tmp/root"
dpkg-deb -x "$deb" "$root"
for f in "$root/usr/lib/lathe/lathe" "$root/usr/lib/lathe/liblathe_engine.so" "$root/usr/lib/lathe/liblathe_spm.so"; do
  if ldd "$f" | grep -q "not found"; then fail "$f: $(ldd "$f" | grep 'not found')"; fi
done
installed="$("$root/usr/bin/lathe" --version | head -1)"
[ "$installed" = "$("$build/lathe" --version | head -1)" ] || fail "installed: $installed; built: $("$build/lathe" --version | head -1)"
echo "ok   the installed binary runs: $installed"
model="$build/test-lathe-home/models/lathe-default"
if [ -f "$model/config.json" ]; then
  out="$(LATHE_ENGINE_MODULE="$root/usr/lib/lathe/liblathe_engine.so" LATHE_SPM_MODULE="$root/usr/lib/lathe/liblathe_spm.so" \
         "$root/usr/bin/lathe" generate --model "$model" --prompt "A dog" --max-tokens 4 --temperature 0)" ||
    fail "the installed binary could not generate with its modules"
  echo "ok   the installed binary generates with the packaged modules: ${out//$'\n'/ }"
else
  echo "note no small model in $model: generation with the packaged modules not tried"
fi

# `lathe doctor` of the installed binary on a fresh data directory: every check runs, no error
# (a fresh directory has no lathe.db yet: a warning at most).
doctor_dir="$tmp/doctor-data"
mkdir -m 0750 "$doctor_dir"
"$root/usr/bin/lathe" doctor --data-dir "$doctor_dir" --listen 127.0.0.1:0 --json >"$tmp/doctor.json" ||
  { cat "$tmp/doctor.json"; fail "the installed lathe doctor found an error on a fresh data directory"; }
python3 - "$tmp/doctor.json" <<'PY' || fail "lathe doctor's findings"
import json, sys
found = json.load(open(sys.argv[1]))
areas = {f["area"] for f in found["findings"]}
missing = {"cpu", "threads", "blas", "data", "disk", "port", "model", "clock"} - areas
assert not missing and found["errors"] == 0, (missing, found)
PY
echo "ok   the installed lathe doctor: $(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len(d["findings"]), "findings,", d["errors"], "errors")' "$tmp/doctor.json")"

# Its Depends resolve against this system's packages, as `apt install ./lathe_….deb` would.
if command -v apt-get >/dev/null; then
  apt-get -s install "$deb" >"$tmp/apt.log" 2>&1 || { cat "$tmp/apt.log"; fail "apt-get -s install $deb"; }
  grep -q '^Inst lathe ' "$tmp/apt.log" || { cat "$tmp/apt.log"; fail "apt would not install lathe"; }
  echo "ok   apt-get -s install: $(grep -c '^Inst ' "$tmp/apt.log") package(s) to install, lathe among them"
fi

# The service's command as systemd would run it, from the extracted tree: ExecStart with
# $LATHE_SERVE_ARGS from the packaged /etc/default/lathe (its --listen replaced by a free port,
# and no default-model build), the unit's Environment=, a fresh StateDirectory. It must answer a
# SigV4-signed ListFoundationModels with the keys it wrote, and stop cleanly on SIGTERM.
state="$tmp/var-lib-lathe"
mkdir -m 0750 "$state"
grep -q '^LATHE_SERVE_ARGS="--listen 127.0.0.1:8080"$' "$root/etc/default/lathe" || fail "/etc/default/lathe: $(cat "$root/etc/default/lathe")"
serve_args="--listen 127.0.0.1:0 --default-build first-use"
exec_start="$(sed -n 's/^ExecStart=//p' "$root/lib/systemd/system/lathe.service")"
exec_start="${exec_start//\/usr\/bin\/lathe/$root/usr/bin/lathe}"
exec_start="${exec_start//\/var\/lib\/lathe/$state}"
exec_start="${exec_start//\$LATHE_SERVE_ARGS/$serve_args}"
read -ra serve_cmd <<<"$exec_start"
(cd "$state" && exec env -i PATH=/usr/bin:/bin LATHE_HOME="$state" OMP_WAIT_POLICY=PASSIVE "${serve_cmd[@]}" \
   >"$tmp/serve.out" 2>"$tmp/serve.err") &
serve_pid=$!
for _ in $(seq 100); do [ -s "$tmp/serve.out" ] && break; sleep 0.1; done
url="$(awk 'NR == 1 {print $3}' "$tmp/serve.out")"
[[ "$url" == http://127.0.0.1:* ]] || { kill "$serve_pid"; cat "$tmp/serve.err"; fail "the packaged service did not start"; }
# The installed binary as the client: SigV4 with the keys the service wrote in its data directory.
models="$(env -i PATH=/usr/bin:/bin "$root/usr/bin/lathe" models list --endpoint "$url" --data-dir "$state" --json 2>&1)" || true
kill -TERM "$serve_pid"
wait "$serve_pid" || fail "the packaged service did not stop cleanly on SIGTERM: $(tail -5 "$tmp/serve.err")"
grep -qE '"modelId": ?"lathe.default-v1"' <<<"$models" || fail "ListFoundationModels from the packaged service: ${models:0:300}"
echo "ok   the service's ExecStart from the package serves: lathe models list (ListFoundationModels) signed with its new keys, clean stop"

# The unit as installed, its ExecStart pointed at the extracted binary (nothing is installed on
# this machine): any warning (unknown key, bad value) fails.
sed "s|/usr/bin/lathe|$root/usr/bin/lathe|" "$root/lib/systemd/system/lathe.service" >"$tmp/lathe.service"
systemd-analyze verify "$tmp/lathe.service" >"$tmp/verify.log" 2>&1 || { cat "$tmp/verify.log"; fail "systemd-analyze verify"; }
[ ! -s "$tmp/verify.log" ] || { cat "$tmp/verify.log"; fail "systemd-analyze verify warned"; }
for directive in "StateDirectory=lathe" "ProtectSystem=strict" "NoNewPrivileges=yes" "Restart=on-failure" \
                 "LimitNOFILE=" "User=lathe"; do
  grep -q "^$directive" "$tmp/lathe.service" || fail "lathe.service lacks $directive"
done
exposure="$(systemd-analyze security --offline=yes "$tmp/lathe.service" 2>/dev/null | tail -1 || true)"
echo "ok   systemd-analyze verify: no warnings; ${exposure#→ }"
