"""Live updates end to end with real processes: redis-server, daphne and the django-q2 cluster on a SpatiaLite file.

A change is queued to the worker, made there through the service path (model row and change-log row in one
transaction), relayed on commit, and must reach a websocket client connected to daphne within 3 s. Then Redis is
stopped while a change is made and started again: the change arrives once Redis is back, nothing is lost and
nothing arrives twice.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from websockets.asyncio.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Site:
    directory: Path
    env: dict[str, str]
    port: int
    redis_socket: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @classmethod
    def in_directory(cls, directory: Path, port: int, **env: str) -> Site:
        """A site whose processes share a SpatiaLite file and a redis-server socket in `directory`, plus `env`."""
        redis_socket = directory / "redis.sock"
        return cls(directory=directory, port=port, redis_socket=redis_socket, env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bukaamanzi.settings",
            "DATABASE_URL": f"spatialite:///{directory / 'site.sqlite3'}",
            "REDIS_URL": f"unix://{redis_socket}",
            "CHANNEL_LAYER": "redis",
            "LOAD_DEMO_DATA": "false",
            "LOG_LEVEL": "WARNING",
            "STATICFILES_STORAGE": "django.contrib.staticfiles.storage.StaticFilesStorage",
            **env,
        })

    def manage(self, *args: str, timeout: float = 300) -> str:
        result = subprocess.run(
            [PYTHON, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=timeout
        )
        assert result.returncode == 0, result.stderr[-3000:]
        return result.stdout.strip()

    def start_redis(self) -> None:
        self.redis_socket.unlink(missing_ok=True)
        self.processes["redis"] = subprocess.Popen(
            ["redis-server", "--port", "0", "--unixsocket", str(self.redis_socket), "--save", "", "--appendonly", "no"],
            cwd=self.directory, stdout=subprocess.DEVNULL,
        )
        wait_until(self.redis_socket.exists, "redis-server did not start")

    def stop_redis(self) -> None:
        process = self.processes.pop("redis")
        process.terminate()
        process.wait(timeout=10)

    def start(self, name: str, *command: str) -> None:
        log = (self.directory / f"{name}.log").open("wb")
        self.processes[name] = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def log(self, name: str) -> str:
        path = self.directory / f"{name}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def stop_all(self) -> None:
        for process in reversed(list(self.processes.values())):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()

    def queue(self, func: str, *args: str) -> None:
        """Queue a task for the worker (django-q2's ORM broker) from a separate process, as a web request would."""
        quoted = ", ".join(repr(a) for a in args)
        self.manage("shell", "-c", f"from django_q.tasks import async_task; async_task({func!r}, {quoted})")


def wait_until(predicate: object, message: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail(message)
        time.sleep(0.05)


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed (make test installs it)")
    site = Site.in_directory(tmp_path_factory.mktemp("e2e"), free_port(), Q_WORKERS="1")
    site.manage("migrate", "--no-input", "-v", "0")
    site.start_redis()
    site.start("daphne", PYTHON, "-m", "daphne", "-b", "127.0.0.1", "-p", str(site.port), "bukaamanzi.asgi:application")
    site.start("worker", PYTHON, "manage.py", "qcluster")
    try:
        wait_until(lambda: http_ok(f"http://127.0.0.1:{site.port}/api/v1/health"), "daphne did not answer", 60)
        yield site
    finally:
        site.stop_all()


@pytest.fixture(scope="module")
def project_id(site: Site) -> str:
    return site.manage(
        "shell", "-c",
        "from projects.models import Project;"
        "p = Project.objects.create(source='municipal_money', external_id='E2E-1', name='Reservoir upgrade',"
        " status='implementation', progress_percentage=10);"
        "print(p.pk)",
    ).splitlines()[-1]


async def subscribe(site: Site, project_id: str) -> ClientConnection:
    client = await connect(f"ws://127.0.0.1:{site.port}/ws/projects", origin="http://localhost", open_timeout=10)
    await client.send(json.dumps({"action": "subscribe", "entity_type": "project", "entity_id": project_id}))
    confirmed = json.loads(await asyncio.wait_for(client.recv(), 5))
    assert confirmed["type"] == "subscription_confirmed", confirmed
    return client


async def updates(client: ClientConnection, until: float) -> list[dict[str, object]]:
    """Every data_update received until the loop time `until`."""
    received = []
    loop = asyncio.get_running_loop()
    while (left := until - loop.time()) > 0:
        try:
            message = json.loads(await asyncio.wait_for(client.recv(), left))
        except TimeoutError:
            break
        if message["type"] == "data_update":
            received.append(message)
    return received


async def test_change_made_in_the_worker_reaches_a_websocket_client_within_3_seconds(
    site: Site, project_id: str
) -> None:
    client = await subscribe(site, project_id)
    try:
        await asyncio.to_thread(site.queue, "realtime.tasks.project_progress_set", project_id, "42")
        queued = asyncio.get_running_loop().time()
        message = json.loads(await asyncio.wait_for(client.recv(), 3))
        waited = asyncio.get_running_loop().time() - queued
        assert message["type"] == "data_update", message
        assert message["data"]["entity_id"] == project_id
        assert message["data"]["new_values"] == {"progress_percentage": "42"}
        assert waited < 3
    finally:
        await client.close()


async def test_change_made_while_redis_is_down_arrives_once_redis_is_back(site: Site, project_id: str) -> None:
    client = await subscribe(site, project_id)
    loop = asyncio.get_running_loop()
    try:
        await asyncio.to_thread(site.queue, "realtime.tasks.project_progress_set", project_id, "43")
        before = await updates(client, loop.time() + 3)
        assert [m["data"]["new_values"] for m in before] == [{"progress_percentage": "43"}], site.log("worker")

        site.stop_redis()
        await asyncio.to_thread(site.queue, "realtime.tasks.project_progress_set", project_id, "44")
        # The worker commits the change; its relay cannot reach Redis and leaves the row unsent.
        await asyncio.to_thread(
            wait_until,
            lambda: site.manage("shell", "-c", "from changelog.models import DataChangeLog as D;"
                                "print(D.objects.unsent().count())").endswith("1"),
            "the change made while Redis was down was not committed and kept unsent",
        )
        site.start_redis()
        # The every-minute sweep, run now through the worker instead of waiting for the schedule.
        await asyncio.to_thread(site.queue, "realtime.tasks.relay_sweep")
        after = await updates(client, loop.time() + 8)

        values = [m["data"]["new_values"]["progress_percentage"] for m in after]
        assert values == ["44"], (values, site.log("daphne"), site.log("worker"))
        ids = [m["id"] for m in before + after]
        assert len(ids) == len(set(ids))
        assert ids == sorted(ids)
        assert site.manage("shell", "-c", "from changelog.models import DataChangeLog as D;"
                           "print(D.objects.unsent().count())").endswith("0")
    finally:
        await client.close()
