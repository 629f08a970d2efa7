"""Connects the layers below to webhooks (`WebhooksConfig.ready()` imports this module).

Change-log rows committed (changelog) or an ingestion run failed (ingestion) -> a webhooks pass queued on the
django-q2 cluster, which fans out and sends. The fan-out runs in the worker, not in the committing process: with
100 subscriptions it writes 100 deliveries a change, which made a committing request ~7x slower on SpatiaLite
(bench/webhooks, README), while queueing costs one insert. Nothing is queued while no subscription is active (the
minute's sweep still marks those changes seen). Best effort, never raises: what it announces is committed.
"""

from __future__ import annotations

import logging
from typing import Any

from django.dispatch import receiver

from changelog.signals import changes_committed
from ingestion.models import IngestionRun, RunStatus
from ingestion.signals import run_finished
from webhooks import tasks
from webhooks.models import Subscription

logger = logging.getLogger(__name__)


def _queue_if_subscribed() -> None:
    try:
        if Subscription.objects.active().exists():
            tasks.queue_pass()
    except Exception:
        logger.exception("Could not queue a webhooks pass; the minute's sweep does it")


@receiver(changes_committed, dispatch_uid="webhooks.fanout")
def changes_to_webhooks(sender: Any, **kwargs: Any) -> None:
    _queue_if_subscribed()


@receiver(run_finished, dispatch_uid="webhooks.run_failed")
def failed_run_to_webhooks(sender: Any, *, run: IngestionRun, **kwargs: Any) -> None:
    if run.status == RunStatus.FAILED:
        _queue_if_subscribed()
