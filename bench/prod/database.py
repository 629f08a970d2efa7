"""Fault: PostgreSQL stops for 10 s under the production layout, then comes back.

    .venv/bin/python bench/prod/database.py [--down 10]

Starts the layout (deploy/layout.py), stops the PostGIS cluster (scripts/pg.sh stop) and, while it is down, asks
nginx for a page, an API list and /api/v1/health every half second. Each must answer within 2 s: the page with
the friendly 503 page, the API with a 503, health with 503 and "database": "unavailable". Then the cluster starts
again and, with no process restarted, every request must answer 200 again within a few seconds, and keep doing so,
and a task queued after the outage must run on the django-q2 cluster that lived through it.
Prints a JSON summary and the line "slow: S, wrong: W, failed after recovery: F" (and the processes that exited,
if any); exits 1 unless all are 0 and every process is still running.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

PATHS = ("/municipalities/", "/api/v1/projects?limit=5", "/api/v1/health")
LIMIT_S = 2.0
# A trivial task: queued through manage.py with the layout's settings, waited for in the results table.
PROBE = "from django_q.tasks import async_task, result; print(result(async_task('math.floor', 2.5), wait=30000))"


def ask(http: httpx.Client, path: str) -> tuple[int, float, str]:
    started = time.perf_counter()
    try:
        response = http.get(path)
        return response.status_code, time.perf_counter() - started, response.text
    except httpx.HTTPError as exc:
        return 0, time.perf_counter() - started, str(exc)


def expected_while_down(path: str, status: int, body: str) -> bool:
    if status != 503:
        return False
    if path.startswith("/api/v1/health"):
        return json.loads(body).get("database") == "unavailable"
    if path.startswith("/api/"):
        return "database is unavailable" in body
    return "database is not answering" in body  # the friendly page, templates/503.html


def run_probe(layout: Any) -> bool:
    """Queue a trivial task with the layout's settings and wait for its result: True when the cluster ran it."""
    try:
        return layout.manage("shell", "-c", PROBE, timeout=60).splitlines()[-1:] == ["2"]
    except Exception as exc:  # noqa: BLE001 (reported, not raised: the summary still prints)
        print(f"task probe: {exc}", file=sys.stderr)
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--down", type=float, default=10.0, help="seconds the database stays stopped")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    from deploy.layout import running

    with running() as layout, httpx.Client(base_url=layout.url, timeout=30) as http:
        # The fault must hit a running cluster, not one still importing Django (that race once looked like the fault).
        if not run_probe(layout):
            raise SystemExit(f"the django-q2 cluster ran no task before the fault (see {layout.log('cluster')})")
        for path in PATHS:
            status, _, body = ask(http, path)
            if status != 200:
                raise SystemExit(f"{path} answered {status} before the fault: {body[:200]}")
        layout.stop_database()
        stopped = time.monotonic()
        during: list[dict[str, object]] = []
        while time.monotonic() - stopped < args.down:
            for path in PATHS:
                status, seconds, body = ask(http, path)
                during.append({"path": path, "status": status, "seconds": round(seconds, 3),
                               "ok": expected_while_down(path, status, body) and seconds <= LIMIT_S})
            time.sleep(0.5)
        layout.start_database()
        restarted = time.monotonic()
        # Back without restarting anything: how long until every path answers 200, then 20 more rounds.
        recovered_after = None
        while time.monotonic() - restarted < 30:
            if all(ask(http, path)[0] == 200 for path in PATHS):
                recovered_after = round(time.monotonic() - restarted, 2)
                break
            time.sleep(0.2)
        after = [ask(http, path) for _ in range(20) for path in PATHS]
        probe_started = time.monotonic()
        task_ran = run_probe(layout)
        task_s = round(time.monotonic() - probe_started, 2)
        exited = sorted(name for name, p in layout.processes.items() if p.poll() is not None)
    slow = sum(1 for row in during if float(row["seconds"]) > LIMIT_S)  # type: ignore[arg-type]
    wrong = sum(1 for row in during if not row["ok"]) - slow
    failed_after = sum(1 for status, _, _ in after if status != 200) + (recovered_after is None)
    summary = {"down_s": args.down, "requests_while_down": len(during),
               "slowest_while_down_s": max(float(row["seconds"]) for row in during),  # type: ignore[arg-type]
               "statuses_while_down": sorted({int(row["status"]) for row in during}),  # type: ignore[call-overload]
               "recovered_after_s": recovered_after, "requests_after": len(after),
               # Under systemd (deploy/systemd/) Restart=always would start these again; here nothing does.
               "processes_that_exited": exited, "task_after_outage_ran": task_ran, "task_after_outage_s": task_s,
               "slow": slow, "wrong": wrong, "failed_after_recovery": failed_after}
    print(json.dumps(summary, indent=1))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=1))
    print(f"slow: {slow}, wrong: {wrong}, failed after recovery: {failed_after}")
    if exited:
        print(f"processes that exited: {', '.join(exited)}")
    if not task_ran:
        print("a task queued after the outage did not run")
    sys.exit(0 if slow == wrong == failed_after == 0 and not exited and task_ran else 1)


if __name__ == "__main__":
    main()
