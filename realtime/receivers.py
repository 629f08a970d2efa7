"""The receivers that connect the layers below to live clients (`RealtimeConfig.ready()` imports this module).

Change-log rows committed (changelog) -> the relay; an ingestion run changed or failed (ingestion) -> the
pipeline page and the `system_error` broadcast. Each receiver is best effort and never raises: what it announces
is already committed.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from changelog.signals import changes_committed
from ingestion.models import IngestionRun
from ingestion.signals import run_changed, run_failed
from realtime import notify, pipeline, relay


@receiver(changes_committed, dispatch_uid="realtime.relay")
def relay_committed_changes(sender: Any, **kwargs: Any) -> None:
    relay.relay_after_commit()


@receiver(run_changed, dispatch_uid="realtime.pipeline")
def push_pipeline_page(sender: Any, **kwargs: Any) -> None:
    pipeline.pipeline_push()


@receiver(run_failed, dispatch_uid="realtime.system_error")
def announce_failed_run(sender: Any, *, run: IngestionRun, **kwargs: Any) -> None:
    notify.system_error_send(source=run.source, message=run.error or run.get_status_display())
