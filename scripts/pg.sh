#!/usr/bin/env bash
# A private PostgreSQL 15 + PostGIS cluster for the test suite, under var/pg, listening only on a unix socket.
# PostgreSQL refuses to run as root, so as root it runs as the `postgres` user.
#   scripts/pg.sh start   prints the DATABASE_URL to use
#   scripts/pg.sh stop
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)/var/pg
bin=/usr/lib/postgresql/15/bin
[[ -x $bin/initdb ]] || { echo "PostgreSQL 15 is not installed (apt-get install postgresql-15 postgresql-15-postgis-3)" >&2; exit 1; }

as_owner() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
  start)
    mkdir -p "$root"
    if [[ $(id -u) -eq 0 ]]; then
      chown postgres: "$root"
      # The postgres user must be able to reach var/pg: add search (not read) permission where it is missing.
      dir=$root
      while [[ $dir != / ]]; do
        runuser -u postgres -- test -x "$dir" 2>/dev/null || chmod o+x "$dir"
        dir=$(dirname "$dir")
      done
    fi
    if [[ ! -f $root/data/PG_VERSION ]]; then
      as_owner "$bin/initdb" -D "$root/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    fi
    if ! as_owner "$bin/pg_ctl" -D "$root/data" status >/dev/null 2>&1; then
      as_owner "$bin/pg_ctl" -D "$root/data" -l "$root/server.log" -w -t 60 \
        -o "-c listen_addresses='' -c unix_socket_directories='$root' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
        start >/dev/null || { cat "$root/server.log" >&2; exit 1; }
    fi
    echo "postgis://postgres@/bukaamanzi?host=$root"
    ;;
  stop)
    [[ -f $root/data/PG_VERSION ]] && as_owner "$bin/pg_ctl" -D "$root/data" -m fast stop >/dev/null 2>&1 || true
    ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
