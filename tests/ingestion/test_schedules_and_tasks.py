"""Schedules upserted by name, and ingestion tasks run through django-q2 (in process, and by a real qcluster)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection
from django_q.models import Schedule

from bukaamanzi.schedules import planned_schedules
from ingestion.models import IngestionRun, RunStatus
from ingestion.services import ingestion_queue_run
from projects.models import Project
from tests.ingestion.pipeline_support import SourceServer, source_server, treasury_routes

__all__ = ["source_server"]
SAST = ZoneInfo("Africa/Johannesburg")
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_setup_schedules_twice_keeps_one_schedule_of_each_name():
    call_command("setup_schedules")
    first = {s.name: (s.pk, s.next_run) for s in Schedule.objects.all()}
    call_command("setup_schedules")

    assert Schedule.objects.count() == 8  # ingestion runs (3), relay sweep, alerts' pass, stale drafts, nightly backup,
    # webhooks
    assert {s.name: (s.pk, s.next_run) for s in Schedule.objects.all()} == first  # unchanged, not pushed back
    daily = Schedule.objects.get(name="ingest treasury daily")
    assert daily.schedule_type == Schedule.DAILY and daily.func == "ingestion.tasks.scheduled_ingestion"
    assert daily.next_run.astimezone(SAST).time() == dt.time(2, 0)
    check = Schedule.objects.get(name="ingest dws change check")
    assert (check.schedule_type, check.minutes) == (Schedule.MINUTES, 5)
    assert Schedule.objects.get(name="ingest dws full sync").minutes == 60
    sweep = Schedule.objects.get(name="realtime: relay sweep")
    assert (sweep.func, sweep.minutes) == ("realtime.tasks.relay_sweep", 1)
    alerts = Schedule.objects.get(name="alerts: send")
    assert (alerts.func, alerts.schedule_type, alerts.minutes) == ("alerts.tasks.send_alerts", Schedule.MINUTES, 1)
    drafts = Schedule.objects.get(name="reports: drop stale drafts")
    assert (drafts.func, drafts.minutes) == ("reports.tasks.drop_stale_drafts", 60)


@pytest.mark.django_db
def test_a_changed_setting_updates_the_schedule_of_that_name(settings):
    call_command("setup_schedules")
    settings.SCHEDULE_DWS_CHECK_MINUTES = 15

    call_command("setup_schedules")

    assert Schedule.objects.filter(name="ingest dws change check").get().minutes == 15
    assert Schedule.objects.count() == 8  # ingestion runs (3), relay sweep, alerts' pass, stale drafts, nightly backup,
    # webhooks


def test_the_daily_run_is_anchored_at_two_in_the_morning_south_african_time():
    now = dt.datetime(2026, 3, 1, 1, 30, tzinfo=SAST)

    daily = planned_schedules(now)[0]

    assert daily.next_run == dt.datetime(2026, 3, 1, 2, 0, tzinfo=SAST)
    assert planned_schedules(now.replace(hour=3))[0].next_run == dt.datetime(2026, 3, 2, 2, 0, tzinfo=SAST)


@pytest.mark.django_db
def test_a_queued_run_is_executed_by_the_django_q_task(
    source_server: SourceServer, monkeypatch, django_capture_on_commit_callbacks
):
    from django_q.conf import Conf
    from django_q.models import Task

    monkeypatch.setattr(Conf, "SYNC", True)
    treasury_routes(source_server)

    with django_capture_on_commit_callbacks(execute=True):
        run = ingestion_queue_run(source="municipal_money", triggered_by="test")

    run.refresh_from_db()
    assert run.status == RunStatus.SUCCESS
    assert Task.objects.filter(func="ingestion.tasks.ingestion_task", success=True).exists()


@pytest.mark.django_db
def test_a_scheduled_task_runs_the_source_and_respects_an_active_run(source_server: SourceServer):
    from ingestion.tasks import scheduled_ingestion

    treasury_routes(source_server)
    IngestionRun.objects.create(source="municipal_money", status=RunStatus.RUNNING)

    assert "refused" in scheduled_ingestion("municipal_money")
    assert source_server.hits("/api/geography/geography/") == 0


@pytest.mark.django_db(transaction=True)
def test_a_real_qcluster_process_picks_up_a_queued_run(source_server: SourceServer, settings):
    """django-q2's own cluster (a separate process, ORM broker) runs the task against the same database."""
    if connection.vendor != "postgresql":
        pytest.skip("the in-memory SpatiaLite test database cannot be shared with another process")
    treasury_routes(source_server)
    # The same server as this test run, but the test database pytest-django created.
    url = urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{connection.settings_dict['NAME']}").geturl()
    run = ingestion_queue_run(source="municipal_money", triggered_by="qcluster test")  # no atomic block: enqueued now
    environment = {
        **os.environ,
        "DATABASE_URL": url,
        "CHANNEL_LAYER": "memory",
        "MUNICIPAL_MONEY_URL": source_server.url,
        "MUNICIPAL_DATA_URL": source_server.url,
        "TREASURY_PAGE_SIZE": "5",
        "TREASURY_CAPITAL_YEARS": "2023",
        "HTTP_RETRIES": "0",
        "Q_WORKERS": "1",
    }
    cluster = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=environment,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            run.refresh_from_db()
            if run.status not in (RunStatus.QUEUED, RunStatus.RUNNING):
                break
            time.sleep(0.5)
    finally:
        cluster.terminate()
        try:
            _, errors = cluster.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            cluster.kill()
            _, errors = cluster.communicate()
    assert run.status == RunStatus.SUCCESS, (run.status, run.error, errors.decode()[:6000])
    assert Project.objects.filter(source="municipal_money").count() == 5
