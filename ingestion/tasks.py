"""django-q2 entry points: tiny on purpose, the work is in `ingestion.services`."""

from __future__ import annotations

from ingestion.services import ingestion_execute_run, ingestion_run_now
from ingestion.sources.base import KIND_FULL


def ingestion_task(run_id: int) -> str:
    """Run a queued ingestion run (queued by `ingestion_queue_run`)."""
    run = ingestion_execute_run(run_id=run_id)
    return f"{run.source} {run.kind}: {run.status}"


def scheduled_ingestion(source: str, kind: str = KIND_FULL) -> str:
    """What a schedule calls: run now in the worker (refused, and recorded so, if one is under way)."""
    run = ingestion_run_now(source=source, kind=kind, triggered_by="schedule")
    return f"{run.source} {run.kind}: run {run.pk} {run.status}"
