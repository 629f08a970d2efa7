#!/bin/sh
# Build the FastAPI peer's own venv (var/bench/peer-venv) for bench/http, only when it is missing or the peer's
# requirements.txt changed (a hash stamp in the venv). Quiet; pip's output is kept in var/bench/peer-setup.log.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
# Resolved: venv refuses a symlinked directory (a worktree may link var/bench/peer-venv to the main checkout's).
venv=$(realpath -m "${PEER_VENV:-$root/var/bench/peer-venv}")
req=${PEER_BACKEND:-/work/shared/peer/backend}/requirements.txt
log=$root/var/bench/peer-setup.log
stamp=$venv/.requirements.sha256

hash=$(sha256sum "$req" | cut -d' ' -f1)
[ "$(cat "$stamp" 2>/dev/null)" = "$hash" ] && exit 0

mkdir -p "$root/var/bench"
# Debian's python, not pyenv's: seed_peer.py loads mod_spatialite into sqlite3, which pyenv's build cannot.
# --clear empties the directory, so that a changed pin set starts clean.
if ! { /usr/bin/python3 -m venv --clear "$venv" &&
       "$venv/bin/pip" install --disable-pip-version-check -q -r "$req"; } >"$log" 2>&1; then
    cat "$log" >&2
    exit 1
fi
echo "$hash" >"$stamp"
