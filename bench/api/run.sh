#!/usr/bin/env bash
# The API load test: 50,000 projects on PostGIS, two daphne processes (then two uvicorn processes) on one machine,
# 16 concurrent clients alternating between the two; then the map query in-process on PostGIS and SpatiaLite.
#   bench/api/run.sh [projects=50000] [seconds per scenario=15]
# Results: var/bench/api-results.txt (JSON lines, then query plans). Takes about 6 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
count=${1:-50000}
seconds=${2:-15}
out=var/bench
mkdir -p "$out"
py=.venv/bin/python
pg=$(scripts/pg.sh start)
pgdir=${pg#*host=}
export DATABASE_URL="postgis://postgres@/bukaamanzi_bench_api?host=$pgdir"
export CHANNEL_LAYER=memory BENCH_VIEWS=true DEBUG=false LOG_LEVEL=WARNING
results=$out/api-results.txt
: > "$results"

$py - <<PY
import psycopg
with psycopg.connect(host="$pgdir", user="postgres", dbname="postgres", autocommit=True) as c:
    if not c.execute("SELECT 1 FROM pg_database WHERE datname='bukaamanzi_bench_api'").fetchone():
        c.execute("CREATE DATABASE bukaamanzi_bench_api")
PY
$py manage.py migrate --no-input -v 0
$py manage.py load_municipalities >/dev/null
$py bench/api/seed.py "$count" | tail -1
$py manage.py shell -c "
from projects.models import Project
ids = Project.objects.filter(external_id__startswith='BENCH-').order_by('?').values_list('id', flat=True)[:2000]
open('$out/ids.txt', 'w').write('\n'.join(str(i) for i in ids))
"

pids=()
stop() {  # daphne can take long to stop on TERM: KILL what is left after 3 s
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  sleep 3
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  pids=()
}
trap stop EXIT
wait_up() { for _ in $(seq 100); do curl -sf "http://127.0.0.1:$1/api/v1/health" >/dev/null && return; sleep 0.2; done; echo "port $1 did not start" >&2; exit 1; }

echo "== daphne x2" >&2
for port in 8101 8102; do
  .venv/bin/daphne -v 0 -b 127.0.0.1 -p $port bukaamanzi.asgi:application >/dev/null 2>>"$out/daphne.log" & pids+=($!)
done
wait_up 8101; wait_up 8102
$py bench/api/load.py --servers http://127.0.0.1:8101,http://127.0.0.1:8102 --ids "$out/ids.txt" \
    --seconds "$seconds" --label daphne | tee -a "$results"
stop

echo "== uvicorn x2" >&2
for port in 8103 8104; do
  .venv/bin/uvicorn bukaamanzi.asgi:application --host 127.0.0.1 --port $port --no-access-log --log-level warning >/dev/null \
      2>>"$out/uvicorn.log" & pids+=($!)
done
wait_up 8103; wait_up 8104
$py bench/api/load.py --servers http://127.0.0.1:8103,http://127.0.0.1:8104 --ids "$out/ids.txt" \
    --seconds "$seconds" --label uvicorn | tee -a "$results"
stop

echo "== map query in-process: PostGIS" >&2
$py bench/api/mapquery.py 300 | tee -a "$results"

echo "== map query in-process: SpatiaLite" >&2
export DATABASE_URL="spatialite:///$(pwd)/$out/bench-api.sqlite3"
$py manage.py migrate --no-input -v 0
$py manage.py load_municipalities >/dev/null
$py bench/api/seed.py "$count" | tail -1
$py bench/api/mapquery.py 300 | tee -a "$results"
