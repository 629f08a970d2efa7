"""Issue 18: the django-q2 cluster is killed during an ingestion. The run is marked failed (not left running for
INGESTION_STALE_AFTER_SECONDS), the data is as before, and the next run proceeds.

Real processes throughout: a real `manage.py qcluster` runs the queued run against saved responses served by a
local HTTP server, is SIGKILLed (its whole process group) while the run waits for the second page, and a
`manage.py ingest` of the same source follows. On SpatiaLite the processes share a file in tmp_path; on PostGIS
(DATABASE_URL=postgis://...) a database of its own is created on the same server and dropped afterwards.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from tests.ingestion.pipeline_support import (
    CAPITAL,
    GEOGRAPHY,
    PROJECTS,
    Reply,
    Seen,
    SourceServer,
    fixture_bytes,
)
from tests.realtime.test_end_to_end import PYTHON, ROOT, wait_until

pytestmark = pytest.mark.e2e

SNAPSHOT = """
import json
from ingestion.models import IngestionRun
from projects.models import Project
print(json.dumps({
    "projects": sorted([p.external_id, p.content_hash, p.ward] for p in Project.objects.all()),
    "runs": [[r.pk, r.status, r.error, r.worker_pid] for r in IngestionRun.objects.order_by("pk")],
}))
"""


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """A database the test's processes share: a SpatiaLite file, or a fresh PostGIS database."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgis"):
        yield f"spatialite:///{tmp_path / 'site.sqlite3'}"
        return
    parts = urlsplit(url)
    name = f"kill_{uuid.uuid4().hex[:10]}"
    admin = urlunsplit(("postgresql", parts.netloc, "/postgres", parts.query, ""))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


class Pages:
    """The project pages by offset; page 2 can be held until released, so that a run is caught mid-harvest."""

    def __init__(self) -> None:
        self.pages = {"0": fixture_bytes("municipal_money", "projects_page1.json"),
                      "5": fixture_bytes("municipal_money", "projects_page2.json")}
        self.hold = threading.Event()
        self.release = threading.Event()
        self.held = threading.Event()

    def __call__(self, seen: Seen) -> Reply:
        offset = seen.query.get("offset", ["0"])[0]
        if offset == "5" and self.hold.is_set():
            self.held.set()
            self.release.wait(60)
        return Reply(self.pages.get(offset, b"[]"))


def test_a_run_whose_cluster_is_killed_is_failed_the_data_kept_and_the_next_run_proceeds(
    tmp_path: Path, database_url: str
) -> None:
    server = SourceServer().start()
    pages = Pages()
    server.serve(GEOGRAPHY, Reply(fixture_bytes("municipal_money", "geography.json")))
    server.serve(PROJECTS, pages)
    server.serve(CAPITAL, Reply(fixture_bytes("municipal_money", "capital_v2_aggregate.json")))
    env = {
        **os.environ, "DJANGO_SETTINGS_MODULE": "bukaamanzi.settings", "DATABASE_URL": database_url,
        "CHANNEL_LAYER": "memory", "LOAD_DEMO_DATA": "false", "LOG_LEVEL": "WARNING", "DB_POOL_MAX_SIZE": "0",
        "Q_WORKERS": "1", "MUNICIPAL_MONEY_URL": server.url, "MUNICIPAL_DATA_URL": server.url,
        "TREASURY_PAGE_SIZE": "5", "TREASURY_CAPITAL_YEARS": "2023", "TREASURY_CAPITAL_AMOUNT_TYPES": "AUDA",
        "HTTP_READ_TIMEOUT": "120", "HTTP_RETRIES": "0", "HTTP_PROXY_URL": "",
    }

    def manage(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=300)

    def snapshot() -> dict[str, list[list[object]]]:
        result = manage("shell", "-c", SNAPSHOT)
        assert result.returncode == 0, result.stderr[-3000:]
        return json.loads(result.stdout.strip().splitlines()[-1])

    cluster = None
    try:
        assert manage("migrate", "--no-input", "-v", "0").returncode == 0
        seeded = manage("ingest", "municipal_money")
        assert seeded.returncode == 0 and ": success" in seeded.stdout, seeded.stdout + seeded.stderr
        before = snapshot()
        assert len(before["projects"]) == 5

        # The source changes (so the next run would write), and its second page is held.
        page = json.loads(pages.pages["0"])
        page["results"][0]["ward_location"] = "Ward 10"
        pages.pages["0"] = json.dumps(page).encode()
        pages.hold.set()
        log = (tmp_path / "cluster.log").open("wb")
        cluster = subprocess.Popen([PYTHON, "manage.py", "qcluster"], cwd=ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        queued = manage("shell", "-c", "from ingestion.services import ingestion_queue_run as q; "
                                       "print(q(source='municipal_money', triggered_by='test').pk)")
        assert queued.returncode == 0, queued.stderr[-3000:]
        run_id = int(queued.stdout.strip().splitlines()[-1])
        wait_until(pages.held.is_set, "the cluster never asked for the second page", 90)
        killed_run = next(run for run in snapshot()["runs"] if run[0] == run_id)
        assert killed_run[1] == "running" and killed_run[3], killed_run  # its worker's pid is recorded

        os.killpg(cluster.pid, signal.SIGKILL)
        cluster.wait(timeout=10)
        pages.release.set()
        pages.hold.clear()

        after_kill = snapshot()
        assert after_kill["projects"] == before["projects"]  # same projects, same content hashes
        assert next(run for run in after_kill["runs"] if run[0] == run_id)[1] == "running"

        # The next run (well within INGESTION_STALE_AFTER_SECONDS) fails the abandoned one and proceeds.
        following = manage("ingest", "municipal_money")
        assert following.returncode == 0 and ": success" in following.stdout, following.stdout + following.stderr
        after = snapshot()
        abandoned = next(run for run in after["runs"] if run[0] == run_id)
        assert abandoned[1] == "failed" and abandoned[2].startswith("Abandoned: its worker stopped"), abandoned
        assert after["runs"][-1][1] == "success"
        assert len(after["projects"]) == 5
        assert [p[0] for p in after["projects"]] == [p[0] for p in before["projects"]]
        assert after["projects"] != before["projects"]  # the change the killed run never wrote is in now
    finally:
        if cluster is not None and cluster.poll() is None:
            os.killpg(cluster.pid, signal.SIGKILL)
            cluster.wait(timeout=10)
        pages.release.set()
        server.stop()
