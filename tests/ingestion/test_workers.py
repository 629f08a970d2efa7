"""ingestion.workers: which runs are abandoned. Same host: the recorded process (pid and start time) is checked;
another host: the heartbeat. The cluster's start (django-q2's post_spawn) fails what its killed workers left."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest
from django.utils import timezone
from django_q.signals import post_spawn

from ingestion.models import IngestionRun, RunStatus
from ingestion.services import ingestion_start_run
from ingestion.workers import fail_abandoned_runs, process_start_time, this_worker

pytestmark = pytest.mark.django_db


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _running(**worker: object) -> IngestionRun:
    return IngestionRun.objects.create(source="dws", status=RunStatus.RUNNING, started_at=timezone.now(), **worker)


def test_a_run_started_here_records_this_process_and_is_alive() -> None:
    run = ingestion_start_run(source="dws", triggered_by="test")
    me = this_worker()
    assert (run.worker_host, run.worker_pid, run.worker_started) == (me.host, os.getpid(), process_start_time(me.pid))
    assert run.heartbeat_at is not None
    assert fail_abandoned_runs("dws") == []


def test_a_run_whose_process_is_gone_is_failed_and_the_next_run_proceeds() -> None:
    me = this_worker()
    gone = _running(worker_host=me.host, worker_pid=_dead_pid(), worker_started=1, heartbeat_at=timezone.now())

    following = ingestion_start_run(source="dws", triggered_by="test")

    gone.refresh_from_db()
    assert gone.status == RunStatus.FAILED and gone.error.startswith("Abandoned: its worker stopped (process ")
    assert following.status == RunStatus.RUNNING


def test_a_reused_pid_is_not_taken_for_the_worker() -> None:
    me = this_worker()
    assert me.started is not None
    reused = _running(worker_host=me.host, worker_pid=me.pid, worker_started=me.started - 1,
                      heartbeat_at=timezone.now())
    assert fail_abandoned_runs() == [reused.pk]
    reused.refresh_from_db()
    assert "belongs to another process" in reused.error


def test_on_another_host_the_heartbeat_decides(settings: pytest.FixtureRequest) -> None:
    settings.INGESTION_HEARTBEAT_STALE_SECONDS = 60
    alive = _running(worker_host="elsewhere", worker_pid=1, heartbeat_at=timezone.now() - dt.timedelta(seconds=30))
    assert fail_abandoned_runs() == []
    IngestionRun.objects.filter(pk=alive.pk).update(heartbeat_at=timezone.now() - dt.timedelta(seconds=61))
    assert fail_abandoned_runs() == [alive.pk]


def test_a_run_without_a_recorded_worker_is_left_to_the_age_rule() -> None:
    _running()
    assert fail_abandoned_runs() == []


def test_the_cluster_start_fails_runs_of_every_source_left_by_a_killed_worker() -> None:
    me = this_worker()
    gone = _running(worker_host=me.host, worker_pid=_dead_pid(), worker_started=1)
    post_spawn.send(sender="django_q", proc_name="Worker-1")
    gone.refresh_from_db()
    assert gone.status == RunStatus.FAILED


def test_the_same_host_name_in_another_pid_namespace_is_judged_by_its_heartbeat() -> None:
    # Containers on the host network share its name, not its pids: a pid from there says nothing here.
    me = this_worker()
    other = _running(worker_host=me.host.split()[0] + " pid:[1]", worker_pid=_dead_pid(), worker_started=1,
                     heartbeat_at=timezone.now())
    assert fail_abandoned_runs() == []
    other.refresh_from_db()
    assert other.status == RunStatus.RUNNING
