"""The receivers that connect the layers below to live clients (`RealtimeConfig.ready()` imports this module).

Change-log rows committed (changelog) -> the relay; an ingestion run changed or ended (ingestion) -> the
pipeline page, the `system_error` broadcast for a failed run, and one line if pushes failed during the run
(`realtime/outage.py`). Each receiver is best effort and never raises: what it announces is already committed.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from changelog.signals import changes_committed
from ingestion.models import IngestionRun, RunStatus
from ingestion.signals import run_changed, run_finished
from realtime import notify, outage, pipeline, relay


@receiver(changes_committed, dispatch_uid="realtime.relay")
def relay_committed_changes(sender: Any, **kwargs: Any) -> None:
    relay.relay_after_commit()


@receiver(run_changed, dispatch_uid="realtime.run_changed")
def run_state_changed(sender: Any, *, run: IngestionRun, **kwargs: Any) -> None:
    if run.status == RunStatus.RUNNING:
        outage.window_open(f"Ingestion run {run.pk} of {run.source}")
    pipeline.pipeline_push()


@receiver(run_finished, dispatch_uid="realtime.run_finished")
def run_ended(sender: Any, *, run: IngestionRun, **kwargs: Any) -> None:
    try:
        pipeline.pipeline_push()
        if run.status in (RunStatus.FAILED, RunStatus.PARTIAL):
            notify.system_error_send(source=run.source, message=run.error or run.get_status_display())
    finally:
        outage.window_close()
