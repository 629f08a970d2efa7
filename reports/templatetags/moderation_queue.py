"""The moderation queue's figures on the admin index (templates/admin/index.html), for those who moderate."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django import template
from django.urls import reverse
from django.utils.http import urlencode

from reports.admin_queue import ALL_WAITING, QUEUE_PARAMETER
from reports.models import Report, ReportUpdate
from reports.queue import UPDATE_PARTS, Waiting, queue_summary

register = template.Library()


@dataclass(frozen=True)
class QueueLine:
    count: int
    url: str


@dataclass(frozen=True)
class QueueRow:
    label: str
    reports: QueueLine
    updates: QueueLine | None  # updates are never held as first-time senders'


@dataclass(frozen=True)
class QueueFigures:
    rows: list[QueueRow]
    total: int
    oldest: dt.datetime | None
    reports_url: str
    updates_url: str


def _url(model: type[Report] | type[ReportUpdate], part: str) -> str:
    changelist = reverse(f"admin:reports_{model._meta.model_name}_changelist")
    return f"{changelist}?{urlencode({QUEUE_PARAMETER: part})}"


@register.simple_tag(takes_context=True)
def moderation_queue(context: dict[str, Any]) -> QueueFigures | None:
    """What waits in each part of the queue and since when the oldest waits; None for staff who cannot moderate
    reports (they see the index as before, without the two queries)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.has_perm("reports.change_report"):
        return None
    summary = queue_summary()
    return QueueFigures(
        rows=[QueueRow(
            label=str(part.label),
            reports=QueueLine(summary.reports[part.value], _url(Report, part.value)),
            updates=QueueLine(summary.updates[part.value], _url(ReportUpdate, part.value))
            if part in UPDATE_PARTS else None,
        ) for part in Waiting],
        total=summary.total, oldest=summary.oldest,
        reports_url=_url(Report, ALL_WAITING), updates_url=_url(ReportUpdate, ALL_WAITING),
    )
