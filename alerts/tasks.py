"""django-q2 entry points for email alerts: the minute's pass, and sending one delivery right after a sign-up."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from alerts import delivery
from bukaamanzi.lib.schedules import MINUTES, PlannedSchedule

SCHEDULE_NAME = "alerts: send"


def planned_schedules(now: dt.datetime | None = None) -> list[PlannedSchedule]:
    """Every minute: match new changes, claim what is due, send (the daily digest is claimed after 07:00)."""
    now = now or timezone.now()
    return [PlannedSchedule(name=SCHEDULE_NAME, func="alerts.tasks.send_alerts", schedule_type=MINUTES,
                            minutes=1, next_run=now + dt.timedelta(minutes=1))]


def send_alerts() -> dict[str, int]:
    result = delivery.send_alerts_pass()
    return {"matched": result.matched, "claimed": result.claimed, "sent": result.sent, "failed": result.failed}


def delivery_send(delivery_id: int) -> bool | None:
    """Send one delivery now (a confirmation just asked for); a sender already holding it is left to it."""
    return delivery.delivery_send(delivery_id)
