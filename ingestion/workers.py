"""Which process runs an ingestion run, and whether it is still alive.

A run records its worker (host name, pid, and the process's start time from /proc, since a pid is reused once the
process is gone) and a heartbeat it refreshes as it works. A run is abandoned when:

- its worker was on this host (the same host name and pid namespace: containers on the host network share the
  host's name but not its pids) and that process is gone (or the pid now belongs to another process): exact and
  immediate, the case of a django-q2 cluster or `manage.py ingest` killed on the one machine the site runs on;
- its worker was on another host (or /proc is not available) and its heartbeat is older than
  INGESTION_HEARTBEAT_STALE_SECONDS: a pid means nothing across machines, a heartbeat does.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from ingestion.models import IngestionRun, RunStatus

PROC = Path("/proc")
logger = logging.getLogger(__name__)


def process_start_time(pid: int) -> int | None:
    """The process's start time in clock ticks after boot (field 22 of /proc/<pid>/stat), None if it is gone."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces: count fields after the last ")".
    return int(stat.rsplit(")", 1)[1].split()[19])


def host_identity() -> str:
    """The host name, with the pid namespace when /proc tells it: a pid is only meaningful within its namespace."""
    try:
        namespace = os.readlink("/proc/self/ns/pid")  # "pid:[4026531836]"
    except OSError:
        return socket.gethostname()
    return f"{socket.gethostname()} {namespace}"


@dataclass(frozen=True)
class Worker:
    host: str
    pid: int
    started: int | None

    def fields(self) -> dict[str, object]:
        return {"worker_host": self.host, "worker_pid": self.pid, "worker_started": self.started,
                "heartbeat_at": timezone.now()}


def this_worker() -> Worker:
    pid = os.getpid()
    return Worker(host=host_identity(), pid=pid, started=process_start_time(pid))


def heartbeat(run: IngestionRun) -> None:
    """The run is still being worked on (one UPDATE, outside any batch's transaction when called between them)."""
    IngestionRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(heartbeat_at=timezone.now())


def why_abandoned(run: IngestionRun, *, here: str, now: dt.datetime) -> str | None:
    """Why a running run's worker is known to be gone, or None while it may be alive (or was never recorded)."""
    if run.worker_pid is None:
        return None
    if run.worker_host == here and PROC.is_dir():
        started = process_start_time(run.worker_pid)
        if started is None:
            return f"process {run.worker_pid} on {here} is gone"
        if run.worker_started is not None and started != run.worker_started:
            return f"process {run.worker_pid} on {here} is gone (its pid now belongs to another process)"
        return None
    window = settings.INGESTION_HEARTBEAT_STALE_SECONDS
    if run.heartbeat_at is None or run.heartbeat_at < now - dt.timedelta(seconds=window):
        return f"no sign of life from {run.worker_host or 'its host'} for more than {window} s"
    return None


def fail_abandoned_runs(source: str | None = None) -> list[int]:
    """Mark failed the running runs (of one source, or all) whose worker is gone; returns their ids."""
    here, now = host_identity(), timezone.now()
    runs = IngestionRun.objects.filter(status=RunStatus.RUNNING, worker_pid__isnull=False)
    if source is not None:
        runs = runs.of_source(source)
    failed = []
    for run in runs:
        reason = why_abandoned(run, here=here, now=now)
        if reason is None:
            continue
        # Conditional on the same worker and status: a run that finished meanwhile is left as it is.
        if IngestionRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING, worker_pid=run.worker_pid).update(
            status=RunStatus.FAILED, finished_at=now, error=f"Abandoned: its worker stopped ({reason})."
        ):
            failed.append(run.pk)
    return failed


def on_cluster_spawn(sender: object, proc_name: str = "", **kwargs: object) -> None:
    """django-q2's `post_spawn`, sent in each worker it starts: a cluster starting again after a kill fails the
    runs its killed workers left, without waiting for the next run of their source. Never stops the worker."""
    try:
        failed = fail_abandoned_runs()
    except Exception:  # the database may be away; the next run of the source checks again
        logger.warning("Could not check for abandoned ingestion runs at %s's start", proc_name, exc_info=True)
        return
    if failed:
        logger.warning("Ingestion runs %s were abandoned by a stopped worker: marked failed", failed)
