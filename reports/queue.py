"""The moderation queue: which reports and updates wait for a moderator, why, and since when. Defined once here and
read by the admin's queue (`reports.admin_queue`), the figures on the admin index and the alert sender
(`alerts.delivery` holds back what `held_first_time` says).

An item waits when
- **flagged**: it is public and residents flagged it since its last review (an active flag, that is one not
  cleared, newer than `reviewed_at`, or any active flag when it was never reviewed);
- **hidden automatically**: it is hidden (status flagged) and no moderator has looked since: never reviewed (the
  automatic hide of `reports.flags` leaves `reviewed_at` empty), or flagged again since the last review;
- **held** (reports only): a first-time sender's report within `ALERT_NEW_SENDER_HOLD_MINUTES`, not reviewed: no
  earlier report from the same email is published. Alerts hold it back until then.

Every moderation action sets `reviewed_at` (and "publish again" clears the flags), so an item leaves the queue once a
moderator acts on it; flags that arrive after the review put it back. An item waits since its first active flag
after the last review, or since it was sent (held, or hidden without flags).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextChoices,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reports.models import Flag, Report, ReportStatus, ReportUpdate

# Before any review: every active flag counts.
_NEVER = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

Item = TypeVar("Item", Report, ReportUpdate)


class Waiting(TextChoices):
    """The parts of the queue (the value is the admin filter's parameter)."""

    FLAGGED = "flagged", _("Flagged by residents")
    HIDDEN = "hidden", _("Hidden automatically")
    HELD = "held", _("First-time sender, held")


UPDATE_PARTS = (Waiting.FLAGGED, Waiting.HIDDEN)


def _target(model: type[Report] | type[ReportUpdate]) -> str:
    return "report" if model is Report else "update"


def flags_since_review(model: type[Report] | type[ReportUpdate]) -> QuerySet[Flag]:
    """Active flags on the outer report (or update) that are newer than its last review."""
    return Flag.objects.filter(
        **{_target(model): OuterRef("pk")}, cleared_at__isnull=True,
        created_at__gt=Coalesce(OuterRef("reviewed_at"), Value(_NEVER), output_field=DateTimeField()),
    )


def held_first_time(now: dt.datetime) -> Q:
    """A report from a first-time sender within the hold, not reviewed: no earlier report from its email is
    published (anonymous reports never have one). Emails are matched as the alert sender always matched them:
    the stored address equal to the new report's address in lower case."""
    hold_since = now - dt.timedelta(minutes=settings.ALERT_NEW_SENDER_HOLD_MINUTES)
    # The status is compared through LOWER() (the values are lower case already) so that SQLite, which has no
    # statistics, reads the email index instead of walking the (status, created_at) index over every earlier
    # published report: 100,000 reports made that 100 ms a candidate, and 33 s for a queue page.
    known = Report.objects.annotate(known_status=Lower("status")).filter(
        known_status=ReportStatus.PUBLISHED, created_at__lt=OuterRef("created_at"), contributor__email__gt="",
        contributor__email=Lower(OuterRef("contributor__email")),
    )
    candidate = Q(status=ReportStatus.PUBLISHED, reviewed_at__isnull=True, created_at__gt=hold_since)
    # The look-up under CASE: databases may evaluate an AND's terms in any order, and only the few reports within
    # the hold need it. The candidate terms also stand outside, where the (status, created_at) index finds them.
    return candidate & Q(Case(When(candidate, then=~Exists(known)), default=Value(False),
                              output_field=BooleanField()))


def waiting(model: type[Report] | type[ReportUpdate], part: str | None = None,
            now: dt.datetime | None = None) -> Q:
    """The items of `model` waiting in `part` of the queue (any part when None)."""
    flagged_since = Q(Exists(flags_since_review(model)))
    conditions: dict[Waiting, Q] = {
        Waiting.FLAGGED: Q(status=ReportStatus.PUBLISHED) & flagged_since,
        Waiting.HIDDEN: Q(status=ReportStatus.FLAGGED) & (Q(reviewed_at__isnull=True) | flagged_since),
    }
    if model is Report:
        conditions[Waiting.HELD] = held_first_time(now or timezone.now())
    if part is not None:
        return conditions.get(Waiting(part), Q(pk__in=[]))
    combined = Q()
    for condition in conditions.values():
        combined |= condition
    return combined


def queue(queryset: QuerySet[Item], part: str | None = None, now: dt.datetime | None = None) -> QuerySet[Item]:
    """The waiting items of `queryset` (in `part`, or in any part), oldest waiting first, annotated with
    `waiting_since` and, for reports, `held` (a first-time sender's, held back)."""
    model = queryset.model
    now = now or timezone.now()
    queryset = queryset.filter(waiting(model, part, now)).annotate(waiting_since=waiting_since(model))
    if model is Report:
        queryset = queryset.annotate(held=ExpressionWrapper(held_first_time(now), output_field=BooleanField()))
    return queryset.order_by("waiting_since", "pk")


def waiting_since(model: type[Report] | type[ReportUpdate]) -> Coalesce:
    """Since when an item waits: its first active flag since its last review, or when it was sent."""
    first_flag = flags_since_review(model).order_by("created_at").values("created_at")[:1]
    return Coalesce(Subquery(first_flag), "created_at", output_field=DateTimeField())


@dataclass(frozen=True)
class QueueSummary:
    """How many items wait in each part of the queue, how many in all (an item may wait in two parts: a first-time
    sender's report that residents flagged), and since when the oldest has waited."""

    reports: Mapping[str, int]  # part -> count
    updates: Mapping[str, int]
    total: int
    oldest: dt.datetime | None


def queue_summary(now: dt.datetime | None = None) -> QueueSummary:
    """The admin index's figures: two queries, one per model."""
    now = now or timezone.now()
    counts: list[dict[str, int]] = []
    total = 0
    oldest: list[dt.datetime] = []
    for model, parts in ((Report, tuple(Waiting)), (ReportUpdate, UPDATE_PARTS)):
        items = model.objects.order_by().filter(waiting(model, None, now))
        figures = items.aggregate(
            all_parts=Count("pk"), oldest=Min(waiting_since(model)),
            **{part.value: Count("pk", filter=waiting(model, part, now)) for part in parts},
        )
        counts.append({part.value: figures[part.value] for part in parts})
        total += figures["all_parts"]
        if figures["oldest"] is not None:
            oldest.append(figures["oldest"])
    return QueueSummary(reports=counts[0], updates=counts[1], total=total, oldest=min(oldest, default=None))
