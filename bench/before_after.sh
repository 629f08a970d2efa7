#!/usr/bin/env bash
# The README's benchmarks on an earlier commit and on this work tree, alternated step by step, so that both
# sides meet the same load on this shared machine (a before/after pair measured minutes apart is comparable;
# figures from different days are not).
#   bench/before_after.sh <commit> [all|ingestion|api|inprocess|realtime|pages]
# The earlier commit is checked out as a git worktree under var/bench/before-<commit> (sharing .venv; it gets
# its own var/, so its own PostgreSQL cluster and Redis). Output: var/bench/before-after-<commit>/<step>-<side>.txt
set -euo pipefail
cd "$(dirname "$0")/.."
commit=$(git rev-parse --short "${1:?usage: bench/before_after.sh <commit> [all|ingestion|api|realtime|pages]}")
what=${2:-all}
here=$(pwd)
before=$here/var/bench/before-$commit
out=$here/var/bench/before-after-$commit
mkdir -p "$out"
if [[ ! -d $before ]]; then
  git worktree add -q --detach "$before" "$commit"
  ln -s "$here/.venv" "$before/.venv"
  [[ -d node_modules ]] && ln -s "$here/node_modules" "$before/node_modules"
fi

database() {  # a PostGIS database in that tree's private cluster; prints its DATABASE_URL
  local tree=$1 name=$2 url host
  url=$(cd "$tree" && scripts/pg.sh start)
  host=${url#*host=}
  "$here/.venv/bin/python" - "$host" "$name" <<'PY'
import sys, psycopg
host, name = sys.argv[1], sys.argv[2]
with psycopg.connect(host=host, user="postgres", dbname="postgres", autocommit=True) as c:
    if not c.execute("SELECT 1 FROM pg_database WHERE datname=%s", [name]).fetchone():
        c.execute(f'CREATE DATABASE "{name}"')
PY
  echo "postgis://postgres@/$name?host=$host"
}

run_side() {  # <step> <side> <tree> <command...>
  local step=$1 side=$2 tree=$3; shift 3
  echo "== $step ($side: $(git -C "$tree" rev-parse --short HEAD))" >&2
  (cd "$tree" && "$@") > "$out/$step-$side.txt" 2>"$out/$step-$side.err" || { tail -5 "$out/$step-$side.err" >&2; return 1; }
  tail -8 "$out/$step-$side.txt" >&2
}

both() {  # <step> <command...>: before, after, before again, after again
  local step=$1; shift
  for round in 1 2; do
    run_side "$step-$round" before "$before" "$@"
    run_side "$step-$round" after "$here" "$@"
  done
}

ingestion() {
  local url
  for tree in "$before" "$here"; do database "$tree" bukaamanzi_bench_ingestion >/dev/null; done
  ingest_pg() { DATABASE_URL=$(database "$(pwd)" bukaamanzi_bench_ingestion) .venv/bin/python bench/ingestion/treasury.py --projects 10000; }
  ingest_sl() { DATABASE_URL="spatialite:///$(pwd)/var/bench-ingestion.sqlite3" .venv/bin/python bench/ingestion/treasury.py --projects 10000; }
  export -f database ingest_pg ingest_sl
  export here
  both ingestion-postgis bash -c ingest_pg
  both ingestion-spatialite bash -c ingest_sl
}

inprocess() {  # the API's own cost per request, no server (bench/api/inprocess.py), on the API bench's database
  inprocess_pg() {
    DATABASE_URL=$(database "$(pwd)" bukaamanzi_bench_api) CHANNEL_LAYER=memory DEBUG=false LOG_LEVEL=WARNING \
      .venv/bin/python bench/api/inprocess.py 300
  }
  export -f database inprocess_pg
  export here
  both api-inprocess bash -c inprocess_pg
}

case $what in
  ingestion) ingestion ;;
  inprocess) inprocess ;;  # after `api`, which seeds its database
  api) both api bench/api/run.sh 50000 15 ;;
  realtime) both realtime .venv/bin/python bench/realtime/fanout.py --clients 1000 --changes 20 ;;
  pages) both pages env CHANNEL_LAYER=memory .venv/bin/python bench/pages/weight.py ;;
  all)
    ingestion
    both api bench/api/run.sh 50000 15
    inprocess
    both realtime .venv/bin/python bench/realtime/fanout.py --clients 1000 --changes 20
    both pages env CHANNEL_LAYER=memory .venv/bin/python bench/pages/weight.py
    ;;
  *) echo "unknown step: $what" >&2; exit 2 ;;
esac
(cd "$before" && scripts/pg.sh stop); scripts/pg.sh stop
echo "results: $out" >&2
