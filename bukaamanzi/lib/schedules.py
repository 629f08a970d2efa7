"""A schedule as the code declares it: the sources and the relay each declare theirs, and
`manage.py setup_schedules` upserts them all by name into django-q2 (`bukaamanzi/schedules.py`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

DAILY = "D"  # django-q2's Schedule.DAILY and Schedule.MINUTES codes, named here so declaring needs no model
MINUTES = "I"


@dataclass(frozen=True)
class PlannedSchedule:
    name: str  # the key it is upserted by: never rename one without removing the old (setup does)
    func: str  # dotted path of the task
    schedule_type: str
    next_run: dt.datetime
    minutes: int | None = None
    kwargs: dict[str, str] = field(default_factory=dict)


def next_daily(at: str, now: dt.datetime, *, setting: str) -> dt.datetime:
    """The next `at` ("HH:MM", South African time) after `now`; `setting` names the variable in errors."""
    try:
        hour, minute = (int(part) for part in at.split(":"))
        wanted = dt.time(hour, minute)
    except ValueError as error:
        raise ImproperlyConfigured(f"{setting} must be HH:MM, not {at!r}") from error
    local = timezone.localtime(now)
    candidate = local.replace(hour=wanted.hour, minute=wanted.minute, second=0, microsecond=0)
    return candidate if candidate > local else candidate + dt.timedelta(days=1)


def every_minutes(minutes: int, *, setting: str) -> int:
    if minutes < 1:
        raise ImproperlyConfigured(f"{setting} must be at least 1 minute")
    return minutes
