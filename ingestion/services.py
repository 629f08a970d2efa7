"""Ingestion runs: start, queue and execute them; the work of each source is its class (`ingestion/sources/`).

1. **Start**: an `IngestionRun` row is created. The database allows one queued or running run per source
   (a unique constraint), so a second one is recorded as `refused` instead of overlapping. A run whose worker
   died is marked failed first: at once when its process is known to be gone (`ingestion.workers`), otherwise
   once it is older than `INGESTION_STALE_AFTER_SECONDS`.
2. **Execute**: while a source's circuit breaker is open the run is recorded as `skipped` without a request;
   otherwise the source's `run()` harvests, compares and loads (`ingestion.sources.base`). Whatever happens,
   the run is closed with its counts, its report and a plain-words error; failed and partial runs leave the
   data as it was before the batch that failed, and are announced to live clients.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.utils import timezone
from django_q.tasks import async_task

from ingestion import signals
from ingestion.http import SourceUnavailable, breaker_is_open
from ingestion.loader import RunReport
from ingestion.models import IngestionRun, RunStatus
from ingestion.sources.base import KIND_FULL, UnknownSource, source_class
from ingestion.sources.errors import SourceFormatError
from ingestion.workers import fail_abandoned_runs, this_worker

logger = logging.getLogger(__name__)
# How long closing a run waits for the database (a restart takes seconds); then the run is left to the stale check.
CLOSE_PATIENCE_S = 120.0


def _expire_stale_runs(source: str) -> None:
    """A run left queued or running by a worker that died would block its source for ever."""
    fail_abandoned_runs(source)
    limit = timezone.now() - dt.timedelta(seconds=settings.INGESTION_STALE_AFTER_SECONDS)
    IngestionRun.objects.active().of_source(source).filter(created_at__lt=limit).update(
        status=RunStatus.FAILED,
        finished_at=timezone.now(),
        error=f"Abandoned: still active after {settings.INGESTION_STALE_AFTER_SECONDS} s (its worker stopped).",
    )


def ingestion_start_run(
    *, source: str, kind: str = KIND_FULL, triggered_by: str = "", status: str = RunStatus.RUNNING
) -> IngestionRun:
    """Create a queued or running run, or a `refused` one when another run of the source is active."""
    found = source_class(source)
    if kind not in found.kinds:
        raise UnknownSource("kind", f"Unknown kind {kind!r} for {found.name}: use one of {', '.join(found.kinds)}.")
    _expire_stale_runs(found.name)
    now = timezone.now()
    # A run started running is run by this process; a queued one records its worker when a worker claims it.
    worker = this_worker().fields() if status == RunStatus.RUNNING else {}
    try:
        with transaction.atomic():
            run = IngestionRun.objects.create(
                source=found.name, kind=kind, status=status, triggered_by=triggered_by[:150],
                started_at=now if status == RunStatus.RUNNING else None, **worker,
            )
    except IntegrityError:
        active = IngestionRun.objects.active().of_source(found.name).first()
        what = f"run {active.pk} ({active.status}, {active.kind})" if active else "another run"
        run = IngestionRun.objects.create(
            source=found.name, kind=kind, status=RunStatus.REFUSED, triggered_by=triggered_by[:150],
            started_at=now, finished_at=now, error=f"Refused: {what} of {found.name} is under way.",
        )
    _announce_run_change(run)
    return run


def ingestion_queue_run(*, source: str, triggered_by: str, kind: str = KIND_FULL) -> IngestionRun:
    """Queue a run of one source on the django-q2 cluster; returns the run (status `queued`, or `refused`)."""
    run = ingestion_start_run(source=source, kind=kind, triggered_by=triggered_by, status=RunStatus.QUEUED)
    if run.status == RunStatus.QUEUED:
        # After commit: the worker must find the run row when it picks the task up.
        transaction.on_commit(
            lambda: async_task("ingestion.tasks.ingestion_task", run.pk, task_name=f"ingest {run.source} #{run.pk}")
        )
    return run


def ingestion_execute_run(*, run_id: int, from_path: Path | None = None, force: bool = False) -> IngestionRun:
    """Run a queued run (the task entry point). A run that is not queued any more is left as it is."""
    claimed = IngestionRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
        status=RunStatus.RUNNING, started_at=timezone.now(), **this_worker().fields()
    )
    run = IngestionRun.objects.get(pk=run_id)
    if not claimed:
        logger.warning("Ingestion run %s is %s, not queued: not run again", run_id, run.status)
        return run
    _announce_run_change(run)
    return _execute(run, from_path=from_path, force=force)


def ingestion_run_now(
    *, source: str, kind: str = KIND_FULL, triggered_by: str = "", from_path: Path | None = None, force: bool = False
) -> IngestionRun:
    """Run one source in this process (the `ingest` command, schedules); refused if another run of it is active."""
    run = ingestion_start_run(source=source, kind=kind, triggered_by=triggered_by, status=RunStatus.RUNNING)
    if run.status == RunStatus.REFUSED:
        return run
    return _execute(run, from_path=from_path, force=force)


def _execute(run: IngestionRun, *, from_path: Path | None, force: bool) -> IngestionRun:
    report = RunReport()
    status, error, follow_up = RunStatus.SUCCESS, "", None
    try:
        if from_path is None and breaker_is_open(run.source):
            status = RunStatus.SKIPPED
            error = f"{run.source} is failing: its circuit breaker is open; no request was made."
        else:
            source = source_class(run.source)(run, report, from_path=from_path, force=force)
            status, error = source.run()
            follow_up = source.follow_up_kind() if status == RunStatus.SUCCESS else None
    except SourceFormatError as exc:
        status, error = RunStatus.FAILED, f"The source's format was not recognised: {exc}. Nothing was written."
    except SourceUnavailable as exc:
        status, error = RunStatus.FAILED, f"The source could not be fetched: {exc}. Nothing was written."
    except (OperationalError, InterfaceError) as exc:
        # The database stopped, restarted or dropped the run's session (issue 18). Each batch is one transaction,
        # so the one in flight left nothing; the data source's fingerprint is not recorded as loaded, so the next
        # run loads all of it again.
        logger.warning("Ingestion run %s of %s: database error", run.pk, run.source, exc_info=True)
        status, error = RunStatus.FAILED, (
            f"The database failed during the run: {exc}. Nothing of the batch in flight was written; "
            "the next run loads what this one did not."
        )
    except Exception as exc:  # a run must always be closed and reported, whatever went wrong
        logger.exception("Ingestion run %s of %s failed", run.pk, run.source)
        status, error = RunStatus.FAILED, f"Unexpected error: {type(exc).__name__}: {exc}"

    run.status = status
    run.error = error
    run.finished_at = timezone.now()
    run.created_count, run.updated_count = report.created, report.updated
    run.unchanged_count, run.failed_count = report.unchanged, report.failed
    run.report = report.as_json()
    _save_closed_run(run)
    transaction.on_commit(lambda: signals.run_finished.send(sender=IngestionRun, run=run))
    if follow_up:
        what = run.kind.replace("_", " ")
        ingestion_queue_run(source=run.source, kind=follow_up, triggered_by=f"{what} run {run.pk}")
    return run


def _save_closed_run(run: IngestionRun) -> None:
    """Closing a run waits out a short database outage: the cluster's worker outlives one (bukaamanzi/lib/q2broker.py)
    and so stays alive, so a run left `running` would not count as abandoned until INGESTION_STALE_AFTER_SECONDS."""
    deadline = time.monotonic() + CLOSE_PATIENCE_S
    while True:
        try:
            run.save()
            return
        except (OperationalError, InterfaceError):
            if connection.in_atomic_block or time.monotonic() > deadline:
                raise
            logger.warning("Ingestion run %s: the database is not answering; closing it again in 2 s", run.pk)
            connection.close()
            time.sleep(2)


def _announce_run_change(run: IngestionRun) -> None:
    """Open pipeline status pages show the run's new state: after commit (at once outside a transaction), so
    what is announced is what is committed."""
    transaction.on_commit(lambda: signals.run_changed.send(sender=IngestionRun, run=run))
