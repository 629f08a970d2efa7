"""Webhook deliveries at scale: S subscriptions, C changes, every delivery received by a real HTTP receiver.

    # SpatiaLite: a file of the bench's own (var/bench/webhooks.sqlite3) when DATABASE_URL is empty
    .venv/bin/python bench/webhooks/run.py --subscriptions 100 --changes 1000

    # PostGIS: the checkout's private cluster (scripts/pg.sh)
    scripts/pg.sh start && psql -h "$PWD/var/pg" -U postgres -d postgres -c "CREATE DATABASE bukaamanzi_bench_hooks"
    DATABASE_URL="postgis://postgres@/bukaamanzi_bench_hooks?host=$PWD/var/pg" .venv/bin/python bench/webhooks/run.py

Not timed: migrate, load the reference municipalities, empty the webhook tables and the change log, one project
(external id BENCH-HOOK), S subscriptions to `project.updated`, each to its own path on one receiver
(`bench/webhooks/receiver.py`, its own process, 204 at once).

Timed, as production runs it: a real `qcluster` (Q_WORKERS workers, default 2) is started; this process then makes C
changes to the project through `project_upsert_from_source`, one transaction each, as fast as it can or `--rate` a
second. Each commit queues a webhooks pass on the cluster, whose workers fan out (S deliveries a change), lease,
sign and POST. The run ends when the receiver has S x C deliveries (or --timeout). Reported: deliveries per second
(from the first commit to the last receipt), the lag from each change's commit (its change-log `created_at`, written
in the committing transaction) to its receipt by each subscription (p50, p95, max), duplicates and missing
deliveries, and the time a commit takes in the committing process (the write, the relay, the queueing)."""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def seed(subscriptions: int, port: int) -> None:
    from django.core.management import call_command
    from django.db import transaction

    from changelog.models import DataChangeLog
    from municipalities.models import Municipality
    from municipalities.services import municipality_load_reference
    from projects.models import Project
    from projects.services import project_upsert_from_source
    from webhooks.models import ChangeSeen, Event, FanoutFloor, Subscription
    from webhooks.services import SubscriptionFields, subscription_create

    call_command("migrate", verbosity=0)
    if not Municipality.objects.exists():
        municipality_load_reference()
    for model in (Subscription, Event, ChangeSeen, FanoutFloor):
        model.objects.all().delete()
    Project.objects.filter(external_id="BENCH-HOOK").delete()
    DataChangeLog.objects.all().delete()
    from django_q.models import OrmQ, Task

    OrmQ.objects.all().delete()
    Task.objects.all().delete()
    with transaction.atomic():
        project_upsert_from_source(source="municipal_money", external_id="BENCH-HOOK", values={
            "name": "Bench pipeline", "municipality": Municipality.objects.get(code="CPT"),
            "progress_percentage": Decimal("0")})
    for n in range(subscriptions):
        subscription_create(fields=SubscriptionFields(url=f"http://127.0.0.1:{port}/s/{n}",
                                                      event_types=["project.updated"]),
                            created_by="bench", reason="bench")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscriptions", type=int, default=100)
    parser.add_argument("--changes", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2, help="django-q2 workers (Q_WORKERS)")
    parser.add_argument("--rate", type=float, default=0,
                        help="changes per second (0: as fast as this process can commit them)")
    parser.add_argument("--timeout", type=float, default=1800)
    arguments = parser.parse_args()

    if not os.environ.get("DATABASE_URL"):
        (ROOT / "var" / "bench").mkdir(parents=True, exist_ok=True)
        os.environ["DATABASE_URL"] = f"spatialite:///{ROOT / 'var' / 'bench' / 'webhooks.sqlite3'}"
    os.environ.update(CHANNEL_LAYER="memory", WEBHOOKS_ALLOW_PRIVATE="true", LOG_LEVEL="WARNING",
                      Q_WORKERS=str(arguments.workers), LOAD_DEMO_DATA="false")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bukaamanzi.settings")
    import django

    django.setup()
    from django.db import transaction

    from changelog.models import DataChangeLog
    from projects.services import project_upsert_from_source
    from webhooks.models import Delivery

    port = free_port()
    out = ROOT / "var" / "bench" / f"webhooks-received-{os.getpid()}.json"
    seed(arguments.subscriptions, port)
    receiver = subprocess.Popen([PYTHON, str(Path(__file__).with_name("receiver.py")), str(port), str(out)],
                                stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    assert receiver.stdout is not None and receiver.stdout.readline().strip() == "ready"
    log = (ROOT / "var" / "bench" / "webhooks-worker.log").open("w")
    worker = subprocess.Popen([PYTHON, "manage.py", "qcluster"], cwd=ROOT, env=os.environ, stdout=log,
                              stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    expected = arguments.subscriptions * arguments.changes
    try:
        time.sleep(3)  # the cluster's workers start
        first_commit = time.time()
        commit_seconds = []
        for n in range(1, arguments.changes + 1):
            if arguments.rate:
                time.sleep(max(0.0, first_commit + (n - 1) / arguments.rate - time.time()))
            started = time.perf_counter()
            with transaction.atomic():
                project_upsert_from_source(source="municipal_money", external_id="BENCH-HOOK",
                                           values={"progress_percentage": Decimal(n % 100) + Decimal("0.5")})
            commit_seconds.append(time.perf_counter() - started)  # the write, its commit, queueing the pass
        made = time.time()
        deadline = time.monotonic() + arguments.timeout
        while time.monotonic() < deadline:
            done = Delivery.objects.filter(status="succeeded").count()
            print(f"{done}/{expected} delivered", file=sys.stderr, flush=True)
            if done >= expected:
                break
            time.sleep(2)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)
        receiver.terminate()
        receiver.wait(timeout=30)
    received = json.loads(out.read_text())
    out.unlink()
    created = {pk: at.timestamp() for pk, at in DataChangeLog.objects.filter(
        entity_type="project").values_list("pk", "created_at")}
    lags = [arrived - created[change_id] for _path, _id, change_id, arrived in received if change_id in created]
    pairs = {(path, change_id) for path, _id, change_id, _arrived in received}
    last = max(arrived for *_rest, arrived in received) if received else made
    print(json.dumps({
        "database": "postgis" if "postgis" in os.environ["DATABASE_URL"] else "spatialite",
        "subscriptions": arguments.subscriptions, "changes": arguments.changes, "workers": arguments.workers,
        "rate": arguments.rate or "max",
        "send_threads": int(os.environ.get("WEBHOOKS_SEND_THREADS", "8")),
        "expected": expected, "received": len(received), "duplicates": len(received) - len(pairs),
        "missing": expected - len(pairs),
        "changes_made_s": round(made - first_commit, 2),
        "commit_ms_p50": round(statistics.median(commit_seconds) * 1000, 1),
        "commit_ms_p95": round(percentile(commit_seconds, 0.95) * 1000, 1),
        "total_s": round(last - first_commit, 2),
        "deliveries_per_s": round(len(received) / (last - first_commit), 1) if received else 0,
        "lag_s_p50": round(statistics.median(lags), 2) if lags else None,
        "lag_s_p95": round(percentile(lags, 0.95), 2) if lags else None,
        "lag_s_max": round(max(lags), 2) if lags else None,
    }))


if __name__ == "__main__":
    main()
