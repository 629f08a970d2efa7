"""WebSocket clients through nginx, across both socket processes of the production layout; optionally a socket
process killed in the middle of the fan-out.

    .venv/bin/python bench/prod/sockets.py --clients 1000 --changes 20               # the cross-process bench
    .venv/bin/python bench/prod/sockets.py --clients 1000 --changes 20 --kill-socket-after 8   # the fault

Starts the production layout (deploy/layout.py: nginx, 2 page and 2 socket processes, the django-q2 cluster,
PostGIS, Redis), connects the clients to nginx's /ws/ (nginx spreads them over the two socket processes), all
subscribed to one project, and commits `--changes` changes through the service path from a driver process (the
relay sends on commit, as in a web request). With --kill-socket-after N, the first socket process is killed
(SIGKILL) after the Nth change: its clients reconnect through nginx, which sends them to the other process, and
ask for what they missed by sending `subscribe` with `last_id`, the last change id they saw (the server replays
before anything live). With --restart-redis-after N, Redis is
killed after the Nth change and started again --redis-down seconds later (changes go on being committed).
Every client must receive every change
exactly once and in order. Prints a JSON summary and the line "lost: L, duplicated: D, out of order: O"; exits 1
unless all three are 0.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import contextlib
import json
import resource
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
PYTHON = sys.executable
PREFIX = '{"type":"data_update","id":'  # the relay's compact frames: sliced, not parsed, to spare the CPU


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))] if ordered else float("nan")


# --- client process ---------------------------------------------------------------------------------------


async def run_clients(url: str, origin: str, count: int, project: str, out: Path, status: Path) -> None:
    """`count` clients that reconnect whenever their socket closes and resume from the last id they saw."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

    receipts: dict[int, list[tuple[int, float]]] = {i: [] for i in range(count)}
    trace: dict[int, list[str]] = {i: [] for i in range(count)}  # what a client saw besides changes
    reconnects = [0]
    connected: set[int] = set()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    subscribe = {"action": "subscribe", "entity_type": "project", "entity_id": project}

    async def one(index: int) -> None:
        log = receipts[index]
        attempt = 0
        while not stop.is_set():
            try:
                async with connect(url, origin=origin, open_timeout=30, ping_interval=None, max_queue=None) as ws:
                    if log:
                        # A reconnect: the subscription carries the last id seen, so the server replays what was
                        # missed before anything live (a separate `resume` after `subscribe` left a gap in which a
                        # live change overtook the replay; docs/deploy.md, "A socket process dies").
                        await ws.send(json.dumps({**subscribe, "last_id": log[-1][0]}))
                        trace[index].append(f"resume {log[-1][0]}")
                    else:
                        await ws.send(json.dumps(subscribe))
                    json.loads(await ws.recv())  # subscription_confirmed
                    connected.add(index)
                    attempt = 0
                    async for frame in ws:
                        if not isinstance(frame, str):
                            continue
                        if frame.startswith(PREFIX):
                            log.append((int(frame[len(PREFIX):frame.index(",", len(PREFIX))]), time.time()))
                            continue
                        # Replayed changes are written with json.dumps' default spacing, unlike the relay's.
                        message = json.loads(frame)
                        if message.get("type") == "data_update":
                            log.append((int(message["id"]), time.time()))
                        else:
                            trace[index].append(message.get("type", "?"))
            except (OSError, InvalidHandshake, InvalidStatus, ConnectionClosed, TimeoutError):
                pass
            if stop.is_set():
                return
            connected.discard(index)
            reconnects[0] += 1
            attempt += 1
            # Spread out, as browsers back off: a thousand clients reconnecting in one instant is a storm.
            await asyncio.sleep(min(5.0, 0.2 * attempt) + (index % 50) / 100)

    tasks = []
    for start in range(0, count, 100):  # handshakes in batches, as real clients arrive spread out
        tasks += [asyncio.create_task(one(i)) for i in range(start, min(start + 100, count))]
        await asyncio.sleep(0.1)
    while not stop.is_set():
        counts = [len(log) for log in receipts.values()]
        status.write_text(json.dumps({"connected": len(connected), "min": min(counts), "reconnects": reconnects[0]}))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.5)
    out.write_text(json.dumps({"receipts": receipts, "reconnects": reconnects[0], "trace": trace}))
    for task in tasks:
        task.cancel()


# --- driver process (the layout's environment) ----------------------------------------------------------------


def run_driver(project: str, changes: int, interval: float, out: Path, progress: Path) -> None:
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
            project_progress_set(project, str((i * 7) % 100))
        change_id = DataChangeLog.objects.filter(project_id=project).order_by("-pk").values_list("pk", flat=True)[0]
        commits[change_id] = stamp["t"]
        progress.write_text(str(i + 1))
        time.sleep(interval)
    out.write_text(json.dumps(commits))


# --- orchestrator -----------------------------------------------------------------------------------------


def wait_for(predicate, timeout: float, what: str, *, fail: bool = True) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            if fail:
                raise SystemExit(f"timed out waiting for {what}")
            print(f"timed out waiting for {what}; counting what arrived", file=sys.stderr)
            return False
        time.sleep(0.2)
    return True


def read_json(path: Path) -> dict:  # type: ignore[type-arg]
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def tally(commits: dict[int, float], receipts: dict[str, list[list[float]]]) -> dict[str, object]:
    expected = sorted(commits)
    lost = duplicated = out_of_order = 0
    delays: list[float] = []
    for log in receipts.values():
        ids = [int(change_id) for change_id, _ in log]
        got = set(ids)
        lost += sum(1 for change_id in expected if change_id not in got)
        duplicated += len(ids) - len(got)
        out_of_order += sum(1 for a, b in zip(ids, ids[1:], strict=False) if b < a)
        delays += [at - commits[int(change_id)] for change_id, at in log if int(change_id) in commits]
    return {"lost": lost, "duplicated": duplicated, "out_of_order": out_of_order,
            "commit_to_client_ms": {"p50": round(statistics.median(delays) * 1000, 1),
                                    "p95": round(percentile(delays, 95) * 1000, 1),
                                    "max": round(max(delays) * 1000, 1)} if delays else {}}


def socket_share(layout_root: Path) -> dict[str, int]:
    """How many WebSocket handshakes each socket process accepted (its daphne log)."""
    return {log.stem: log.read_text(errors="replace").count("WSCONNECT ")
            for log in sorted((layout_root / "logs").glob("sockets-*.log"))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--interval", type=float, default=0.5)
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--kill-socket-after", type=int, default=0, help="kill socket process 0 after this change")
    parser.add_argument("--restart-redis-after", type=int, default=0,
                        help="stop Redis after this change and start it again --redis-down seconds later")
    parser.add_argument("--redis-down", type=float, default=2.0)
    parser.add_argument("--settle", type=float, default=60, help="seconds to wait for the last deliveries")
    parser.add_argument("--json", type=Path, help="also write the summary here")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    from deploy.layout import running

    with running({"WS_MAX_CONNECTIONS_PER_PROCESS": str(max(10000, args.clients))}) as layout:
        work = layout.root / "bench"
        work.mkdir(exist_ok=True)
        for stale in work.iterdir():
            stale.unlink()
        project = layout.manage("shell", "-c", "import uuid; from projects.models import Project; print(Project."
                                "objects.create(source='municipal_money', external_id='BENCH-'+uuid.uuid4().hex[:12],"
                                " name='Bench reservoir').pk)").splitlines()[-1]
        per = [args.clients // args.client_processes + (1 if i < args.clients % args.client_processes else 0)
               for i in range(args.client_processes)]
        clients: list[subprocess.Popen[bytes]] = []
        atexit.register(lambda: [p.kill() for p in clients if p.poll() is None])
        for index, count in enumerate(per):
            clients.append(subprocess.Popen([PYTHON, __file__, "clients", "--url", f"{layout.ws_url}/ws/projects",
                                             "--origin", layout.url, "--count", str(count), "--project", project,
                                             "--out", str(work / f"receipts-{index}.json"),
                                             "--status", str(work / f"status-{index}.json")], cwd=ROOT))

        def statuses() -> list[dict]:  # type: ignore[type-arg]
            return [read_json(work / f"status-{i}.json") for i in range(len(per))]

        wait_for(lambda: sum(s.get("connected", 0) for s in statuses()) == args.clients, 180, "the clients")
        connected_at_start = socket_share(layout.root)
        started = time.monotonic()
        driver = subprocess.Popen([PYTHON, __file__, "driver", "--project", project, "--changes", str(args.changes),
                                   "--interval", str(args.interval), "--out", str(work / "commits.json"),
                                   "--progress", str(work / "progress")], cwd=ROOT, env=layout.env)
        killed_at = None
        if args.kill_socket_after:
            wait_for(lambda: (work / "progress").exists() and int((work / "progress").read_text() or 0)
                     >= args.kill_socket_after, 120, "the changes before the kill")
            layout.stop_process("sockets-0", kill=True)
            killed_at = round(time.monotonic() - started, 2)
        redis_restarted_at = None
        if args.restart_redis_after:
            wait_for(lambda: (work / "progress").exists() and int((work / "progress").read_text() or 0)
                     >= args.restart_redis_after, 120, "the changes before the Redis restart")
            layout.stop_process("redis", kill=True)
            time.sleep(args.redis_down)
            layout.start_redis()
            redis_restarted_at = round(time.monotonic() - started, 2)
        if driver.wait(timeout=600):
            raise SystemExit("the driver failed")
        settled = wait_for(lambda: all(s.get("min", 0) >= args.changes for s in statuses()), args.settle,
                           "every client to receive every change", fail=False)
        for process in clients:
            process.send_signal(signal.SIGTERM)
        for process in clients:
            process.wait(timeout=60)
        commits = {int(k): v for k, v in read_json(work / "commits.json").items()}
        receipts: dict[str, list[list[float]]] = {}
        reconnects = 0
        for index in range(len(per)):
            data = read_json(work / f"receipts-{index}.json")
            receipts.update({f"{index}-{k}": v for k, v in data["receipts"].items()})
            reconnects += data["reconnects"]
        summary = {"clients": args.clients, "changes": args.changes, "interval_s": args.interval,
                   "handshakes_per_socket_process": connected_at_start, "killed_socket_process_at_s": killed_at,
                   "redis_restarted_at_s": redis_restarted_at,
                   "reconnects": reconnects, "settled_within_s": args.settle if settled else None,
                   **tally(commits, receipts)}
    print(json.dumps(summary, indent=1))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=1))
    print(f"lost: {summary['lost']}, duplicated: {summary['duplicated']}, out of order: {summary['out_of_order']}")
    sys.exit(0 if summary["lost"] == summary["duplicated"] == summary["out_of_order"] == 0 else 1)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "clients":
        p = argparse.ArgumentParser()
        for name in ("--url", "--origin", "--project"):
            p.add_argument(name, required=True)
        p.add_argument("--count", type=int, required=True)
        p.add_argument("--out", type=Path, required=True)
        p.add_argument("--status", type=Path, required=True)
        a = p.parse_args(sys.argv[2:])
        resource.setrlimit(resource.RLIMIT_NOFILE, (resource.getrlimit(resource.RLIMIT_NOFILE)[1],) * 2)
        asyncio.run(run_clients(a.url, a.origin, a.count, a.project, a.out, a.status))
    elif len(sys.argv) > 1 and sys.argv[1] == "driver":
        p = argparse.ArgumentParser()
        p.add_argument("--project", required=True)
        p.add_argument("--changes", type=int, required=True)
        p.add_argument("--interval", type=float, required=True)
        p.add_argument("--out", type=Path, required=True)
        p.add_argument("--progress", type=Path, required=True)
        a = p.parse_args(sys.argv[2:])
        run_driver(a.project, a.changes, a.interval, a.out, a.progress)
    else:
        main()
