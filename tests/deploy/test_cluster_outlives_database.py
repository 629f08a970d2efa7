"""Issue 18: PostgreSQL stops for a few seconds under a running django-q2 cluster, and the cluster outlives it.

A real `manage.py qcluster` runs against a database of its own in the private PostGIS cluster (scripts/pg.sh);
the server is stopped, a second cluster is started while it is away, and the server is started again. Both
clusters must still be running, with nothing restarted or reincarnated, and a task queued afterwards must run.
Stock django-q2 let the database error escape its broker and the sentinel exited; bukaamanzi/lib/q2broker.py
(Q_CLUSTER "broker_class") is what this covers.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit, urlunsplit

import psycopg
import pytest
from django.db import connections

from tests.realtime.test_end_to_end import PYTHON, ROOT

pytestmark = pytest.mark.e2e

PG_SCRIPT = ROOT / "scripts" / "pg.sh"
PROBE = "from django_q.tasks import async_task, result; print(result(async_task('math.floor', 2.5), wait=30000))"


def private_cluster_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgis"):
        pytest.skip("stops a PostgreSQL server: runs only with DATABASE_URL=postgis://... (scripts/pg.sh)")
    if parse_qs(urlsplit(url).query).get("host") != [str(ROOT / "var" / "pg")]:
        pytest.skip("stops the server: runs only against this checkout's private cluster (scripts/pg.sh start)")
    return url


def test_the_cluster_outlives_a_database_outage_and_runs_the_next_task(tmp_path: Path) -> None:
    url = private_cluster_url()
    parts = urlsplit(url)
    name = f"outage_{uuid.uuid4().hex[:10]}"
    admin = urlunsplit(("postgresql", parts.netloc, "/postgres", parts.query, ""))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    env = {
        **os.environ, "DJANGO_SETTINGS_MODULE": "bukaamanzi.settings", "CHANNEL_LAYER": "memory",
        "DATABASE_URL": urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, "")),
        "LOAD_DEMO_DATA": "false", "DB_POOL_MAX_SIZE": "0", "Q_WORKERS": "1",
    }

    def manage(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=120)

    clusters: dict[str, subprocess.Popen[bytes]] = {}

    def start_cluster(name: str) -> None:
        with (tmp_path / f"{name}.log").open("wb") as log:
            clusters[name] = subprocess.Popen([PYTHON, "manage.py", "qcluster"], cwd=ROOT, env=env, stdout=log,
                                              stderr=subprocess.STDOUT, start_new_session=True)

    def log_of(name: str) -> str:
        return (tmp_path / f"{name}.log").read_text(errors="replace")

    try:
        migrated = manage("migrate", "--no-input", "-v", "0")
        assert migrated.returncode == 0, migrated.stderr[-3000:]
        start_cluster("running")
        before = manage("shell", "-c", PROBE)  # the cluster is up and running tasks before the fault
        assert before.stdout.strip().splitlines()[-1:] == ["2"], before.stderr[-3000:]

        subprocess.run([str(PG_SCRIPT), "stop"], cwd=ROOT, check=True, timeout=60)
        try:
            # A second cluster starts while the server is away (as systemd would restart one): stock django-q2's
            # sentinel connected while building its broker and exited with code 1.
            start_cluster("starting")
            deadline = time.monotonic() + 40
            while "database unavailable" not in log_of("starting") and clusters["starting"].poll() is None:
                assert time.monotonic() < deadline, log_of("starting")[-3000:]
                time.sleep(0.2)
            time.sleep(3)  # the pusher polls every second (Q_CLUSTER "poll"): several dequeues meet the outage
        finally:
            subprocess.run([str(PG_SCRIPT), "start"], cwd=ROOT, check=True, timeout=120, capture_output=True)

        for which, process in clusters.items():
            assert process.poll() is None, f"{which}: {log_of(which)[-3000:]}"
        assert "database unavailable" in log_of("running")  # the outage was met, and ridden out
        probe = manage("shell", "-c", PROBE)
        assert probe.returncode == 0 and probe.stdout.strip().splitlines()[-1:] == ["2"], probe.stderr[-3000:]
        for which, process in clusters.items():
            assert process.poll() is None, f"{which}: {log_of(which)[-3000:]}"
            assert "reincarnated" not in log_of(which)  # not even a pusher died
    finally:
        for process in clusters.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in clusters.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        # This process's own connections died with the server: the next test must connect afresh.
        connections.close_all()
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
