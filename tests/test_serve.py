"""scripts/serve.py, the command `make run` ends with: its split layout serves pages and the API from granian (WSGI)
and WebSockets from daphne (at a lower CPU priority), pages point their live updates at the socket port, and
Ctrl-C stops everything."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import urllib.request
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from tests.realtime.test_end_to_end import PYTHON, ROOT, Site, free_port, http_ok, wait_until

pytestmark = pytest.mark.e2e


def nice_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


def children_listening(serve: subprocess.Popen[bytes]) -> dict[int, tuple[str, int]]:
    """{port: (server, pid)} of the web servers serve.py started (their command lines name the port)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            status = (entry / "status").read_text()
        except OSError:
            continue
        parent = int(next(line.split()[1] for line in status.splitlines() if line.startswith("PPid:")))
        if parent != serve.pid:
            continue
        if b"daphne" in argv:
            found[int(argv[argv.index(b"-p") + 1])] = ("daphne", int(entry.name))
        elif b"granian" in argv:
            found[int(argv[argv.index(b"--port") + 1])] = ("granian", int(entry.name))
    return found


def cluster_environment(serve: subprocess.Popen[bytes]) -> dict[bytes, bytes]:
    """The environment serve.py gave its `manage.py qcluster` child."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            status = (entry / "status").read_text()
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        parent = int(next(line.split()[1] for line in status.splitlines() if line.startswith("PPid:")))
        if parent == serve.pid and b"qcluster" in argv:
            return dict(item.partition(b"=")[::2] for item in environ.split(b"\0") if item)
    raise AssertionError("serve.py started no qcluster")


def test_the_split_layout_serves_pages_and_sockets_from_two_processes(tmp_path: Path) -> None:
    port, ws_port = free_port(), free_port()
    site = Site.in_directory(tmp_path, port, PORT=str(port), WS_PORT=str(ws_port), WEB_LAYOUT="split",
                             DB_POOL_MAX_SIZE="10")
    site.env.pop("WS_PUBLIC_PORT", None)
    site.manage("migrate", "--no-input", "-v", "0")
    site.start_redis()
    serve = subprocess.Popen([PYTHON, "scripts/serve.py"], cwd=ROOT, env=site.env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: http_ok(f"http://127.0.0.1:{port}/api/v1/health"), "the page process did not answer", 60)
        wait_until(lambda: http_ok(f"http://127.0.0.1:{ws_port}/api/v1/health"), "the socket process did not answer",
                   60)
        servers = children_listening(serve)
        assert {listen: name for listen, (name, _) in servers.items()} == {port: "granian", ws_port: "daphne"}
        assert (nice_of(servers[port][1]), nice_of(servers[ws_port][1])) == (nice_of(os.getpid()),
                                                                              min(nice_of(os.getpid()) + 10, 19))
        # The django-q2 cluster runs without the psycopg pool whatever the site sets (docs/deploy.md).
        assert cluster_environment(serve).get(b"DB_POOL_MAX_SIZE") == b"0"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/pipeline/", timeout=10) as response:
            assert f'data-live-ws-port="{ws_port}"' in response.read().decode()

        async def subscribe() -> dict[str, object]:
            async with connect(f"ws://127.0.0.1:{ws_port}/ws/projects", origin=f"http://localhost:{port}") as ws:
                await ws.send(json.dumps({"action": "subscribe", "entity_type": "project"}))
                return json.loads(await asyncio.wait_for(ws.recv(), 10))

        assert asyncio.run(subscribe())["type"] == "subscription_confirmed"
    finally:
        serve.send_signal(signal.SIGINT)
        output = serve.communicate(timeout=30)[0].decode()
        site.stop_all()
    assert serve.returncode == 0, output
    assert f"http://localhost:{port}/; WebSockets on port {ws_port}" in output
    assert children_listening(serve) == {}
