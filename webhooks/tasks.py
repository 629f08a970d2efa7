"""django-q2 entry points for webhooks: the minute's sweep and the pass queued after a change commits."""

from __future__ import annotations

import datetime as dt
import logging
import time

from django.utils import timezone
from django_q.tasks import async_task

from bukaamanzi.lib.schedules import MINUTES, PlannedSchedule
from webhooks import delivery, fanout

logger = logging.getLogger(__name__)

SCHEDULE_NAME = "webhooks: send"
# A retry due this soon (the first, after about 5 s) is waited for in the task rather than left to the next
# minute's sweep; the wait holds one worker for at most this long.
SHORT_WAIT_SECONDS = 15.0


def planned_schedules(now: dt.datetime | None = None) -> list[PlannedSchedule]:
    """Every minute: fan out what the after-commit pass missed, send what is due (retries included)."""
    now = now or timezone.now()
    return [PlannedSchedule(name=SCHEDULE_NAME, func="webhooks.tasks.webhooks_pass", schedule_type=MINUTES,
                            minutes=1, next_run=now + dt.timedelta(minutes=1))]


def webhooks_pass() -> dict[str, int]:
    """Fan out and send, a batch at a time, until nothing is owed within SHORT_WAIT_SECONDS. New changes are fanned
    out between batches, so a change committed during a long pass is not queued behind everything owed before it."""
    made = 0
    total = delivery.PassResult()
    while True:
        made += fanout.fanout_pending()
        result = delivery.deliveries_send(max_batches=1)
        total.sent += result.sent
        total.failed += result.failed
        total.disabled += result.disabled
        if result.sent or result.failed:
            continue
        wait = delivery.next_due_in()
        if wait is None or wait > SHORT_WAIT_SECONDS:
            break
        time.sleep(wait)
    return {"deliveries": made, "sent": total.sent, "failed": total.failed, "disabled": total.disabled}


def queue_pass() -> None:
    """Queue a pass on the cluster (after a commit that wrote changes, a finished run, a replay). Never raises:
    what it announces is committed, and the minute's sweep finds it anyway."""
    try:
        async_task("webhooks.tasks.webhooks_pass", task_name="webhooks pass")
    except Exception:
        logger.exception("Could not queue a webhooks pass; the sweep sends within a minute")
