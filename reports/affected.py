"""'This affects me too': one tap on a report or a project, counted once per browser and per address a day.

No account: the browser is its session and the address is the client's; both are kept only as keyed hashes.
The unique constraints on `Affected` decide what counts (two taps at once: one wins, the other is told it was
already counted), and the count on the report or project moves in the same transaction, with a change-log
row, so open pages update live and the API, feeds and exports show it.

A tap on a duplicate counts on its original: the problem is one, and so are the people it affects.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from changelog.models import ChangeSource, ChangeType, EntityType
from changelog.services import change_log_record
from projects.models import Project
from reports.keys import address_key
from reports.models import Affected, Report, ReportState
from reports.services import log_report_change


def browser_key(session_key: str) -> str:
    """The browser's session as stored. The same hash the old up/down votes stored, so a browser that voted a
    report up (migrated to "affected too") is not counted twice."""
    return hashlib.sha256(f"{settings.SECRET_KEY}:vote:{session_key}".encode()).hexdigest()


class AlreadyAffected(Exception):
    """This browser, or this address today, has already said so about this report or project."""


@dataclass(frozen=True)
class AffectedCount:
    report: Report | None
    project: Project | None
    count: int


def _counted_report(report: Report) -> Report:
    if report.state == ReportState.DUPLICATE and report.duplicate_of_id is not None:
        return Report.objects.select_related("project").get(pk=report.duplicate_of_id)
    return report


def affected_add(*, report: Report | None = None, project: Project | None = None, session_key: str = "",
                 address: str) -> AffectedCount:
    """Count one more resident affected by the report (or its original) or the project; AlreadyAffected when
    this browser or this address today already counted."""
    if (report is None) == (project is None):
        raise ValueError("Say who is affected by a report or by a project, not both")
    report = _counted_report(report) if report is not None else None
    try:
        with transaction.atomic():
            Affected.objects.create(report=report, project=project, day=timezone.localdate(),
                                    browser_key=browser_key(session_key) if session_key else "",
                                    address_key=address_key(address))
            if report is not None:
                Report.objects.filter(pk=report.pk).update(affected_count=F("affected_count") + 1)
                report.refresh_from_db(fields=["affected_count"])
                log_report_change(report, ChangeType.UPDATED, ChangeSource.COMMUNITY_REPORT,
                                  old={"affected_count": report.affected_count - 1},
                                  new={"affected_count": report.affected_count})
                return AffectedCount(report=report, project=None, count=report.affected_count)
            assert project is not None
            Project.objects.filter(pk=project.pk).update(affected_count=F("affected_count") + 1)
            project.refresh_from_db(fields=["affected_count"])
            change_log_record(entity_type=EntityType.PROJECT, entity_id=project.pk, change_type=ChangeType.UPDATED,
                              source=ChangeSource.COMMUNITY_REPORT,
                              old_values={"affected_count": project.affected_count - 1},
                              new_values={"affected_count": project.affected_count},
                              municipality_code=project.municipality_code, project=project)
            return AffectedCount(report=None, project=project, count=project.affected_count)
    except IntegrityError as exc:
        raise AlreadyAffected from exc
