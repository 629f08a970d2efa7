"""Sending alert emails exactly once: claim what is due into a delivery, then send it under a lease.

1. **Claim** (per address, language and frequency, in one transaction): the address's row is locked, the due
   items are tied to a new `Delivery` by `UPDATE ... WHERE delivery IS NULL`, and the address's last-email time
   is moved on. If another sender claimed any of the items first, the update touches fewer rows and the whole
   claim is rolled back. So an item is in one delivery at most, and a delivery covers what it covers for ever.
2. **Send** (per delivery): a sender takes the delivery's lease with a conditional UPDATE, sends, and marks it
   sent. One that dies holding the lease leaves the delivery unsent; after `ALERT_SEND_LEASE_SECONDS` the next
   pass takes it and sends it. A refusal by the server is recorded as a bounce and retried with backoff; after
   `ALERT_MAX_HARD_FAILURES` hard failures in a row the address is paused.

Held back at claim time (they stay pending): items of reports that moderation has flagged or marked as spam,
and reports from a first-time sender for `ALERT_NEW_SENDER_HOLD_MINUTES` unless a moderator published them.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from alerts import emails
from alerts.matching import alert_items_match
from alerts.models import AlertItem, Delivery, DeliveryKind, Frequency, Subscriber
from alerts.services import alerts_expire_unconfirmed, bounce_record
from bukaamanzi.lib.schedules import next_daily
from reports.models import Report, ReportStatus

logger = logging.getLogger(__name__)
MAX_BACKOFF = dt.timedelta(hours=6)
PENDING_KEPT = dt.timedelta(days=7)


@dataclass
class PassResult:
    matched: int = 0
    claimed: int = 0
    sent: int = 0
    failed: int = 0
    expired: int = 0
    deliveries: list[int] = field(default_factory=list)


def last_digest_time(now: dt.datetime) -> dt.datetime:
    """The most recent ALERT_DIGEST_AT (South African time) at or before now."""
    upcoming = next_daily(settings.ALERT_DIGEST_AT, now, setting="ALERT_DIGEST_AT")
    return upcoming - dt.timedelta(days=1)


def pending_items() -> Q:
    return Q(delivery__isnull=True, alert__confirmed_at__isnull=False, alert__unsubscribed_at__isnull=True,
             alert__subscriber__paused_at__isnull=True)


def _held_reports(report_ids: set[int], now: dt.datetime) -> set[int]:
    """Reports whose items must wait: hidden by moderation, or new senders' within the hold."""
    if not report_ids:
        return set()
    reports = list(Report.objects.filter(pk__in=report_ids).values(
        "pk", "status", "reviewed_at", "created_at", "contributor__email"))
    held = {r["pk"] for r in reports if r["status"] != ReportStatus.PUBLISHED}
    hold_since = now - dt.timedelta(minutes=settings.ALERT_NEW_SENDER_HOLD_MINUTES)
    recent = [r for r in reports if r["pk"] not in held and r["reviewed_at"] is None and r["created_at"] > hold_since]
    if not recent:
        return held
    # A sender is known when an earlier report from the same address is published (anonymous ones never are).
    addresses = {r["contributor__email"].lower() for r in recent if r["contributor__email"]}
    first_report: dict[str, dt.datetime] = {}
    for email, created_at in (Report.objects.published().filter(contributor__email__in=addresses)
                              .values_list("contributor__email", "created_at")):
        key = email.lower()
        first_report[key] = min(created_at, first_report.get(key, created_at))
    for report in recent:
        email = (report["contributor__email"] or "").lower()
        if not email or first_report.get(email, report["created_at"]) >= report["created_at"]:
            held.add(report["pk"])
    return held


def deliveries_claim(*, now: dt.datetime | None = None) -> list[int]:
    """Tie every due item to a new delivery; returns the new deliveries' ids."""
    now = now or timezone.now()
    digest_since = last_digest_time(now)
    immediate_since = now - dt.timedelta(minutes=settings.ALERT_IMMEDIATE_EVERY_MINUTES)
    groups = (AlertItem.objects.filter(pending_items())
              .values_list("alert__subscriber_id", "alert__language", "alert__frequency").distinct())
    claimed = []
    for subscriber_id, language, frequency in list(groups):
        delivery_id = _claim_group(subscriber_id, language, frequency, now=now, digest_since=digest_since,
                                   immediate_since=immediate_since)
        if delivery_id is not None:
            claimed.append(delivery_id)
    return claimed


class _ClaimedElsewhere(Exception):
    pass


def _claim_group(subscriber_id: int, language: str, frequency: str, *, now: dt.datetime,
                 digest_since: dt.datetime, immediate_since: dt.datetime) -> int | None:
    try:
        with transaction.atomic():
            subscriber = Subscriber.objects.select_for_update().get(pk=subscriber_id)
            items = AlertItem.objects.filter(pending_items(), alert__subscriber=subscriber, alert__language=language,
                                             alert__frequency=frequency)
            if frequency == Frequency.DAILY:
                if subscriber.last_digest_at is not None and subscriber.last_digest_at >= digest_since:
                    return None
                items = items.filter(change__created_at__lte=digest_since)
            elif subscriber.last_immediate_at is not None and subscriber.last_immediate_at > immediate_since:
                return None
            rows = list(items.values_list("pk", "report_id"))
            held = _held_reports({report for _, report in rows if report is not None}, now)
            due = [pk for pk, report in rows if report not in held]
            if not due:
                return None
            delivery = Delivery.objects.create(subscriber=subscriber, kind=DeliveryKind.ALERTS, frequency=frequency,
                                               language=language, next_attempt_at=now)
            if AlertItem.objects.filter(pk__in=due, delivery__isnull=True).update(delivery=delivery) != len(due):
                raise _ClaimedElsewhere
            stamp = {"last_digest_at": now} if frequency == Frequency.DAILY else {"last_immediate_at": now}
            Subscriber.objects.filter(pk=subscriber.pk).update(**stamp)
            return delivery.pk
    except _ClaimedElsewhere:
        return None


def deliveries_due(now: dt.datetime) -> list[int]:
    return list(Delivery.objects.unsent().filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
                .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now)).order_by("pk")
                .values_list("pk", flat=True))


def _take_lease(delivery_id: int, now: dt.datetime) -> bool:
    lease = now + dt.timedelta(seconds=settings.ALERT_SEND_LEASE_SECONDS)
    return bool(Delivery.objects.unsent().filter(pk=delivery_id).filter(
        Q(lease_until__isnull=True) | Q(lease_until__lt=now)).update(lease_until=lease))


def delivery_send(delivery_id: int, *, now: dt.datetime | None = None,
                  connection: BaseEmailBackend | None = None) -> bool | None:
    """Send one delivery if no other sender holds it. True: sent; False: failed (retried later); None: not
    taken (sent already, held by another sender, or nothing left to say). `connection`: an open mail
    connection to reuse (a pass sends thousands of emails; one SMTP session per email would cost a handshake
    each)."""
    now = now or timezone.now()
    if not _take_lease(delivery_id, now):
        return None
    delivery = Delivery.objects.select_related("subscriber", "alert__project", "alert__municipality").get(
        pk=delivery_id)
    subscriber = delivery.subscriber
    if subscriber.paused_at is not None:
        _give_up(delivery, now, "The address is paused.")
        return None
    sections = None
    if delivery.kind == DeliveryKind.ALERTS:
        # Alerts cancelled after the claim are left out; what remains is what the delivery covered.
        sections = [s for s in emails.sections_of(delivery) if s.alert.unsubscribed_at is None]
        if not sections:
            _give_up(delivery, now, "Nothing left to send: the alerts were cancelled.")
            return None
    message = emails.build(delivery, sections)
    message.connection = connection
    try:
        message.send()
    except smtplib.SMTPRecipientsRefused as exc:
        code, reply = next(iter(exc.recipients.values()))
        _failed(delivery, now, f"{code} {reply!r}", hard=code >= 500, refused=True)
        return False
    except smtplib.SMTPResponseException as exc:
        _failed(delivery, now, f"{exc.smtp_code} {exc.smtp_error!r}", hard=exc.smtp_code >= 500, refused=True)
        return False
    except (smtplib.SMTPException, OSError) as exc:  # the server could not be reached or broke off: try again
        _failed(delivery, now, repr(exc), hard=False, refused=False)
        return False
    Delivery.objects.filter(pk=delivery.pk).update(
        sent_at=timezone.now(), lease_until=None, attempts=delivery.attempts + 1,
        message_id=message.extra_headers["Message-ID"], last_error="")
    if subscriber.hard_failures:
        Subscriber.objects.filter(pk=subscriber.pk).update(hard_failures=0)
    return True


def _give_up(delivery: Delivery, now: dt.datetime, why: str) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(given_up_at=now, lease_until=None, last_error=why)


def _failed(delivery: Delivery, now: dt.datetime, error: str, *, hard: bool, refused: bool) -> None:
    attempts = delivery.attempts + 1
    backoff = min(dt.timedelta(minutes=2 ** (attempts - 1)), MAX_BACKOFF)
    logger.warning("Alert delivery %s failed (attempt %s, %s): %s", delivery.pk, attempts,
                   "hard" if hard else "soft", error)
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(attempts=attempts, last_error=error[:2000], lease_until=None,
                                                       next_attempt_at=now + backoff)
        if refused:
            bounce_record(subscriber=delivery.subscriber, hard=hard, reason=error, delivery=delivery)


def deliveries_send(*, now: dt.datetime | None = None) -> tuple[int, int]:
    """Send every due delivery this sender can take; returns (sent, failed)."""
    now = now or timezone.now()
    sent = failed = 0
    due = deliveries_due(now)
    if not due:
        return sent, failed
    connection = get_connection()
    try:
        for index, delivery_id in enumerate(due):
            try:
                connection.open()  # opened here, the backend keeps it open across messages (no-op when open)
                reachable = True
            except (smtplib.SMTPException, OSError):
                reachable = False  # this delivery's own attempt records the failure
            outcome = delivery_send(delivery_id, now=now, connection=connection)
            sent += outcome is True
            failed += outcome is False
            if outcome is False:
                if not reachable:
                    logger.warning("Mail server unreachable: %s deliveries wait for the next pass",
                                   len(due) - index - 1)
                    break
                # The session may be broken (a refusal can end it): the next email opens a fresh one.
                connection.close()
    finally:
        connection.close()
    return sent, failed


def items_expire(*, now: dt.datetime | None = None) -> int:
    """Drop items that can never be sent: their alert was cancelled, or they waited past PENDING_KEPT (a report
    still hidden by moderation, an address paused)."""
    now = now or timezone.now()
    deleted, _by_model = AlertItem.objects.filter(delivery__isnull=True).filter(
        Q(alert__unsubscribed_at__isnull=False) | Q(created_at__lt=now - PENDING_KEPT)).delete()
    return deleted


def send_alerts_pass(*, now: dt.datetime | None = None) -> PassResult:
    """One pass of `manage.py send_alerts`: expire, match, claim, send."""
    result = PassResult()
    result.expired = alerts_expire_unconfirmed(now=now) + items_expire(now=now)
    result.matched = alert_items_match()
    result.deliveries = deliveries_claim(now=now)
    result.claimed = len(result.deliveries)
    result.sent, result.failed = deliveries_send(now=now)
    return result
