"""Start the production layout on one machine, for `make prod-check` and the fault scripts (bench/prod/).

    .venv/bin/python -m deploy.layout          # start it, print its address, Ctrl-C stops everything

nginx (Debian's, with a private prefix under var/prod/nginx and `daemon off`) in front of 2 page processes
(granian, scripts/serve.py's command line), 2 socket processes (daphne) and the django-q2 cluster, on the
private PostGIS cluster (scripts/pg.sh) and a private Redis. Every process runs in its own session and is stopped
by its own id; the database cluster is stopped only if this layout started it. The same environment, unit files
and nginx configuration are what docs/deploy.md describes for a real server.
"""

from __future__ import annotations

import fcntl
import importlib.util
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
PG_SCRIPT = ROOT / "scripts" / "pg.sh"
DATABASE_NAME = "bukaamanzi_prod"


class LayoutError(RuntimeError):
    pass


def _serve_module():  # type: ignore[no-untyped-def]
    """scripts/serve.py owns the page server's command line; it is a script, not a package, so load it by path."""
    spec = importlib.util.spec_from_file_location("serve", ROOT / "scripts" / "serve.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def socket_server_command(port: int, interface: str = "127.0.0.1") -> list[str]:
    """daphne for the sockets. Twisted listens with a backlog of 50 unless told otherwise: when a thousand pages
    reconnect at once (a socket process died, a deploy), the rest were refused and nginx answered 502/504 until
    they retried. A backlog of 1024 holds the storm (bench/prod/sockets.py: 1,134 retries for 1,000 clients with
    50, none with 1024)."""
    return [PYTHON, "-m", "daphne", "-e", f"tcp:port={port}:interface={interface}:backlog=1024",
            "bukaamanzi.asgi:application"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], name: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        if process.poll() is not None:
            raise LayoutError(f"{name} exited with {process.returncode} before listening on {port}")
        if time.monotonic() > deadline:
            raise LayoutError(f"{name} did not listen on {port} within {timeout:.0f} s")
        time.sleep(0.1)


def nginx_available() -> str | None:
    """None when nginx can run here; otherwise why not."""
    if not Path(NGINX).exists():
        return "nginx is not installed (scripts/setup.sh --test installs Debian's nginx)"
    return None


@dataclass
class Layout:
    """The running layout: addresses, processes, and the means to break them (for the fault scripts)."""

    root: Path
    http_port: int
    page_ports: list[int]
    socket_ports: list[int]
    database_url: str
    redis_socket: Path
    env: dict[str, str]
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    started_database: bool = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.http_port}"

    def log(self, name: str) -> Path:
        return self.root / "logs" / f"{name}.log"

    # --- processes ---

    def _spawn(self, name: str, command: list[str], *, nice: int = 0,
               env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        log = self.log(name).open("wb")  # each start's log on its own: the fault scripts read them
        process = subprocess.Popen(command, cwd=ROOT, env={**self.env, **(env or {})}, stdout=log,
                                   stderr=subprocess.STDOUT,
                                   start_new_session=True,
                                   preexec_fn=(lambda: os.nice(nice)) if nice else None)  # noqa: PLW1509
        log.close()
        self.processes[name] = process
        return process

    def manage(self, *command: str, timeout: float = 600) -> str:
        result = subprocess.run([PYTHON, "manage.py", *command], cwd=ROOT, env=self.env, capture_output=True,
                                text=True, timeout=timeout)
        if result.returncode:
            raise LayoutError(f"manage.py {' '.join(command)} failed:\n{result.stdout}{result.stderr}")
        return result.stdout.strip()

    def start_page_process(self, index: int) -> None:
        serve = _serve_module()
        port = self.page_ports[index]
        process = self._spawn(f"pages-{index}", serve.page_server_command(port, workers=1))
        wait_for_port(port, process, f"page process {index}")

    def start_socket_process(self, index: int) -> None:
        port = self.socket_ports[index]
        process = self._spawn(f"sockets-{index}", socket_server_command(port), nice=10)
        wait_for_port(port, process, f"socket process {index}")

    def start_cluster(self) -> None:
        # No connection pool in the cluster: django-q2 forks its workers after the pool has opened connections,
        # and the children then shared those sockets with the parent (seen as "connection in transaction status
        # INTRANS" and "the last operation didn't produce records" in its log, and relay sweeps that never ran).
        self._spawn("cluster", [PYTHON, "manage.py", "qcluster"], env={"DB_POOL_MAX_SIZE": "0"})

    def start_redis(self) -> None:
        from bukaamanzi.lib.redis_server import start_private_redis

        self.processes["redis"] = start_private_redis(self.redis_socket, new_session=True)

    def start_nginx(self) -> None:
        conf = self.root / "nginx" / "nginx.conf"
        process = self._spawn("nginx", [NGINX, "-p", str(self.root / "nginx"), "-c", str(conf),
                                        "-e", str(self.root / "nginx" / "logs" / "error.log")])
        wait_for_port(self.http_port, process, "nginx")

    def stop_process(self, name: str, *, kill: bool = False, timeout: float = 15) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        with suppress(ProcessLookupError):
            # The whole session: granian's and qcluster's workers are children of the process started here.
            os.killpg(process.pid, signal.SIGKILL if kill else signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)

    def stop_database(self) -> None:
        subprocess.run([str(PG_SCRIPT), "stop"], cwd=ROOT, check=True, timeout=60)

    def start_database(self) -> None:
        subprocess.run([str(PG_SCRIPT), "start"], cwd=ROOT, check=True, timeout=120, capture_output=True)

    def get(self, path: str, timeout: float = 10) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=timeout) as response:  # noqa: S310 (our own)
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def stop(self) -> None:
        # The front first, so nothing new arrives; then the processes; Redis, which they use, last.
        for name in ["nginx", *sorted(n for n in self.processes if n.startswith(("pages", "sockets"))), "cluster"]:
            self.stop_process(name)
        self.stop_process("redis")
        if self.started_database:
            self.stop_database()


def _database_running() -> bool:
    pid_file = ROOT / "var" / "pg" / "data" / "postmaster.pid"
    return pid_file.exists()


def _create_database(base_url: str) -> str:
    """The layout's own database in the private cluster (the test suites use test_bukaamanzi beside it)."""
    import psycopg

    host = base_url.split("host=", 1)[1]
    with psycopg.connect(host=host, user="postgres", dbname="postgres", autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone():
            connection.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    return f"postgis://postgres@/{DATABASE_NAME}?host={host}"


def _secret_key(root: Path) -> str:
    path = root / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def layout_environment(root: Path, database_url: str, redis_socket: Path, extra: dict[str, str]) -> dict[str, str]:
    """The environment every process of the layout shares: deploy/bukaamanzi.env's values for one machine."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bukaamanzi.settings",
        "DATABASE_URL": database_url,
        "REDIS_URL": f"unix://{redis_socket}",
        "CHANNEL_LAYER": "redis",
        # Kept across starts, as on a server: django-q2 signs the tasks it queues in the database with it.
        "SECRET_KEY": _secret_key(root),
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        # nginx appends the address it saw to X-Forwarded-For; the site trusts that one entry and no other.
        "API_TRUSTED_PROXIES": "1",
        # Pages connect their live updates to /ws/ on their own origin, which nginx routes to the socket processes.
        "WS_PUBLIC_PORT": "0",
        "MEDIA_ROOT": str(root / "media"),
        "LOAD_DEMO_DATA": "false",
        "LOG_LEVEL": "WARNING",
        "WEB_THREADS": "4",
        # The schedules run here as on a server; the government sites are never called from a check: a refused
        # local port stands in for them (the runs fail fast and are recorded as failed).
        "MUNICIPAL_MONEY_URL": "http://127.0.0.1:9",
        "MUNICIPAL_DATA_URL": "http://127.0.0.1:9",
        "DWS_PMD_URL": "http://127.0.0.1:9/pmd/",
        "HTTP_RETRIES": "0",
        **extra,
    }


@contextmanager
def running(extra_env: dict[str, str] | None = None, *, root: Path | None = None) -> Iterator[Layout]:
    """Start the layout, yield it, stop everything (also when the body fails)."""
    if (reason := nginx_available()) is not None:
        raise LayoutError(reason)
    root = root or ROOT / "var" / "prod"
    for sub in ("logs", "media"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    # One layout per directory: a second one would share its Redis socket, and stopping it would stop the
    # database cluster under the first.
    lock = (root / "layout.lock").open("w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        raise LayoutError(f"another production layout is running from {root}") from None
    started_database = not _database_running()
    base_url = subprocess.run([str(PG_SCRIPT), "start"], cwd=ROOT, check=True, capture_output=True, text=True,
                              timeout=120).stdout.strip()
    layout = Layout(root=root, http_port=free_port(), page_ports=[free_port(), free_port()],
                    socket_ports=[free_port(), free_port()], database_url="", redis_socket=root / "redis.sock",
                    env={}, started_database=started_database)
    try:
        layout.database_url = _create_database(base_url)
        layout.env = layout_environment(root, layout.database_url, layout.redis_socket, extra_env or {})
        layout.manage("migrate", "--no-input", "-v", "0")
        layout.manage("createcachetable")
        layout.manage("load_municipalities")
        # As the worker unit's ExecStartPre: the relay sweep resends what Redis did not take.
        layout.manage("setup_schedules")
        layout.manage("collectstatic", "--no-input", "-v", "0")
        _write_nginx_conf(layout)
        layout.start_redis()
        for index in range(len(layout.page_ports)):
            layout.start_page_process(index)
        for index in range(len(layout.socket_ports)):
            layout.start_socket_process(index)
        layout.start_cluster()
        layout.start_nginx()
        _wait_healthy(layout)
        yield layout
    finally:
        layout.stop()
        lock.close()


def _write_nginx_conf(layout: Layout) -> None:
    """Rendered by deploy/render.py in the layout's own environment (its MEDIA_ROOT, its settings), as on a server."""
    prefix = layout.root / "nginx"
    conf = prefix / "nginx.conf"
    command = [PYTHON, "-m", "deploy.render", "--out", str(conf), "--prefix", str(prefix),
               "--listen", f"127.0.0.1:{layout.http_port}",
               "--pages", ",".join(f"127.0.0.1:{p}" for p in layout.page_ports),
               "--sockets", ",".join(f"127.0.0.1:{p}" for p in layout.socket_ports), "--foreground"]
    if os.geteuid() == 0:
        # nginx starts as root here; its workers run as root too, because everything this private layout serves
        # and writes (var/, the upload temp files) belongs to root. A server uses --user www-data (docs/deploy.md).
        command += ["--user", "root root"]
    rendered = subprocess.run(command, cwd=ROOT, env=layout.env, capture_output=True, text=True, timeout=120)
    if rendered.returncode:
        raise LayoutError(f"deploy/render.py failed:\n{rendered.stderr}")
    check = subprocess.run([NGINX, "-t", "-q", "-p", str(prefix), "-c", str(conf),
                            "-e", str(prefix / "logs" / "error.log")], capture_output=True, text=True)
    if check.returncode:
        raise LayoutError(f"nginx -t refused the configuration:\n{check.stderr}")


def _wait_healthy(layout: Layout, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    status, body = 0, b""
    while time.monotonic() < deadline:
        with suppress(OSError):
            status, body = layout.get("/api/v1/health", timeout=5)
            if status == 200:
                return
        time.sleep(0.3)
    raise LayoutError(f"the layout did not become healthy through nginx: {status} {body[:300]!r}")


def main() -> None:
    with running() as layout:
        print(f"The production layout is at {layout.url}/ (Ctrl-C stops it); logs in {layout.root / 'logs'}",
              flush=True)
        stop = False

        def on_signal(*_: object) -> None:
            nonlocal stop
            stop = True

        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)
        while not stop and all(p.poll() is None for p in layout.processes.values()):
            time.sleep(0.5)


if __name__ == "__main__":
    main()
