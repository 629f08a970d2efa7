"""Fan-out benchmark: N websocket clients on 2 daphne processes, changes committed through the service path.

    .venv/bin/python bench/realtime/fanout.py --clients 1000 --changes 20
    .venv/bin/python bench/realtime/fanout.py --clients 5000 --changes 20

Starts its own redis-server, two daphne processes and a SpatiaLite file database in a temporary directory;
connects the clients (split over both daphnes and over client processes), all subscribed to one project;
commits `--changes` changes one every `--interval` seconds from a driver process (the relay runs on commit, as in
a web request); measures, per client and change, the time from commit to receipt; checks that every client got
every change exactly once and in order; and samples a plain page (`--page`) when idle and during the fan-out.
Prints one JSON summary. Every wait is bounded; the whole run takes about a minute.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


PREFIX = '{"type":"data_update","id":'


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))] if ordered else float("nan")


# --- client process ---------------------------------------------------------------------------------------


async def run_clients(ports: list[int], count: int, offset: int, project: str, out: Path, ready: Path) -> None:
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidHandshake

    retried = [0]

    receipts: dict[int, list[tuple[int, float]]] = {}
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    subscribe = json.dumps({"action": "subscribe", "entity_type": "project", "entity_id": project})

    async def one(index: int) -> None:
        port = ports[index % len(ports)]
        log: list[tuple[int, float]] = []
        receipts[index] = log
        for attempt in range(6):  # a handshake refused under the connection storm is retried, as browsers do
            try:
                ws = await connect(f"ws://127.0.0.1:{port}/ws/projects", origin="http://localhost", open_timeout=60,
                                   ping_interval=None, max_queue=None)
                break
            except (OSError, InvalidHandshake, TimeoutError):
                if attempt == 5:
                    raise
                await asyncio.sleep(2**attempt)
        retried[0] += attempt
        async with ws:
            await ws.send(subscribe)
            json.loads(await ws.recv())  # subscription_confirmed
            connected.append(index)
            async for frame in ws:
                now = time.time()
                # The relay puts "id" right after "type"; slicing keeps the client's own CPU use out of the way.
                if frame.startswith(PREFIX):
                    log.append((int(frame[len(PREFIX):frame.index(",", len(PREFIX))]), now))

    connected: list[int] = []
    tasks = []
    for start in range(0, count, 100):  # handshakes in batches, as real clients arrive spread out
        tasks += [asyncio.create_task(one(offset + i)) for i in range(start, min(start + 100, count))]
        await asyncio.sleep(0.1)
    deadline = time.monotonic() + 180
    while len(connected) < count and time.monotonic() < deadline:
        failed = [t for t in tasks if t.done() and t.exception()]
        if failed:
            raise failed[0].exception()  # type: ignore[misc]
        await asyncio.sleep(0.1)
    ready.write_text(f"{len(connected)} {retried[0]}")
    await asyncio.wait_for(stop.wait(), 600)
    out.write_text(json.dumps({str(k): v for k, v in receipts.items()}))
    for task in tasks:
        task.cancel()


# --- driver process ---------------------------------------------------------------------------------------


def run_driver(project: str, changes: int, interval: float, out: Path, burst: int = 5, pause: float = 3.0) -> None:
    """Commit `changes` changes, `interval` apart, in bursts of `burst` with `pause` seconds of quiet between them
    (the quiet gaps are the page's idle baseline, measured under the same background load)."""
    import django

    django.setup()
    from django.db import transaction

    from changelog.models import DataChangeLog
    from realtime.tasks import project_progress_set

    commits: dict[int, float] = {}
    for i in range(changes):
        stamp: dict[str, float] = {}
        with transaction.atomic():
            # Registered before the change, so it runs first at commit, before the relay's callback.
            transaction.on_commit(lambda stamp=stamp: stamp.setdefault("t", time.time()))  # type: ignore[misc]
            project_progress_set(project, str(i % 100))
        change_id = DataChangeLog.objects.filter(project_id=project).order_by("-pk").values_list("pk", flat=True)[0]
        commits[change_id] = stamp["t"]
        time.sleep(interval if (i + 1) % burst else pause)
    out.write_text(json.dumps(commits))


# --- orchestrator -----------------------------------------------------------------------------------------


def sample_page(url: str, stop: threading.Event, times: list[tuple[float, float]], limit: int = 100_000) -> None:
    """Fetch `url` one request at a time; record (wall-clock start, seconds taken)."""
    while not stop.is_set() and len(times) < limit:
        wall, started = time.time(), time.perf_counter()
        with urllib.request.urlopen(url, timeout=10) as response:
            response.read()
        times.append((wall, time.perf_counter() - started))
        time.sleep(0.02)


def page_figures(seconds: list[float]) -> dict[str, float]:
    return {"n": len(seconds), "p50": round(statistics.median(seconds) * 1000, 1),
            "p95": round(percentile(seconds, 95) * 1000, 1)}


def split_samples(
    samples: list[tuple[float, float]], commits: list[float], interval: float
) -> tuple[list[float], list[float]]:
    """Samples taken while a fan-out ran (from a commit to `interval` after it) and in the quiet gaps
    (more than 1 s after any commit)."""
    busy, quiet = [], []
    for start, seconds in samples:
        since = [start - t for t in commits if t - 0.05 <= start]
        latest = min(since) if since else None
        if latest is not None and latest <= interval:
            busy.append(seconds)
        elif latest is None or latest > 1.0:
            quiet.append(seconds)
    return busy, quiet


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--interval", type=float, default=0.5)
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--page", default="/api/v1/health")
    parser.add_argument("--json", type=Path, help="also write the summary here")
    parser.add_argument("--layout", choices=["shared", "split"], default="split",
                        help="shared: the page comes from one of the two socket processes; split: from a third daphne "
                        "process that serves pages only, the socket processes at nice --ws-nice (scripts/serve.py's "
                        "production layout, WEB_LAYOUT=split)")
    parser.add_argument("--ws-nice", type=int, default=10)
    parser.add_argument("--clients-sched-idle", action="store_true",
                        help="run the client processes in the SCHED_IDLE class (below nice 19), a diagnostic of how "
                        "much of the page's slow-down is the clients taking the server's cores")
    args = parser.parse_args()
    raise_fd_limit()

    work = Path(tempfile.mkdtemp(prefix="ba-bench-"))
    print(f"work directory: {work}", file=sys.stderr)
    redis_socket = work / "redis.sock"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bukaamanzi.settings",
        "DATABASE_URL": f"spatialite:///{work / 'bench.sqlite3'}",
        "REDIS_URL": f"unix://{redis_socket}",
        "CHANNEL_LAYER": "redis",
        "LOG_LEVEL": "WARNING",
        "LOAD_DEMO_DATA": "false",
        "WS_MAX_CONNECTIONS_PER_PROCESS": str(args.clients),
        "STATICFILES_STORAGE": "django.contrib.staticfiles.storage.StaticFilesStorage",
        "BENCH_CLIENTS_SCHED_IDLE": "1" if args.clients_sched_idle else "",
    }
    processes: list[subprocess.Popen[bytes]] = []

    def manage(*command: str) -> str:
        return subprocess.run([PYTHON, "manage.py", *command], cwd=ROOT, env=env, check=True, capture_output=True,
                              text=True, timeout=300).stdout.strip()

    try:
        manage("migrate", "--no-input", "-v", "0")
        project = manage("shell", "-c", "from projects.models import Project; print(Project.objects.create("
                         "source='municipal_money', external_id='BENCH-1', name='Bench project').pk)").splitlines()[-1]
        processes.append(subprocess.Popen(["redis-server", "--port", "0", "--unixsocket", str(redis_socket),
                                           "--save", "", "--appendonly", "no"], cwd=work, stdout=subprocess.DEVNULL))
        ports = [free_port(), free_port()]
        page_port = free_port() if args.layout == "split" else ports[0]
        for port in sorted({*ports, page_port}):
            log = (work / f"daphne-{port}.log").open("wb")
            profile = ["-m", "cProfile", "-o", str(work / f"daphne-{port}.prof")] if os.environ.get(
                "BENCH_PROFILE") else []
            # split: the socket processes run at the lower CPU priority scripts/serve.py gives them (WS_NICE).
            nice = ["nice", "-n", str(args.ws_nice)] if args.layout == "split" and port != page_port else []
            processes.append(subprocess.Popen([*nice, PYTHON, *profile, "-m", "daphne", "-b", "127.0.0.1", "-p",
                                               str(port), "-v", "0", "bukaamanzi.asgi:application"], cwd=ROOT,
                                              env=env, stdout=log, stderr=subprocess.STDOUT))
        page = f"http://127.0.0.1:{page_port}{args.page}"
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(page, timeout=2).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("daphne did not start") from None
                time.sleep(0.2)

        idle: list[tuple[float, float]] = []
        sample_page(page, threading.Event(), idle, limit=400)

        per = [args.clients // args.client_processes + (1 if i < args.clients % args.client_processes else 0)
               for i in range(args.client_processes)]
        clients = []
        offset = 0
        for index, count in enumerate(per):
            ready = work / f"ready-{index}"
            clients.append((subprocess.Popen([PYTHON, __file__, "client", "--ports", *map(str, ports),
                                              "--count", str(count), "--offset", str(offset), "--project", project,
                                              "--out", str(work / f"receipts-{index}.json"), "--ready", str(ready)],
                                             cwd=ROOT, env=env), ready))
            offset += count
        processes += [c for c, _ in clients]
        connect_started = time.monotonic()
        while not all(ready.exists() for _, ready in clients):
            if time.monotonic() - connect_started > 240 or any(c.poll() is not None for c, _ in clients):
                raise SystemExit("clients did not all connect")
            time.sleep(0.2)
        connected = sum(int(ready.read_text().split()[0]) for _, ready in clients)
        handshake_retries = sum(int(ready.read_text().split()[1]) for _, ready in clients)
        connect_seconds = time.monotonic() - connect_started

        samples: list[tuple[float, float]] = []
        stop = threading.Event()
        sampler = threading.Thread(target=sample_page, args=(page, stop, samples), daemon=True)
        sampler.start()
        commits_file = work / "commits.json"
        subprocess.run([PYTHON, __file__, "driver", "--project", project, "--changes", str(args.changes),
                        "--interval", str(args.interval), "--out", str(commits_file)], cwd=ROOT, env=env, check=True,
                       timeout=300)
        time.sleep(3)  # let the last change reach every client
        stop.set()
        sampler.join(timeout=15)
        for client, _ in clients:
            client.send_signal(signal.SIGTERM)
        for client, _ in clients:
            client.wait(timeout=120)

        commits = {int(k): v for k, v in json.loads(commits_file.read_text()).items()}
        expected = sorted(commits)
        busy, quiet = split_samples(samples, list(commits.values()), args.interval)
        before = [seconds for _, seconds in idle]
        latencies: list[float] = []
        lost = duplicated = out_of_order = 0
        clients_seen = 0
        for index in range(args.client_processes):
            for log in json.loads((work / f"receipts-{index}.json").read_text()).values():
                clients_seen += 1
                ids = [change_id for change_id, _ in log]
                duplicated += len(ids) - len(set(ids))
                lost += len(set(expected) - set(ids))
                out_of_order += int(ids != sorted(ids))
                latencies += [(t - commits[i]) * 1000 for i, t in log if i in commits]
        summary = {
            "clients": args.clients,
            "clients_sched_idle": args.clients_sched_idle,
            "clients_connected": connected,
            "connect_seconds": round(connect_seconds, 1),
            "handshake_retries": handshake_retries,
            "daphne_processes": 2,
            "layout": args.layout,
            "page_process": "one of the two socket processes" if args.layout == "shared" else (
                f"a third daphne process serving pages only (socket processes at nice {args.ws_nice})"),
            "changes": len(expected),
            "deliveries": len(latencies),
            "expected_deliveries": len(expected) * clients_seen,
            "lost": lost,
            "duplicated": duplicated,
            "clients_out_of_order": out_of_order,
            "commit_to_client_ms": {
                "p50": round(percentile(latencies, 50), 1),
                "p95": round(percentile(latencies, 95), 1),
                "p99": round(percentile(latencies, 99), 1),
                "max": round(max(latencies), 1) if latencies else None,
            },
            "page": args.page,
            "page_before_clients_ms": page_figures(before),
            "page_idle_ms": page_figures(quiet),
            "page_during_fanout_ms": page_figures(busy),
        }
        summary["page_p95_ratio"] = round(summary["page_during_fanout_ms"]["p95"] / summary["page_idle_ms"]["p95"], 2)
        summary["pass"] = (
            summary["commit_to_client_ms"]["p95"] <= 500 and lost == 0 and duplicated == 0 and out_of_order == 0
            and summary["page_p95_ratio"] <= 1.5 and connected == args.clients
        )
        text = json.dumps(summary, indent=2)
        print(text)
        if args.json:
            args.json.write_text(text + "\n")
    finally:
        # Clients first, then daphne, Redis last, so that nothing logs a vanished Redis on its way out.
        for process in reversed(processes):
            if process.poll() is None:
                process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "client":
        raise_fd_limit()
        # Real clients run on other machines; here they share the server's cores, so they yield to it. This only
        # makes their own receipt times later (the latency measured is, if anything, pessimistic).
        os.nice(19)
        if os.environ.get("BENCH_CLIENTS_SCHED_IDLE"):
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        parser = argparse.ArgumentParser()
        parser.add_argument("role")
        parser.add_argument("--ports", type=int, nargs="+")
        parser.add_argument("--count", type=int)
        parser.add_argument("--offset", type=int)
        parser.add_argument("--project")
        parser.add_argument("--out", type=Path)
        parser.add_argument("--ready", type=Path)
        a = parser.parse_args()
        asyncio.run(run_clients(a.ports, a.count, a.offset, a.project, a.out, a.ready))
    elif len(sys.argv) > 1 and sys.argv[1] == "driver":
        sys.path.insert(0, str(ROOT))
        parser = argparse.ArgumentParser()
        parser.add_argument("role")
        parser.add_argument("--project")
        parser.add_argument("--changes", type=int)
        parser.add_argument("--interval", type=float)
        parser.add_argument("--out", type=Path)
        a = parser.parse_args()
        run_driver(a.project, a.changes, a.interval, a.out)
    else:
        main()
