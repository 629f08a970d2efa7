"""The ingestion schedules: each registered source declares its own (`IngestionSource.schedules`); this
collects them for `manage.py setup_schedules`. Times are Africa/Johannesburg (SAST)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from bukaamanzi.lib.schedules import PlannedSchedule
from ingestion.sources.base import SCHEDULED_TASK, registered_sources

__all__ = ["SCHEDULED_TASK", "planned_schedules"]


def planned_schedules(now: dt.datetime | None = None) -> list[PlannedSchedule]:
    now = now or timezone.now()
    return [planned for source in registered_sources() for planned in source.schedules(now)]
