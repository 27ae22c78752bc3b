#!/usr/bin/env bash
# A throwaway PostgreSQL 15 for tests: `start DIR` makes a cluster in DIR (initdb), starts it on
# a Unix socket in DIR only (no TCP, no system service) and prints its URL; `stop DIR` stops it and
# removes DIR. initdb and postgres refuse to run as root, and tests may run as root: then the
# cluster belongs to `nobody` (setpriv). Where the binaries are absent, `start` says so and exits
# 0 without a server; the tests that need one then skip (tests/store/store_backends.h).
set -euo pipefail

cmd=${1:-}
dir=${2:-}
if [[ -z "$cmd" || -z "$dir" ]]; then
  echo "usage: $0 start|stop DIR" >&2
  exit 2
fi

find_bin() {
  for d in "${LATHE_PG_BIN:-}" /usr/lib/postgresql/15/bin /usr/local/bin /usr/bin; do
    [[ -n "$d" && -x "$d/$1" ]] && { echo "$d/$1"; return 0; }
  done
  return 1
}

# Runs a PostgreSQL program as the cluster's owner.
as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    setpriv --reuid=nobody --regid=nogroup --clear-groups --reset-env -- "$@"
  else
    "$@"
  fi
}

url() { echo "postgresql:///postgres?host=$dir&user=lathe"; }

case "$cmd" in
  start)
    if ! initdb=$(find_bin initdb) || ! pg_ctl=$(find_bin pg_ctl); then
      echo "pg-test-server: PostgreSQL 15's initdb/pg_ctl are not installed; PostgreSQL tests will skip"
      exit 0
    fi
    # A socket path is limited to 107 bytes: DIR/.s.PGSQL.5432 must fit.
    if (( ${#dir} > 80 )); then
      echo "pg-test-server: $dir is too long for a Unix socket path (80 bytes at most)" >&2
      exit 1
    fi
    # A server left over from an earlier run (a killed ctest) is stopped first.
    [[ -f "$dir/data/postmaster.pid" ]] && as_owner "$pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    # 0700 and no -p: the folder is the only way to the socket (trust auth), so it must be new and
    # closed to other users; a path that reappeared since the rm (a race in /tmp) fails here.
    mkdir -m 700 "$dir"
    [[ $(id -u) -eq 0 ]] && chown -h nobody:nogroup "$dir"
    # trust on the socket, which only the folder's owner (and root) can reach. No fsync: the data
    # is thrown away.
    as_owner "$initdb" -D "$dir/data" -U lathe --auth=trust --no-sync --encoding=UTF8 --locale=C.UTF-8 \
      >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    as_owner "$pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
      -o "-c listen_addresses='' -c unix_socket_directories='$dir' -c unix_socket_permissions=0700 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=60" \
      start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    url
    ;;
  stop)
    if pg_ctl=$(find_bin pg_ctl) && [[ -f "$dir/data/postmaster.pid" ]]; then
      as_owner "$pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    fi
    rm -rf "$dir"
    ;;
  url)
    url
    ;;
  *)
    echo "usage: $0 start|stop|url DIR" >&2
    exit 2
    ;;
esac
