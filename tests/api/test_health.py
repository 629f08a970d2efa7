import datetime as dt
from decimal import Decimal

import pytest
from django.db import OperationalError
from django.utils import timezone

from ingestion.models import RunStatus, SourceCircuit
from projects.models import Budget, Source
from tests.factories import ProjectFactory
from tests.ingestion.runs import finished_run

pytestmark = pytest.mark.django_db


def _run(source, status, minutes_ago, **extra):
    return finished_run(source, status, minutes_ago=minutes_ago, **extra)


def test_health_keeps_its_contract_and_names_each_sources_last_success(api):
    success = _run("municipal_money", RunStatus.SUCCESS, 60)
    _run("municipal_money", RunStatus.FAILED, 5)
    body = api.get("/api/v1/health").json()
    assert body["status"] == "ok" and body["database"] == "ok" and body["channel_layer"] == "ok"
    sources = {s["source"]: s for s in body["sources"]}
    last_success = dt.datetime.fromisoformat(sources["municipal_money"]["last_success_at"])
    assert abs(last_success - success.finished_at) < dt.timedelta(milliseconds=1)
    assert sources["municipal_money"]["last_run_status"] == "failed"
    assert sources["dws"]["last_success_at"] is None


def test_health_checks_the_real_redis_channel_layer(api, settings, redis_server):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer",
                                           "CONFIG": {"hosts": [{"address": redis_server}]}}}
    settings.REDIS_URL = redis_server
    assert api.get("/api/v1/health").json()["channel_layer"] == "ok"
    settings.REDIS_URL = "unix:///nonexistent/redis.sock"
    response = api.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded" and response.json()["channel_layer"] == "unavailable"


def test_health_is_503_when_the_database_is_down(api, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr("realtime.api.connection.cursor", refuse)
    response = api.get("/api/v1/health")
    assert response.status_code == 503
    assert response.json()["status"] == "error" and response.json()["database"] == "unavailable"


def test_pipeline_status_shows_runs_breakers_and_data_quality(api):
    _run("dws", RunStatus.FAILED, 3, error="Timed out", failed_count=2, triggered_by="admin@example.org")
    SourceCircuit.objects.create(source="dws", state="open", fail_counter=5, opened_at=timezone.now(),
                                 last_error="Timed out")
    located = ProjectFactory(budget_allocated=None)
    Budget.objects.create(project=located, financial_year="2024/2025", budget_type="Original Budget",
                          amount=Decimal("1"), source="municipal_money")
    ProjectFactory(location=None, municipality=None, budget_allocated=None)
    ProjectFactory(source=Source.DEMO, is_demo=True)
    response = api.get("/api/v1/pipeline/status")
    body = response.json()
    dws = next(s for s in body["sources"] if s["source"] == "dws")
    assert dws["last_run"]["status"] == "failed" and dws["last_run"]["duration_seconds"] == 90
    assert dws["last_run"]["error"] == "Timed out" and dws["last_run"]["failed_count"] == 2
    assert dws["breaker"]["state"] == "open" and dws["breaker"]["cooldown_ends_at"]
    assert b"admin@example.org" not in response.content
    quality = body["data_quality"]
    assert quality == {"projects": 2, "demo_projects": 1, "with_location": 0.5, "with_budget": 0.5,
                       "with_municipality": 0.5}
