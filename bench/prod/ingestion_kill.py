"""Fault: the django-q2 cluster is SIGKILLed during an ingestion under the production layout (issue 18).

    .venv/bin/python bench/prod/ingestion_kill.py

Starts the layout (deploy/layout.py) with the Municipal Money URLs pointed at a local server answering the saved
responses of tests/ingestion/fixtures/ (never the government site). Loads them once, then changes one project at
the source, queues a run on the cluster, and while that run waits for the second page of projects kills the
cluster's whole process group. Then starts the cluster again, as systemd's Restart=always would, and queues the
next run. Checks that the killed run is marked failed by the cluster's start (not left running for
INGESTION_STALE_AFTER_SECONDS), that the projects after the kill are those of before (count and content hashes),
and that the next run succeeds with the change. Prints a JSON summary and "lost: L, stuck: S, next run: STATUS";
exits 1 unless lost and stuck are 0 and the next run succeeded.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.ingestion.pipeline_support import (  # noqa: E402 (after the path)
    CAPITAL,
    GEOGRAPHY,
    PROJECTS,
    Reply,
    SourceServer,
    fixture_bytes,
)
from tests.ingestion.test_worker_killed import SNAPSHOT, Pages  # noqa: E402

QUEUE = ("from ingestion.services import ingestion_queue_run as q; "
         "print(q(source='municipal_money', triggered_by='bench').pk)")


def main() -> None:
    from deploy.layout import running

    server = SourceServer().start()
    pages = Pages()
    server.serve(GEOGRAPHY, Reply(fixture_bytes("municipal_money", "geography.json")))
    server.serve(PROJECTS, pages)
    server.serve(CAPITAL, Reply(fixture_bytes("municipal_money", "capital_v2_aggregate.json")))
    extra = {"MUNICIPAL_MONEY_URL": server.url, "MUNICIPAL_DATA_URL": server.url, "TREASURY_PAGE_SIZE": "5",
             "TREASURY_CAPITAL_YEARS": "2023", "HTTP_READ_TIMEOUT": "120", "HTTP_RETRIES": "0"}
    try:
        with running(extra) as layout:
            def snapshot() -> dict[str, list[list[object]]]:
                return json.loads(layout.manage("shell", "-c", SNAPSHOT).splitlines()[-1])

            def run_of(pk: int) -> list[object]:
                return next(run for run in snapshot()["runs"] if run[0] == pk)

            def wait_finished(pk: int, timeout: float) -> list[object]:
                deadline = time.monotonic() + timeout
                while (run := run_of(pk))[1] in ("queued", "running") and time.monotonic() < deadline:
                    time.sleep(1)
                return run

            layout.manage("ingest", "municipal_money")
            before = snapshot()
            page = json.loads(pages.pages["0"])
            page["results"][0]["ward_location"] = "Ward 10"
            pages.pages["0"] = json.dumps(page).encode()
            pages.hold.set()
            killed = int(layout.manage("shell", "-c", QUEUE).splitlines()[-1])
            if not pages.held.wait(120):
                raise SystemExit("the cluster never asked for the second page")
            layout.stop_process("cluster", kill=True)
            pages.release.set()
            pages.hold.clear()
            after_kill = snapshot()
            status_after_kill = run_of(killed)[1]

            restarted = time.monotonic()
            layout.start_cluster()
            abandoned = wait_finished(killed, 60)
            failed_after_s = round(time.monotonic() - restarted, 1)
            following = int(layout.manage("shell", "-c", QUEUE).splitlines()[-1])
            next_run = wait_finished(following, 120)
            after = snapshot()
    finally:
        pages.release.set()
        server.stop()
    lost = sum(1 for row in before["projects"] if row not in after_kill["projects"])
    lost += sum(1 for row in after_kill["projects"] if row not in before["projects"])  # half-written changes
    stuck = int(abandoned[1] != "failed" or not str(abandoned[2]).startswith("Abandoned: its worker stopped"))
    summary = {"projects_before": len(before["projects"]), "projects_after_kill": len(after_kill["projects"]),
               "killed_run_status_after_kill": status_after_kill, "killed_run": abandoned[1:3],
               "failed_after_cluster_restart_s": failed_after_s, "next_run": next_run[1:3],
               "projects_after_next_run": len(after["projects"]),
               "change_loaded": after["projects"] != before["projects"], "lost": lost, "stuck": stuck}
    print(json.dumps(summary, indent=1))
    print(f"lost: {lost}, stuck: {stuck}, next run: {next_run[1]}")
    sys.exit(0 if lost == stuck == 0 and next_run[1] == "success" and summary["change_loaded"] else 1)


if __name__ == "__main__":
    main()
