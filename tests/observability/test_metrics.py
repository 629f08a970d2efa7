"""/metrics: off by default, guarded by a token and/or an address allow-list, and what it says, parsed with
prometheus-client's own parser after the real paths (requests, services, ingestion runs, sockets) made it so."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from asgiref.sync import async_to_sync
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import Client
from django.utils import timezone

from alerts.models import AlertKind, Delivery, Frequency
from alerts.services import alert_subscribe, alert_target
from bukaamanzi.lib import metrics as instruments
from bukaamanzi.lib.metrics import QueueStats, register_queue
from changelog.models import DataChangeLog
from ingestion.models import RunStatus
from ingestion.services import ingestion_run_now
from realtime.consumers import _ConnectionCount
from realtime.tasks import project_progress_set
from tests.factories import ProjectFactory
from tests.ingestion.pipeline_support import GEOGRAPHY, Reply, SourceServer, source_server, treasury_routes
from tests.observability.conftest import TOKEN, Samples, parse, value
from tests.realtime.conftest import connect

__all__ = ["source_server"]
pytestmark = pytest.mark.django_db
Scrape = Callable[[], Samples]


def test_metrics_are_a_404_unless_switched_on() -> None:
    response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    assert response.status_code == 404


def test_a_scrape_without_the_token_is_refused_naming_what_is_missing(metrics_on: None) -> None:
    client = Client()

    missing = client.get("/metrics")
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer not-it")
    right = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    assert missing.status_code == wrong.status_code == 401
    assert missing["WWW-Authenticate"].startswith("Bearer")
    assert b"bearer token" in missing.content
    assert right.status_code == 200


def test_the_allow_list_admits_only_its_networks_and_both_checks_apply_when_both_are_set(settings) -> None:
    import ipaddress

    settings.METRICS_ENABLED = True
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOW = [ipaddress.ip_network("10.1.0.0/16")]
    client = Client()

    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    outside = client.get("/metrics", REMOTE_ADDR="192.0.2.7")
    assert outside.status_code == 403 and b"allow-list" in outside.content

    settings.METRICS_TOKEN = TOKEN
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 401
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.7", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 403


def test_switching_metrics_on_without_a_token_or_allow_list_stops_start_up(monkeypatch) -> None:
    import subprocess
    import sys

    env = {"METRICS_ENABLED": "true", "METRICS_TOKEN": "", "METRICS_ALLOW": "", "CHANNEL_LAYER": "memory"}
    bad_network = {**env, "METRICS_ALLOW": "10.0.0.0/33"}
    for variables in (env, bad_network):
        result = subprocess.run([sys.executable, "-c", "import bukaamanzi.settings"], capture_output=True, text=True,
                                env={**__import__("os").environ, **variables}, timeout=60)
        assert result.returncode != 0
        assert "METRICS_" in result.stderr and ImproperlyConfigured.__name__ in result.stderr


def test_requests_are_timed_by_route_name_and_counted_by_status_never_by_raw_path(scrape: Scrape) -> None:
    before = scrape()
    client = Client()
    client.get("/municipalities/")
    client.get("/no-such-page/12345")
    client.generic("BREW", "/municipalities/")

    after = scrape()

    def grew(name: str, **labels: str) -> float:
        return (value(after, name, **labels) or 0) - (value(before, name, **labels) or 0)

    route = "municipalities:index"
    assert grew("bukaamanzi_http_request_duration_seconds_count", route=route, method="GET") == 1
    assert grew("bukaamanzi_http_request_duration_seconds_bucket", route=route, method="GET", le="+Inf") == 1
    assert grew("bukaamanzi_http_responses_total", route=route, status="200") == 2  # the page answers BREW too
    assert grew("bukaamanzi_http_responses_total", route="unmatched", status="404") == 1
    assert grew("bukaamanzi_http_request_duration_seconds_count", route=route, method="other") == 1
    assert not any(s.labels["method"] == "BREW" for s in after["bukaamanzi_http_request_duration_seconds_count"])
    routes = {s.labels["route"] for s in after["bukaamanzi_http_responses_total"]}
    assert not any("/" in r for r in routes), routes


def test_relay_lag_is_the_age_of_the_oldest_unsent_change(scrape: Scrape) -> None:
    DataChangeLog.objects.update(notification_sent=True)
    assert value(scrape(), "bukaamanzi_relay_lag_seconds") == 0

    project = ProjectFactory()
    project_progress_set(str(project.pk), "40")  # its on-commit relay never runs inside the test's transaction
    DataChangeLog.objects.filter(notification_sent=False).update(created_at=timezone.now() - dt.timedelta(minutes=2))
    samples = scrape()

    assert value(samples, "bukaamanzi_relay_unsent_changes") == 1
    assert 120 <= (value(samples, "bukaamanzi_relay_lag_seconds") or 0) < 180


def test_ingestion_runs_are_counted_by_source_and_outcome_and_the_breaker_state_shows(
    scrape: Scrape, source_server: SourceServer
) -> None:
    treasury_routes(source_server)
    source_server.serve(GEOGRAPHY, Reply(b"server error", 500))  # two failures open the breaker (BREAKER_FAILURES)
    assert value(scrape(), "bukaamanzi_source_circuit_state", source="municipal_money", state="closed") == 1

    runs = [ingestion_run_now(source="municipal_money") for _ in range(3)]
    samples = scrape()

    assert [r.status for r in runs] == [RunStatus.FAILED, RunStatus.FAILED, RunStatus.SKIPPED]
    assert value(samples, "bukaamanzi_ingestion_run_duration_seconds_count",
                 source="municipal_money", outcome="failed") == 2
    assert value(samples, "bukaamanzi_ingestion_run_duration_seconds_count",
                 source="municipal_money", outcome="skipped") == 1
    assert (value(samples, "bukaamanzi_ingestion_run_duration_seconds_sum",
                  source="municipal_money", outcome="failed") or 0) > 0
    assert value(samples, "bukaamanzi_source_circuit_state", source="municipal_money", state="open") == 1
    assert value(samples, "bukaamanzi_source_circuit_state", source="municipal_money", state="closed") == 0
    assert value(samples, "bukaamanzi_source_circuit_state", source="dws", state="closed") == 1
    assert value(samples, "bukaamanzi_metrics_section_up", section="ingestion") == 1


@contextmanager
def webhook_queue_read_by(reader: Callable[[], QueueStats]) -> Iterator[None]:
    """The "webhook" queue read by `reader` for one scrape; the webhooks app's own reader is put back after."""
    previous = instruments._queues.get("webhook")
    register_queue("webhook", reader)
    try:
        yield
    finally:
        instruments._queues.pop("webhook")
        if previous is not None:
            register_queue("webhook", previous)


def test_the_email_queue_counts_what_waits_and_a_registered_queue_appears_beside_it(scrape: Scrape) -> None:
    project = ProjectFactory()
    alert_subscribe(email="resident@example.org", target=alert_target(kind=AlertKind.PROJECT, project_id=project.pk),
                    frequency=Frequency.IMMEDIATE, language="en")
    waiting = Delivery.objects.unsent().count()
    with webhook_queue_read_by(lambda: QueueStats(waiting=3, retrying=1, given_up=2, oldest_age_seconds=9.5)):
        samples = scrape()

    assert waiting >= 1
    assert value(samples, "bukaamanzi_queue_waiting", queue="email") == waiting
    assert value(samples, "bukaamanzi_queue_given_up", queue="email") == 0
    assert value(samples, "bukaamanzi_queue_waiting", queue="webhook") == 3
    assert value(samples, "bukaamanzi_queue_retrying", queue="webhook") == 1
    assert value(samples, "bukaamanzi_queue_oldest_age_seconds", queue="webhook") == 9.5


def test_open_websockets_are_counted_while_connected(scrape: Scrape, monkeypatch) -> None:
    monkeypatch.setattr("channels.db.close_old_connections", lambda: None)
    monkeypatch.setattr(_ConnectionCount, "open", 0)
    before = value(scrape(), "bukaamanzi_websockets_open") or 0

    async def open_then_close() -> float:
        client = await connect()
        during = parse_now()
        await client.disconnect()
        return during

    def parse_now() -> float:
        return value(parse(instruments_text()), "bukaamanzi_websockets_open") or 0

    during = async_to_sync(open_then_close)()

    assert during == before + 1
    assert (value(scrape(), "bukaamanzi_websockets_open") or 0) == before


def instruments_text() -> str:
    from prometheus_client import REGISTRY, generate_latest

    return generate_latest(REGISTRY).decode()


def test_a_section_whose_query_fails_is_marked_down_and_the_rest_is_still_served(scrape: Scrape) -> None:
    def webhooks_not_migrated() -> QueueStats:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM webhooks_table_never_made")
        raise AssertionError("the query above fails")

    with webhook_queue_read_by(webhooks_not_migrated):
        samples = scrape()

    assert value(samples, "bukaamanzi_metrics_section_up", section="queues") == 0
    assert value(samples, "bukaamanzi_queue_waiting", queue="email") is None
    assert value(samples, "bukaamanzi_metrics_section_up", section="breakers") == 1
    assert value(samples, "bukaamanzi_source_circuit_state", source="dws", state="closed") == 1
