"""granian serving the WSGI application (scripts/serve.py's page server) answers every API request with the same
status, body and caching headers as daphne serving the ASGI one did, on the same SpatiaLite file; and its threads
keep their database connections from one request to the next."""

from __future__ import annotations

import json
import runpy
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.realtime.test_end_to_end import PYTHON, ROOT, Site, free_port, http_ok, wait_until

pytestmark = pytest.mark.e2e


# scripts/serve.py is a script, not a module of a package: its functions are read without running main().
page_server_command = runpy.run_path(str(ROOT / "scripts" / "serve.py"))["page_server_command"]


def fetch(port: int, path: str) -> tuple[int, bytes, dict[str, str]]:
    """Status, body and headers (names lower-cased: HTTP names are case-insensitive and servers differ)."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, response.read(), {k.lower(): v for k, v in response.headers.items()}
    except urllib.error.HTTPError as error:
        return error.code, error.read(), {k.lower(): v for k, v in error.headers.items()}


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Site, int, int]]:
    granian_port, daphne_port = free_port(), free_port()
    site = Site.in_directory(tmp_path_factory.mktemp("wsgi"), granian_port, CHANNEL_LAYER="memory",
                             LOAD_DEMO_DATA="true", WEB_THREADS="2")
    site.manage("migrate", "--no-input", "-v", "0")
    site.manage("load_municipalities")
    site.manage("load_demo_data")
    site.start("granian", *page_server_command(granian_port))
    site.start("daphne", PYTHON, "-m", "daphne", "-b", "127.0.0.1", "-p", str(daphne_port),
               "bukaamanzi.asgi:application")
    try:
        for port, name in ((granian_port, "granian"), (daphne_port, "daphne")):
            wait_until(lambda port=port: http_ok(f"http://127.0.0.1:{port}/api/v1/health"),  # type: ignore[misc]
                       f"{name} did not answer: {site.log(name)}", 60)
        yield site, granian_port, daphne_port
    finally:
        site.stop_all()


def test_granian_and_daphne_answer_the_api_with_the_same_bytes(servers: tuple[Site, int, int]) -> None:
    _, granian_port, daphne_port = servers
    items = json.loads(fetch(daphne_port, "/api/v1/projects?limit=5")[1])["items"]
    assert items, "the demo data has projects"
    paths = [
        "/api/v1/projects?limit=100", "/api/v1/projects?limit=2&page=2", "/api/v1/projects?status=completed",
        f"/api/v1/projects/{items[0]['id']}", f"/api/v1/projects/{items[-1]['id']}",
        "/api/v1/map/projects?bbox=16,-35,33,-22&zoom=6", "/api/v1/municipalities?limit=100",
        "/api/v1/municipalities/CPT", "/api/v1/reports", "/api/v1/projects/not-a-uuid",
        "/api/v1/projects?limit=1000", "/api/v1/map/projects?bbox=1,2,3&zoom=6",
        "/api/v1/projects/00000000-0000-4000-8000-000000000000",
    ]
    for path in paths:
        status, body, headers = fetch(granian_port, path)
        want_status, want_body, want_headers = fetch(daphne_port, path)
        assert (status, body) == (want_status, want_body), path
        for name in ("content-type", "cache-control", "etag", "vary"):
            assert headers.get(name) == want_headers.get(name), (path, name)


def test_granian_threads_keep_their_database_connections(servers: tuple[Site, int, int]) -> None:
    site, granian_port, _ = servers
    for _ in range(40):
        assert fetch(granian_port, "/api/v1/health")[0] == 200
    # A SpatiaLite connection is a file descriptor on the database file: two threads, two connections at most
    # (plus the WAL's shared memory), however many requests were served.
    root = psutil.Process(site.processes["granian"].pid)
    opened = {process.pid: _open_count(process, "site.sqlite3") for process in [root, *root.children(recursive=True)]}
    workers = {pid: count for pid, count in opened.items() if count}
    assert workers, "no granian process has the database open"
    for pid, count in workers.items():
        assert count <= 2 * 2, pid


def _open_count(process: psutil.Process, name: str) -> int:
    try:
        return sum(Path(opened.path).name == name for opened in process.open_files())
    except psutil.Error:
        return 0
