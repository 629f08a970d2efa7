"""Connects the layers below to webhooks (`WebhooksConfig.ready()` imports this module).

Change-log rows committed (changelog) or an ingestion run ended (ingestion) -> the fan-out, here in the committing
process (a few queries, as the relay does), and a send pass queued on the django-q2 cluster when it owed anything.
Best effort, never raises: what it announces is committed, and the minute's sweep fans out what this missed.
"""

from __future__ import annotations

import logging
from typing import Any

from django.dispatch import receiver

from changelog.signals import changes_committed
from ingestion.models import IngestionRun, RunStatus
from ingestion.signals import run_finished
from webhooks import fanout, tasks

logger = logging.getLogger(__name__)


def _fan_out() -> None:
    try:
        if fanout.fanout_pending():
            tasks.queue_pass()
    except Exception:
        logger.exception("Webhook fan-out failed; the minute's sweep does it")


@receiver(changes_committed, dispatch_uid="webhooks.fanout")
def changes_to_webhooks(sender: Any, **kwargs: Any) -> None:
    _fan_out()


@receiver(run_finished, dispatch_uid="webhooks.run_failed")
def failed_run_to_webhooks(sender: Any, *, run: IngestionRun, **kwargs: Any) -> None:
    if run.status == RunStatus.FAILED:
        _fan_out()
