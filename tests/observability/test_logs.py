"""The request id (X-Request-ID in, X-Request-ID out, in every JSON log line) and its way into the django-q2 tasks
a request queues; LOG_FORMAT chooses JSON lines or the plain readable ones (the default)."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.test import Client

from bukaamanzi.observability.logs import logging_config
from tests.ingestion.pipeline_support import GEOGRAPHY, Reply, SourceServer, source_server, treasury_routes

__all__ = ["source_server"]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """Everything logged at INFO and above, formatted by the LOG_FORMAT=json formatter, one object a line."""
    stream = io.StringIO()
    formatter = logging.config.DictConfigurator(logging_config("json", "INFO")).configure_formatter(  # type: ignore[attr-defined]
        logging_config("json", "INFO")["formatters"]["json"])
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def records(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


@pytest.mark.django_db
def test_a_request_gets_an_id_unless_it_brings_a_well_formed_one() -> None:
    client = Client()

    made = client.get("/municipalities/")["X-Request-ID"]
    kept = client.get("/municipalities/", HTTP_X_REQUEST_ID="nginx-3f2a.77_b")["X-Request-ID"]
    forged = client.get("/municipalities/", HTTP_X_REQUEST_ID='x" level="critical')["X-Request-ID"]
    too_long = client.get("/municipalities/", HTTP_X_REQUEST_ID="a" * 129)["X-Request-ID"]

    assert len(made) == 32 and int(made, 16) >= 0
    assert kept == "nginx-3f2a.77_b"
    assert forged != 'x" level="critical' and len(forged) == 32
    assert len(too_long) == 32


@pytest.mark.django_db
def test_every_json_line_of_a_request_carries_its_id(json_lines: io.StringIO) -> None:
    Client().get("/no-such-page/", HTTP_X_REQUEST_ID="req-404")

    (line,) = [r for r in records(json_lines) if r.get("logger") == "django.request"]
    assert line["request_id"] == "req-404"
    assert line["level"] == "warning" and "Not Found" in str(line["event"])
    assert "timestamp" in line


@pytest.mark.django_db(transaction=True)
def test_the_request_id_follows_the_request_into_the_task_it_queues(
    source_server: SourceServer, monkeypatch, json_lines: io.StringIO
) -> None:
    """A staff sync trigger queues an ingestion run on django-q2 (sync mode: the package is signed, unpacked and
    run by django-q2's own worker function); the worker's lines, the breaker's among them, carry the request's id."""
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)
    treasury_routes(source_server)
    source_server.serve(GEOGRAPHY, Reply(b"server error", 500))
    user = get_user_model().objects.create_user("moderator", password="x", is_staff=True)
    client = Client()
    client.force_login(user)

    for request_id in ("trace-sync-1", "trace-sync-2"):  # the second failure opens the breaker, which logs it
        response = client.post("/api/v1/sync/trigger", {"source": "municipal_money"},
                               content_type="application/json", HTTP_X_REQUEST_ID=request_id)
        assert response.status_code == 202, response.content

    in_task = [r for r in records(json_lines) if "task_id" in r]
    by_task: dict[object, set[object]] = {}
    for line in in_task:
        by_task.setdefault(line["task_id"], set()).add(line["request_id"])
    assert sorted(by_task.values(), key=str) == [{"trace-sync-1"}, {"trace-sync-2"}], in_task
    (breaker,) = [r for r in in_task if r["logger"] == "ingestion.http"]
    assert breaker["request_id"] == "trace-sync-2" and "open" in str(breaker["event"])


def test_tasks_queued_outside_a_request_carry_no_request_id() -> None:
    from bukaamanzi.observability import tasks

    package: dict[str, object] = {"id": "t1", "name": "schedule"}
    import structlog

    with structlog.contextvars.bound_contextvars(request_id=None):
        tasks.carry_request_id("django_q", package)
    assert "request_id" not in package


def _log_from_subprocess(**env: str) -> subprocess.CompletedProcess[str]:
    code = "import logging; logging.getLogger('bukaamanzi.check').warning('hello %s', 'there')"
    return subprocess.run([sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "CHANNEL_LAYER": "memory", **env})


def test_log_format_json_writes_one_object_a_line_and_plain_stays_the_default() -> None:
    as_json = _log_from_subprocess(LOG_FORMAT="json")
    plain = _log_from_subprocess(LOG_FORMAT="")
    wrong = subprocess.run([sys.executable, "-c", "import bukaamanzi.settings"], cwd=ROOT, capture_output=True,
                           text=True, timeout=60, env={**os.environ, "CHANNEL_LAYER": "memory", "LOG_FORMAT": "xml"})

    (line,) = [json.loads(x) for x in as_json.stderr.splitlines() if "bukaamanzi.check" in x]
    assert line["event"] == "hello there" and line["level"] == "warning"
    assert any(x.endswith("WARNING bukaamanzi.check: hello there") for x in plain.stderr.splitlines())
    assert wrong.returncode != 0 and "LOG_FORMAT" in wrong.stderr
    assert django_settings.LOG_FORMAT == "plain"


def test_a_json_traceback_is_structured_and_keeps_no_local_variables(json_lines: io.StringIO) -> None:
    def sign_in(password: str) -> None:
        raise ValueError("refused")

    try:
        sign_in("hunter2-secret")
    except ValueError:
        logging.getLogger("bukaamanzi.check").exception("Sign-in failed")

    (line,) = records(json_lines)
    assert line["exception"][0]["exc_type"] == "ValueError"  # type: ignore[index]
    assert "hunter2-secret" not in json_lines.getvalue()
