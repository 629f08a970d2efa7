"""Run the site: the private Redis (when REDIS_URL is not set), the web servers and the django-q2 cluster together.

Layout (WEB_LAYOUT): `split`, the default, runs granian for pages and the API on PORT (WSGI, WEB_WORKERS
processes of WEB_THREADS threads; see page_server_command) and daphne for WebSockets on WS_PORT (PORT+1 unless
set) at a lower CPU priority (nice WS_NICE, 10 by default). Pages then never share an event loop or a core's turn
with a fan-out to thousands of sockets, which doubled their p95 in the benchmark (docs/realtime.md); pushes have
half a second of budget and keep it. Pages learn the socket port through WS_PUBLIC_PORT. Behind a proxy that
routes /ws/ to the socket process, set WS_PUBLIC_PORT=0 (same origin). `single` runs one daphne process for
everything (slower pages: see page_server_command).

Ctrl-C (or SIGTERM) stops everything. If one process dies, the others are stopped too, so that a half-running
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


def port_setting(name: str, default: str) -> int:
    value = os.environ.get(name) or default
    if not value.isdigit() or not 0 < int(value) < 65536:
        sys.exit(f"{name} must be a number between 1 and 65535, not {value!r}")
    return int(value)


def page_server_command(port: int, workers: int | None = None) -> list[str]:
    """granian serving the WSGI application: pages and the API (every view is synchronous).

    Why not daphne, which serves the sockets: under ASGI each request runs its synchronous code on a new thread,
    so a SpatiaLite connection (about 8 ms of CPU to open, load mod_spatialite and set WAL) lived one request.
    granian runs WSGI on a fixed set of threads per worker, each keeping its connection (CONN_MAX_AGE), and parses
    HTTP in Rust: the project detail went from 106 to 966 requests/s on one process (README, "API and pages
    under load").
    """
    workers = workers or port_setting("WEB_WORKERS", "1")
    threads = port_setting("WEB_THREADS", "4")
    return [PYTHON, "-m", "granian", "--interface", "wsgi", "--host", os.environ.get("BIND", "127.0.0.1"),
            "--port", str(port), "--workers", str(workers), "--blocking-threads", str(threads),
            # Idle threads are kept, and so are their database connections.
            "--blocking-threads-idle-timeout", "600",
            # No more requests handed to Python than it has threads; the rest wait in granian's Rust side, in turn.
            # With granian's default (1,024) all 16 connections' requests queued for 4 threads contending for the
            # GIL and some waited far longer than others: the cached project detail had a p95 of 15-1,400 ms at
            # 2,800-4,100 req/s on one process; with this, 4-6 ms at the same rate (README, "Speed").
            "--backpressure", str(threads),
            "--log-level", "warning", "--no-ws",
            "bukaamanzi.wsgi:application"]


def page_server(port: int, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(page_server_command(port), cwd=ROOT, env=env, start_new_session=True)


def daphne(port: int, env: dict[str, str] | None = None, nice: int = 0) -> subprocess.Popen[bytes]:
    command = [PYTHON, "-m", "daphne", "-b", os.environ.get("BIND", "127.0.0.1"), "-p", str(port),
               "bukaamanzi.asgi:application"]
    return subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True,
                            preexec_fn=(lambda: os.nice(nice)) if nice else None)  # noqa: PLW1509 (no threads yet)


def cluster_env() -> dict[str, str]:
    """The django-q2 cluster runs without the psycopg pool, whatever DB_POOL_MAX_SIZE the site has: it forks its
    workers after opening pooled connections, parent and children then shared sockets and schedules failed
    (docs/deploy.md, "The django-q2 cluster and the connection pool"). SpatiaLite ignores the setting."""
    return {**os.environ, "DB_POOL_MAX_SIZE": "0"}


def prepare_metrics_dir() -> Path:
    """Every process started here writes its metrics to files in one directory, which /metrics adds up
    (prometheus-client's multiprocess mode); emptied at start so that totals restart with the site. Exported
    before any child starts, as prometheus-client reads it on import."""
    directory = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or VAR / "metrics")
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    return directory


def main() -> None:
    port = port_setting("PORT", "8000")
    layout = os.environ.get("WEB_LAYOUT") or "split"
    if layout not in ("split", "single"):
        sys.exit(f"WEB_LAYOUT must be split or single, not {layout!r}")
    ws_port = port_setting("WS_PORT", str(port + 1)) if layout == "split" else port
    ws_nice = os.environ.get("WS_NICE") or "10"
    if not ws_nice.isdigit() or int(ws_nice) > 19:
        sys.exit(f"WS_NICE must be a number from 0 to 19, not {ws_nice!r}")
    prepare_metrics_dir()
    processes: list[subprocess.Popen[bytes]] = []
    redis = start_redis_unless_configured()
    if redis is not None:
        processes.append(redis)
    if layout == "split":
        pages_env = {**os.environ}
        if not pages_env.get("WS_PUBLIC_PORT"):  # an explicit 0 (a proxy routes /ws/) is kept
            pages_env["WS_PUBLIC_PORT"] = str(ws_port)
        processes.append(page_server(port, pages_env))
        processes.append(daphne(ws_port, nice=int(ws_nice)))
    else:
        processes.append(daphne(port))
    processes.append(subprocess.Popen([PYTHON, "manage.py", "qcluster"], cwd=ROOT, env=cluster_env(),
                                      start_new_session=True))
    sockets = f"; WebSockets on port {ws_port}" if layout == "split" else ""
    print(f"Buka Amanzi is at http://localhost:{port}/{sockets} (Ctrl-C stops it)", flush=True)

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
