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
VAR = ROOT / "var"
PYTHON = sys.executable


def start_private_redis() -> subprocess.Popen[bytes] | None:
    if os.environ.get("REDIS_URL"):
        return None
    socket = VAR / "redis.sock"
    return subprocess.Popen(
        ["redis-server", "--port", "0", "--unixsocket", str(socket), "--unixsocketperm", "700",
         "--save", "", "--appendonly", "no", "--dir", str(VAR), "--loglevel", "warning"],
        cwd=VAR,
        start_new_session=True,
    )


def wait_for_socket(path: Path, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            sys.exit(f"Redis did not open {path} within {timeout:.0f}s")
        time.sleep(0.05)


def main() -> None:
    port = os.environ.get("PORT", "8000")
    if not port.isdigit() or not 0 < int(port) < 65536:
        sys.exit(f"PORT must be a number between 1 and 65535, not {port!r}")
    processes: list[subprocess.Popen[bytes]] = []
    redis = start_private_redis()
    if redis is not None:
        processes.append(redis)
        wait_for_socket(VAR / "redis.sock")
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
