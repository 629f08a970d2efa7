"""The site's schedules, declared in code and upserted by name (`manage.py setup_schedules`): the ingestion runs
and the relay's sweep of change-log rows left unsent while Redis was unreachable.

Times are Africa/Johannesburg (SAST). django-q2 repeats a schedule from its `next_run`, so the daily run is
anchored at the next `SCHEDULE_TREASURY_DAILY_AT`; the DWS schedules repeat every N minutes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django_q.models import Schedule

TASK = "ingestion.tasks.scheduled_ingestion"
# The relay's sweep is named here with the other schedules; its task is named by its dotted path (django-q2
# resolves it in the worker), so this module imports nothing of realtime, which sits above ingestion.
SWEEP_SCHEDULE_NAME = "realtime: relay sweep"
SWEEP_TASK = "realtime.tasks.relay_sweep"


@dataclass(frozen=True)
class Planned:
    name: str
    kwargs: dict[str, str]
    schedule_type: str
    minutes: int | None
    next_run: dt.datetime
    func: str = TASK


def _next_daily(at: str, now: dt.datetime) -> dt.datetime:
    try:
        hour, minute = (int(part) for part in at.split(":"))
        wanted = dt.time(hour, minute)
    except ValueError as error:
        raise ImproperlyConfigured(f"SCHEDULE_TREASURY_DAILY_AT must be HH:MM, not {at!r}") from error
    local = timezone.localtime(now)
    candidate = local.replace(hour=wanted.hour, minute=wanted.minute, second=0, microsecond=0)
    return candidate if candidate > local else candidate + dt.timedelta(days=1)


def planned_schedules(now: dt.datetime | None = None) -> list[Planned]:
    now = now or timezone.now()
    for name in ("SCHEDULE_DWS_CHECK_MINUTES", "SCHEDULE_DWS_FULL_MINUTES"):
        if getattr(settings, name) < 1:
            raise ImproperlyConfigured(f"{name} must be at least 1 minute")
    return [
        Planned("ingest treasury daily", {"source": "treasury", "kind": "full"}, Schedule.DAILY, None,
                _next_daily(settings.SCHEDULE_TREASURY_DAILY_AT, now)),
        Planned("ingest dws change check", {"source": "dws", "kind": "change_check"}, Schedule.MINUTES,
                settings.SCHEDULE_DWS_CHECK_MINUTES, now + dt.timedelta(minutes=1)),
        Planned("ingest dws full sync", {"source": "dws", "kind": "full"}, Schedule.MINUTES,
                settings.SCHEDULE_DWS_FULL_MINUTES, now + dt.timedelta(minutes=settings.SCHEDULE_DWS_FULL_MINUTES)),
        Planned(SWEEP_SCHEDULE_NAME, {}, Schedule.MINUTES, 1, now + dt.timedelta(minutes=1),
                func=SWEEP_TASK),
    ]


def schedules_upsert() -> dict[str, str]:
    """Create or update each schedule by name; returns name -> "created" | "updated" | "unchanged".

    An unchanged schedule keeps its `next_run`, so running this on every start does not push runs back.
    """
    results = {}
    for plan in planned_schedules():
        wanted: dict[str, Any] = {
            "func": plan.func, "kwargs": repr(plan.kwargs),  # django-q2 reads it with ast.literal_eval
            "schedule_type": plan.schedule_type, "minutes": plan.minutes,
            "repeats": -1,
        }
        schedule = Schedule.objects.filter(name=plan.name).order_by("pk").first()
        if schedule is None:
            Schedule.objects.create(name=plan.name, next_run=plan.next_run, **wanted)
            results[plan.name] = "created"
            continue
        Schedule.objects.filter(name=plan.name).exclude(pk=schedule.pk).delete()
        if all(getattr(schedule, key) == value for key, value in wanted.items()):
            results[plan.name] = "unchanged"
            continue
        for key, value in wanted.items():
            setattr(schedule, key, value)
        schedule.next_run = plan.next_run
        schedule.save()
        results[plan.name] = "updated"
    return results
