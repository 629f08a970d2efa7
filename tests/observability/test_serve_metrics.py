"""`make run`'s processes (scripts/serve.py: two granian workers for pages, daphne for sockets, the django-q2
cluster) report through one /metrics: whichever page worker answers the scrape, the totals are those of every
process, and the open socket held by daphne is there too. The request id comes back in the header and is on the
JSON log line of the request."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from tests.observability.conftest import TOKEN, parse, value
from tests.realtime.test_end_to_end import PYTHON, ROOT, Site, free_port, http_ok, wait_until

pytestmark = pytest.mark.e2e


def scrape(port: int) -> str:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read().decode()


def test_every_process_of_make_run_adds_up_in_one_scrape(tmp_path: Path) -> None:
    port, ws_port = free_port(), free_port()
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_999999.db").write_bytes(b"left from a run before")
    site = Site.in_directory(tmp_path, port, PORT=str(port), WS_PORT=str(ws_port), WEB_WORKERS="2",
                             METRICS_ENABLED="true", METRICS_TOKEN=TOKEN, LOG_FORMAT="json", LOG_LEVEL="WARNING",
                             PROMETHEUS_MULTIPROC_DIR=str(metrics_dir))
    site.manage("migrate", "--no-input", "-v", "0")
    site.start_redis()
    serve = subprocess.Popen([PYTHON, "scripts/serve.py"], cwd=ROOT, env=site.env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: http_ok(f"http://127.0.0.1:{port}/about/"), "the page process did not answer", 60)
        wait_until(lambda: http_ok(f"http://127.0.0.1:{ws_port}/about/"), "the socket process did not answer", 60)
        assert not (metrics_dir / "counter_999999.db").exists()
        about = {"route": "projects:about", "status": "200"}
        before = value(parse(scrape(port)), "bukaamanzi_http_responses_total", **about) or 0
        for _ in range(20):  # a new connection each: granian's two workers share them
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/about/", timeout=10) as response:
                assert response.status == 200
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/no-such-page/",
                                                          headers={"X-Request-ID": "e2e-404"}), timeout=10)
        assert missing.value.headers["X-Request-ID"] == "e2e-404"

        async def scrape_while_a_socket_is_open() -> str:
            async with connect(f"ws://127.0.0.1:{ws_port}/ws/projects", origin=f"http://localhost:{port}") as ws:
                await ws.send(json.dumps({"action": "subscribe", "entity_type": "all"}))
                await asyncio.wait_for(ws.recv(), 10)
                return await asyncio.to_thread(scrape, port)

        with_socket = parse(asyncio.run(scrape_while_a_socket_is_open()))
        scrapes = [parse(scrape(port)) for _ in range(6)]  # answered by either worker
    finally:
        serve.send_signal(signal.SIGINT)
        output = serve.communicate(timeout=30)[0].decode()
        site.stop_all()

    totals = {value(s, "bukaamanzi_http_responses_total", **about) for s in scrapes}
    assert totals == {before + 20}, (totals, sorted({x.labels["route"] for x in scrapes[0].get(
        "bukaamanzi_http_responses_total", [])}))
    assert sum(s.value for s in with_socket["bukaamanzi_websockets_open"]) == 1
    assert sum(s.value for s in scrapes[-1]["bukaamanzi_websockets_open"]) == 0
    workers = {s.labels["pid"] for s in with_socket["bukaamanzi_websockets_open"]}
    assert len(workers) >= 3, workers  # two page workers and the socket process, at least
    logged = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert any(r.get("request_id") == "e2e-404" and r.get("logger") == "django.request" for r in logged), output[-3000:]
