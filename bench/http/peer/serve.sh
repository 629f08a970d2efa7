#!/bin/sh
# Serve the FastAPI peer for bench/http: serve.sh PORT [WORKERS] [PEER_DB]   (WORKERS 1 or 2; default 1)
# Replaces itself with uvicorn (exec), so its PID is the server's: `kill PID` (SIGTERM) stops it and its workers.
# Prints errors only. PEER_DB defaults to var/bench/peer.db (seed it with seed_peer.py first).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
port=${1:?usage: serve.sh PORT [WORKERS] [PEER_DB]}
workers=${2:-1}
db=${3:-$root/var/bench/peer.db}
venv=${PEER_VENV:-$root/var/bench/peer-venv}
backend=${PEER_BACKEND:-/work/shared/peer/backend}
[ -s "$db" ] || { echo "serve.sh: $db is missing or empty: run seed_peer.py" >&2; exit 1; }
db=$(cd "$(dirname "$db")" && pwd)/$(basename "$db")

# The peer's config reads these. Its Redis is only for live updates, never on the measured HTTP paths: port 1 on
# loopback has no listener, so start-up's few attempts fail at once rather than reach a Redis another bench started.
export DATABASE_URL="sqlite+aiosqlite:///$db"
export REDIS_URL="${PEER_REDIS_URL:-redis://127.0.0.1:1/0}"
# The wrapper beside this script, and the peer's `app` package (its README serves from backend/, as here).
export PYTHONPATH="$here:$backend"

cd "$backend"
# No access log: one line per request would be part of what wrk measures.
exec "$venv/bin/uvicorn" peer_app:app --host 127.0.0.1 --port "$port" --workers "$workers" \
    --log-level warning --no-access-log
