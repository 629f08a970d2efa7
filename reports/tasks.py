"""django-q2 entry points for reports: dropping drafts nobody published (the form's confirmation step)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from bukaamanzi.lib.schedules import MINUTES, PlannedSchedule
from reports.services import drafts_drop

SCHEDULE_NAME = "reports: drop stale drafts"


def planned_schedules(now: dt.datetime | None = None) -> list[PlannedSchedule]:
    """Every hour: drafts older than a day go, with their photos."""
    now = now or timezone.now()
    return [PlannedSchedule(name=SCHEDULE_NAME, func="reports.tasks.drop_stale_drafts", schedule_type=MINUTES,
                            minutes=60, next_run=now + dt.timedelta(minutes=60))]


def drop_stale_drafts() -> int:
    return drafts_drop()
