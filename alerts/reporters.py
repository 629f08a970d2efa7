"""Emails to the person who sent a report: its private link soon after it is published, and "is it fixed?"
`REPORT_QUESTIONNAIRE_AFTER_DAYS` later while the problem is still open.

They are deliveries like alert emails, so `alerts.delivery` sends them with the same leases, retries, bounces and
pauses, over the same `EMAIL_URL`. A unique constraint allows one delivery of each kind per report: two senders
that create the same one at once write it once, and nobody is asked twice. An address that said "do not ask me
again" (`Subscriber.no_questionnaire_at`) is never asked; a paused address gets nothing.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from alerts.models import Delivery, DeliveryKind, Subscriber
from reports.models import Report
from reports.states import PROBLEM_TYPES, UNRESOLVED

# Reports older than this when first seen get no link (those sent before links existed, or while mail was off).
LINK_WITHIN = dt.timedelta(days=7)
BATCH = 500  # reports per kind per pass


def subscribers_for(emails: set[str]) -> dict[str, Subscriber]:
    """The address rows for these (lower-cased) emails, made where missing."""
    Subscriber.objects.bulk_create([Subscriber(email=email) for email in emails], ignore_conflicts=True)
    return {s.email: s for s in Subscriber.objects.filter(email__in=emails)}


def _reports_owed(kind: str, reports: Q) -> list[tuple[int, str, str]]:
    """(report id, email, language) of published reports matching `reports` that have no delivery of `kind`."""
    sent = Delivery.objects.filter(kind=kind, report__isnull=False).values("report_id")
    return list(Report.objects.published().filter(reports).exclude(contributor__email="")
                .exclude(contributor__isnull=True).exclude(pk__in=sent).order_by("pk")
                .values_list("pk", "contributor__email", "contributor__language")[:BATCH])


def reporter_deliveries_create(*, now: dt.datetime | None = None) -> int:
    """Write the link and questionnaire deliveries now owed (given up at once for paused or opted-out addresses);
    returns how many were written."""
    now = now or timezone.now()
    owed = {
        DeliveryKind.REPORTER_LINK: _reports_owed(DeliveryKind.REPORTER_LINK, Q(created_at__gte=now - LINK_WITHIN)),
        DeliveryKind.QUESTIONNAIRE: _reports_owed(DeliveryKind.QUESTIONNAIRE, Q(
            report_type__in=PROBLEM_TYPES, state__in=UNRESOLVED,
            created_at__lte=now - dt.timedelta(days=settings.REPORT_QUESTIONNAIRE_AFTER_DAYS))),
    }
    subscribers = subscribers_for({email.strip().lower() for rows in owed.values() for _pk, email, _l in rows})
    deliveries = []
    for kind, rows in owed.items():
        for report_id, email, language in rows:
            subscriber = subscribers[email.strip().lower()]
            delivery = Delivery(subscriber=subscriber, kind=kind, report_id=report_id, next_attempt_at=now,
                                language=language or settings.LANGUAGE_CODE)
            # Written as given up rather than skipped: the report is then settled, not looked at every pass.
            if subscriber.paused_at is not None:
                delivery.given_up_at, delivery.last_error = now, "The address is paused."
            elif kind == DeliveryKind.QUESTIONNAIRE and subscriber.no_questionnaire_at is not None:
                delivery.given_up_at, delivery.last_error = now, "The address asked not to be asked again."
            deliveries.append(delivery)
    # A delivery another sender wrote meanwhile is skipped by the unique constraint, not written twice.
    Delivery.objects.bulk_create(deliveries, ignore_conflicts=True)
    return len(deliveries)


def questionnaire_opt_out(subscriber: Subscriber) -> None:
    """This address is never asked "is it fixed?" again; questionnaires not yet sent to it are dropped."""
    now = timezone.now()
    Subscriber.objects.filter(pk=subscriber.pk, no_questionnaire_at__isnull=True).update(no_questionnaire_at=now)
    Delivery.objects.unsent().filter(subscriber=subscriber, kind=DeliveryKind.QUESTIONNAIRE).update(
        given_up_at=now, last_error="The address asked not to be asked again.")
