"""Receivers of what the apps below announce (connected in `RealtimeConfig.ready`): ingestion runs update open
pipeline pages, a failed run is announced as `system_error`, and push failures during a run are told once."""

from __future__ import annotations

from typing import Any

from ingestion.models import IngestionRun, RunStatus
from realtime import outage
from realtime.notify import system_error_send
from realtime.pipeline import pipeline_push


def run_changed(*, run: IngestionRun, **kwargs: Any) -> None:
    if run.status == RunStatus.RUNNING:
        outage.window_open(f"Ingestion run {run.pk} of {run.source}")
    pipeline_push()


def run_finished(*, run: IngestionRun, **kwargs: Any) -> None:
    try:
        pipeline_push()
        if run.status in (RunStatus.FAILED, RunStatus.PARTIAL):
            system_error_send(source=run.source, message=run.error or run.get_status_display())
    finally:
        outage.window_close()
