"""Several processes, one /metrics: prometheus-client's multiprocess mode as scripts/serve.py sets it up (one
directory of per-process files), with real processes writing; the socket gauge of a process that died is dropped,
its request totals are kept."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from tests.observability.conftest import TOKEN, parse, value

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db

# What a page worker does per request, and the socket server per connection (the same instruments, imported the
# same way); then it waits for a line on stdin before exiting, so the test decides which process is alive.
WORKER = """
import sys
from bukaamanzi.lib.metrics import http_request_seconds, http_responses, websockets_open
http_request_seconds.labels("projects:detail", "GET").observe(0.02)
http_responses.labels("projects:detail", "200").inc()
websockets_open.inc()
print("ready", flush=True)
sys.stdin.readline()
"""


def start_worker(directory: Path) -> subprocess.Popen[str]:
    process = subprocess.Popen([sys.executable, "-c", WORKER], cwd=ROOT, text=True, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)})
    assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    return process


def test_one_scrape_adds_up_every_process_and_forgets_the_sockets_of_dead_ones(
    tmp_path: Path, metrics_on: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    gone, alive = start_worker(tmp_path), start_worker(tmp_path)
    gone.communicate("\n", timeout=30)  # exits without any clean-up hook, as a killed worker would
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    try:
        response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    finally:
        alive.communicate("\n", timeout=30)

    assert response.status_code == 200
    samples = parse(response.content.decode())
    assert value(samples, "bukaamanzi_http_responses_total", route="projects:detail", status="200") == 2
    assert value(samples, "bukaamanzi_http_request_duration_seconds_count", route="projects:detail", method="GET") == 2
    sockets = {s.labels["pid"]: s.value for s in samples["bukaamanzi_websockets_open"]}
    assert sockets == {str(alive.pid): 1.0}
    assert value(samples, "bukaamanzi_relay_lag_seconds") is not None  # the database facts are there too
    assert not list(tmp_path.glob(f"gauge_liveall_{gone.pid}.db"))
