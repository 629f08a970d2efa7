"""Run the site: the private Redis (when REDIS_URL is not set), daphne and the django-q2 cluster together.

Ctrl-C (or SIGTERM) stops all three. If one of them dies, the others are stopped too, so that a half-running
site never looks healthy.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bukaamanzi.lib.redis_server import RedisStartError, start_private_redis  # noqa: E402

VAR = ROOT / "var"
PYTHON = sys.executable


def start_redis_unless_configured() -> subprocess.Popen[bytes] | None:
    if os.environ.get("REDIS_URL"):
        return None
    try:
        return start_private_redis(VAR / "redis.sock", new_session=True)
    except RedisStartError as exc:
        sys.exit(str(exc))


def main() -> None:
    port = os.environ.get("PORT", "8000")
    if not port.isdigit() or not 0 < int(port) < 65536:
        sys.exit(f"PORT must be a number between 1 and 65535, not {port!r}")
    processes: list[subprocess.Popen[bytes]] = []
    redis = start_redis_unless_configured()
    if redis is not None:
        processes.append(redis)
    processes.append(subprocess.Popen(
        [PYTHON, "-m", "daphne", "-b", os.environ.get("BIND", "127.0.0.1"), "-p", port, "bukaamanzi.asgi:application"],
        cwd=ROOT,
        start_new_session=True,
    ))
    processes.append(subprocess.Popen([PYTHON, "manage.py", "qcluster"], cwd=ROOT, start_new_session=True))
    print(f"Buka Amanzi is at http://localhost:{port}/ (Ctrl-C stops it)", flush=True)

    # Children run in their own sessions, so Ctrl-C reaches only this process, which then stops each child
    # once: the web server and the worker first, Redis (which they both use) last.
    def stop(*_: object) -> None:
        for group in (processes[1:] if redis else processes, processes[:1] if redis else []):
            for process in group:
                if process.poll() is None:
                    process.terminate()
            for process in group:
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
        sys.exit(0)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while all(process.poll() is None for process in processes):
        time.sleep(0.5)
    print("A process of the site stopped; stopping the others.", file=sys.stderr)
    stop()


if __name__ == "__main__":
    main()
