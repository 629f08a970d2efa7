"""Every schedule of the site, upserted into django-q2 by name (`manage.py setup_schedules`, run by `make run`).

The schedules are declared where their work lives (each ingestion source, the relay's sweep, the backups); this wiring
module only collects them. An unchanged schedule keeps its `next_run`, so running this on every start does not
push runs back; a schedule of ours that is no longer declared (a source removed or renamed) is deleted.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django_q.models import Schedule

from alerts import tasks as alerts_tasks
from bukaamanzi import backups
from bukaamanzi.lib.schedules import PlannedSchedule
from ingestion import schedules as ingestion_schedules
from realtime import tasks as realtime_tasks
from reports import tasks as reports_tasks
from webhooks import tasks as webhooks_tasks


def planned_schedules(now: dt.datetime | None = None) -> list[PlannedSchedule]:
    return [*ingestion_schedules.planned_schedules(now), *realtime_tasks.planned_schedules(now),
            *alerts_tasks.planned_schedules(now), *reports_tasks.planned_schedules(now),
            *backups.planned_schedules(now),
            *webhooks_tasks.planned_schedules(now)]


def schedules_upsert() -> dict[str, str]:
    """Create or update each schedule by name; returns name -> "created" | "updated" | "unchanged" | "removed"."""
    results: dict[str, str] = {}
    planned = planned_schedules()
    for plan in planned:
        wanted: dict[str, Any] = {
            "func": plan.func, "kwargs": repr(plan.kwargs),  # django-q2 reads it with ast.literal_eval
            "schedule_type": plan.schedule_type, "minutes": plan.minutes, "repeats": -1,
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
    # Only schedules running our own tasks are ours to remove; others (made in the admin) are left alone.
    ours = {plan.func for plan in planned} | {ingestion_schedules.SCHEDULED_TASK}
    undeclared = Schedule.objects.filter(func__in=ours).exclude(name__in=[plan.name for plan in planned])
    removed = list(undeclared.values_list("name", flat=True))
    undeclared.filter(name__in=removed).delete()
    results.update(dict.fromkeys(removed, "removed"))
    return results
