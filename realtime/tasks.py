"""django-q2 entry points for live updates: the relay sweep, and a tiny change used by end-to-end checks."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from bukaamanzi.lib.schedules import MINUTES, PlannedSchedule
from changelog.models import ChangeSource, ChangeType, EntityType
from changelog.services import change_log_record
from projects.models import Project
from realtime import relay

SWEEP_SCHEDULE_NAME = "realtime: relay sweep"


def planned_schedules(now: dt.datetime | None = None) -> list[PlannedSchedule]:
    """Every minute: send change-log rows left unsent while the channel layer was unreachable."""
    now = now or timezone.now()
    return [PlannedSchedule(name=SWEEP_SCHEDULE_NAME, func="realtime.tasks.relay_sweep", schedule_type=MINUTES,
                            minutes=1, next_run=now + dt.timedelta(minutes=1))]


def relay_sweep() -> int:
    """Send change-log rows still unsent (made while the channel layer was down). Scheduled every minute."""
    return relay.relay_pending()


def project_progress_set(project_id: str, progress: str) -> str:
    """Set a project's progress through the project service path (model row and change-log row in one
    transaction), so the relay runs on commit inside the worker. Used by the end-to-end test and the bench."""
    with transaction.atomic():
        project = Project.objects.select_for_update(of=("self",)).select_related("municipality").get(pk=project_id)
        old = project.progress_percentage
        project.progress_percentage = Decimal(progress)
        project.save(update_fields=["progress_percentage", "updated_at"])
        change_log_record(
            entity_type=EntityType.PROJECT,
            entity_id=project.pk,
            change_type=ChangeType.UPDATED,
            source=ChangeSource.ADMIN_ACTION,
            old_values={"progress_percentage": old},
            new_values={"progress_percentage": project.progress_percentage},
            municipality_code=project.municipality_code,
            project=project,
        )
    return str(project.pk)
