"""Ingestion runs for tests of what reads them (status pages, health), made through the run service so that
the source names and states are the ones real runs store."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.core.management import call_command
from django.utils import timezone

from ingestion.models import IngestionRun
from ingestion.services import ingestion_start_run
from tests.ingestion.pipeline_support import FIXTURES

TREASURY_FILES = ("geography.json", "projects_page1.json", "projects_page2.json", "capital_v2_aggregate.json")


def finished_run(source: str, status: str, *, minutes_ago: float = 5, seconds: float = 90,
                 **outcome: object) -> IngestionRun:
    """A run started by `ingestion_start_run` and closed as the run service closes one, `minutes_ago` and
    `seconds` long, with the given status, counts, error or report."""
    run = ingestion_start_run(source=source, triggered_by=str(outcome.pop("triggered_by", "test")))
    finished = timezone.now() - dt.timedelta(minutes=minutes_ago)
    IngestionRun.objects.filter(pk=run.pk).update(
        status=status, started_at=finished - dt.timedelta(seconds=seconds), finished_at=finished, **outcome
    )
    run.refresh_from_db()
    return run


def treasury_saved_responses(directory: Path) -> Path:
    for name in TREASURY_FILES:
        (directory / name).write_bytes((FIXTURES / "municipal_money" / name).read_bytes())
    return directory


def ingest_from_files(source: str, directory: Path, *extra: str) -> None:
    call_command("ingest", source, "--from-file", str(directory), *extra)
