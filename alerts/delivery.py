"""Sending alert emails exactly once: claim what is due into a delivery, then send it under a lease.

1. **Claim** (a batch of addresses per transaction, one delivery per address, language and frequency): the
   addresses' rows are locked, the due items are read after the lock and tied to new `Delivery` rows by
   `UPDATE ... WHERE delivery IS NULL`, and the addresses' last-email times are moved on. If another sender had
   claimed any of the items first, an update touches fewer rows and the whole claim is rolled back. So an item
   is in one delivery at most, and a delivery covers what it covers for ever.
2. **Send** (a batch of deliveries at a time): a sender leases the deliveries no other sender holds in one
   conditional UPDATE (its token marks which it got), sends each and marks it sent at once. One that dies
   holding a lease leaves the delivery unsent; after `ALERT_SEND_LEASE_SECONDS` the next pass sends it. A
   refusal by the server is recorded as a bounce and retried with backoff; after `ALERT_MAX_HARD_FAILURES` hard
   failures in a row the address is paused.

Held back at claim time (they stay pending): items of reports and report updates that moderation has flagged or
marked as spam, and reports from a first-time sender for `ALERT_NEW_SENDER_HOLD_MINUTES` unless a moderator
published them.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import uuid
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection, transaction
from django.db.models import Case, Q, Value, When
from django.utils import timezone

from alerts import emails
from alerts.matching import alert_items_match
from alerts.models import AlertItem, Delivery, DeliveryKind, Frequency, Subscriber
from alerts.moderation_notices import Notice, moderation_deliveries_create, notice_of
from alerts.reporters import reporter_deliveries_create
from alerts.services import alerts_expire_unconfirmed, bounce_record
from bukaamanzi.lib.schedules import next_daily
from reports.models import Report, ReportStatus, ReportUpdate
from reports.queue import held_first_time
from reports.states import UNRESOLVED

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
    """Reports whose items must wait: hidden by moderation, or new senders' within the hold (the rule is the
    moderation queue's, reports.queue.held_first_time)."""
    if not report_ids:
        return set()
    return set(Report.objects.filter(pk__in=report_ids).filter(
        ~Q(status=ReportStatus.PUBLISHED) | held_first_time(now)).values_list("pk", flat=True))


def _hidden_updates(update_ids: set[object]) -> set[int]:
    """Report updates that moderation hid: their items wait (and expire) like those of hidden reports."""
    ids = {int(pk) for pk in update_ids if isinstance(pk, int) or (isinstance(pk, str) and pk.isdigit())}
    if not ids:
        return set()
    return set(ReportUpdate.objects.filter(pk__in=ids).exclude(status=ReportStatus.PUBLISHED)
               .values_list("pk", flat=True))


CLAIM_BATCH = 200  # addresses per claim transaction
SEND_BATCH = 100  # deliveries leased and loaded together
UPDATE_ITEMS = 5000  # items claimed per UPDATE statement


def due_items(*, now: dt.datetime) -> Q:
    """Pending items whose address may be sent to now: immediate ones once the address's last immediate email
    is ALERT_IMMEDIATE_EVERY_MINUTES old, daily ones (changes up to the last 07:00) once a day."""
    digest_since = last_digest_time(now)
    immediate_since = now - dt.timedelta(minutes=settings.ALERT_IMMEDIATE_EVERY_MINUTES)
    immediate = Q(alert__frequency=Frequency.IMMEDIATE) & (
        Q(alert__subscriber__last_immediate_at__isnull=True)
        | Q(alert__subscriber__last_immediate_at__lte=immediate_since))
    daily = Q(alert__frequency=Frequency.DAILY, change__created_at__lte=digest_since) & (
        Q(alert__subscriber__last_digest_at__isnull=True) | Q(alert__subscriber__last_digest_at__lt=digest_since))
    return pending_items() & (immediate | daily)


def deliveries_claim(*, now: dt.datetime | None = None) -> list[int]:
    """Tie every due item to a new delivery (one per address, language and frequency); returns their ids."""
    now = now or timezone.now()
    subscriber_ids = sorted(set(AlertItem.objects.filter(due_items(now=now)).order_by().values_list(
        "alert__subscriber_id", flat=True).distinct()))
    claimed: list[int] = []
    for start in range(0, len(subscriber_ids), CLAIM_BATCH):
        claimed += _claim_batch(subscriber_ids[start:start + CLAIM_BATCH], now=now)
    return claimed


class _ClaimedElsewhere(Exception):
    pass


def _chunks(pairs: list[tuple[Delivery, list[int]]], size: int) -> list[list[tuple[Delivery, list[int]]]]:
    """Runs of (delivery, items) of at most `size` items each; a delivery with more is split over runs."""
    pieces = [(delivery, item_ids[start:start + size]) for delivery, item_ids in pairs
              for start in range(0, len(item_ids), size)]
    chunks: list[list[tuple[Delivery, list[int]]]] = [[]]
    count = 0
    for delivery, item_ids in pieces:
        if chunks[-1] and count + len(item_ids) > size:
            chunks.append([])
            count = 0
        chunks[-1].append((delivery, item_ids))
        count += len(item_ids)
    return chunks


def _claim_batch(subscriber_ids: list[int], *, now: dt.datetime) -> list[int]:
    """One transaction for a batch of addresses. Their rows are locked first (on PostgreSQL; SQLite runs one
    writing transaction at a time), and what is due is read after the lock, so a second sender either skips
    addresses another holds or sees the items and times that one has just claimed and stamped."""
    try:
        with transaction.atomic():
            locked = Subscriber.objects.filter(pk__in=subscriber_ids).order_by("pk")
            if connection.vendor == "postgresql":
                locked = locked.select_for_update(skip_locked=True)  # held by another sender: it claims them
            ids = list(locked.values_list("pk", flat=True))
            rows = list(AlertItem.objects.filter(due_items(now=now), alert__subscriber__in=ids).values_list(
                "pk", "report_id", "alert__subscriber_id", "alert__language", "alert__frequency",
                "change__new_values__update_id"))
            held = _held_reports({row[1] for row in rows if row[1] is not None}, now)
            hidden_updates = _hidden_updates({row[5] for row in rows if row[5] is not None})
            groups: dict[tuple[int, str, str], list[int]] = defaultdict(list)
            for pk, report_id, subscriber_id, language, frequency, update_id in rows:
                if report_id not in held and update_id not in hidden_updates:
                    groups[(subscriber_id, language, frequency)].append(pk)
            if not groups:
                return []
            deliveries = Delivery.objects.bulk_create([
                Delivery(subscriber_id=subscriber_id, kind=DeliveryKind.ALERTS, frequency=frequency,
                         language=language, next_attempt_at=now)
                for subscriber_id, language, frequency in groups])
            # A few UPDATEs for the batch (a statement per delivery cost 1.6 ms each on PostGIS), each of at most
            # UPDATE_ITEMS items (SQLite takes 32,766 parameters a statement, and an ingestion run can owe one
            # address hundreds of items); only rows still unclaimed are taken, and fewer than expected means
            # another sender was first.
            for chunk in _chunks(list(zip(deliveries, groups.values(), strict=True)), UPDATE_ITEMS):
                which = Case(*(When(pk__in=item_ids, then=Value(delivery.pk)) for delivery, item_ids in chunk))
                wanted = [pk for _delivery, item_ids in chunk for pk in item_ids]
                if AlertItem.objects.filter(pk__in=wanted, delivery__isnull=True).update(
                        delivery_id=which) != len(wanted):
                    raise _ClaimedElsewhere  # cannot happen while the rows are locked; never claim half
            for frequency, stamp in ((Frequency.IMMEDIATE, "last_immediate_at"), (Frequency.DAILY, "last_digest_at")):
                stamped = {subscriber_id for subscriber_id, _language, f in groups if f == frequency}
                if stamped:
                    Subscriber.objects.filter(pk__in=stamped).update(**{stamp: now})
            return [delivery.pk for delivery in deliveries]
    except _ClaimedElsewhere:
        logger.warning("Alert claim rolled back: another sender claimed some of its items")
        return []


def deliveries_due(now: dt.datetime) -> list[int]:
    return list(Delivery.objects.unsent().filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
                .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now)).order_by("pk")
                .values_list("pk", flat=True))


def _take_leases(delivery_ids: list[int], now: dt.datetime) -> list[Delivery]:
    """Lease what no other sender holds, in one UPDATE; the token says which rows this sender got."""
    token = uuid.uuid4().hex
    Delivery.objects.unsent().filter(pk__in=delivery_ids).filter(
        Q(lease_until__isnull=True) | Q(lease_until__lt=now)).update(
        lease_until=now + dt.timedelta(seconds=settings.ALERT_SEND_LEASE_SECONDS), lease_token=token)
    return list(Delivery.objects.filter(lease_token=token, sent_at__isnull=True).select_related(
        "subscriber", "alert__project", "alert__municipality", "report", "admin_action").order_by("pk"))


def delivery_send(delivery_id: int, *, now: dt.datetime | None = None) -> bool | None:
    """Send one delivery now (a confirmation just asked for) if no other sender holds it. True: sent; False:
    failed (retried later); None: not taken (sent already, held by another sender, or nothing left to say)."""
    mail = get_connection()
    try:
        outcomes, _unreachable = _send_batch([delivery_id], now=now or timezone.now(), mail=mail)
    finally:
        mail.close()
    return outcomes[0] if outcomes else None


def _send_batch(delivery_ids: list[int], *, now: dt.datetime,
                mail: BaseEmailBackend) -> tuple[list[bool | None], bool]:
    """Lease, load and send a batch over the open mail connection; (outcomes, whether the server was
    unreachable, in which case the batch's unsent rest is released for the next pass)."""
    deliveries = _take_leases(delivery_ids, now)
    contents = emails.contents_of([d for d in deliveries if d.kind == DeliveryKind.ALERTS])
    outcomes: list[bool | None] = []
    for index, delivery in enumerate(deliveries):
        try:
            mail.open()  # opened here, the backend keeps it open across messages (no-op when open)
        except (smtplib.SMTPException, OSError) as exc:
            _failed(delivery, now, repr(exc), hard=False, refused=False)
            _release(deliveries[index + 1:])
            logger.warning("Mail server unreachable: %s deliveries wait for the next pass", len(deliveries) - index)
            return [*outcomes, False], True
        outcome = _send_one(delivery, contents.get(delivery.pk, []), now=now, mail=mail)
        outcomes.append(outcome)
        if outcome is False:
            mail.close()  # a refusal may have ended the session: the next email opens a fresh one
    return outcomes, False


def _release(deliveries: list[Delivery]) -> None:
    Delivery.objects.filter(pk__in=[d.pk for d in deliveries]).update(lease_until=None)


def _send_one(delivery: Delivery, sections: list[emails.Section], *, now: dt.datetime,
              mail: BaseEmailBackend) -> bool | None:
    subscriber = delivery.subscriber
    if subscriber.paused_at is not None:
        _give_up(delivery, now, "The address is paused.")
        return None
    if delivery.kind in emails.REPORTER_KINDS and (why := _nothing_to_tell_reporter(delivery)):
        _give_up(delivery, now, why)
        return None
    notice: Notice | None = None
    if delivery.kind == DeliveryKind.MODERATION:
        assert delivery.admin_action is not None
        notice = notice_of(delivery.admin_action)
        if notice is None:
            _give_up(delivery, now, "The item was deleted since; its deletion's notice tells the sender.")
            return None
    if delivery.kind == DeliveryKind.ALERTS:
        # Alerts cancelled after the claim are left out; what remains is what the delivery covered.
        sections = [s for s in sections if s.alert.unsubscribed_at is None]
        if not sections:
            _give_up(delivery, now, "Nothing left to send: the alerts were cancelled.")
            return None
    message = emails.build(delivery, sections, notice=notice)
    message.connection = mail
    try:
        message.send()
    except smtplib.SMTPRecipientsRefused as exc:
        code, reply = next(iter(exc.recipients.values()))
        _failed(delivery, now, f"{code} {reply!r}", hard=code >= 500, refused=True)
        return False
    except smtplib.SMTPResponseException as exc:
        _failed(delivery, now, f"{exc.smtp_code} {exc.smtp_error!r}", hard=exc.smtp_code >= 500, refused=True)
        return False
    except (smtplib.SMTPException, OSError) as exc:  # the server broke off: try again later
        _failed(delivery, now, repr(exc), hard=False, refused=False)
        return False
    # Marked at once, email by email: a sender that dies now resends at most the one email in flight.
    Delivery.objects.filter(pk=delivery.pk).update(
        sent_at=timezone.now(), lease_until=None, attempts=delivery.attempts + 1,
        message_id=message.extra_headers["Message-ID"], last_error="")
    if subscriber.hard_failures:
        Subscriber.objects.filter(pk=subscriber.pk).update(hard_failures=0)
    return True


def _nothing_to_tell_reporter(delivery: Delivery) -> str:
    """Why an email to a report's sender is no longer worth sending ("" when it is): the report was hidden
    since, or the problem is no longer open when asking "is it fixed?"."""
    report = delivery.report
    if report is None or report.status != ReportStatus.PUBLISHED:
        return "The report is no longer public."
    if delivery.kind == DeliveryKind.QUESTIONNAIRE and report.state not in UNRESOLVED:
        return "The report is no longer open."
    return ""


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
    """Send every due delivery this sender can take, over one SMTP session; returns (sent, failed). When the
    server cannot be reached, the first delivery records the failure and the rest wait for the next pass."""
    now = now or timezone.now()
    sent = failed = 0
    due = deliveries_due(now)
    mail = get_connection()
    try:
        for start in range(0, len(due), SEND_BATCH):
            outcomes, unreachable = _send_batch(due[start:start + SEND_BATCH], now=now, mail=mail)
            sent += outcomes.count(True)
            failed += outcomes.count(False)
            if unreachable:
                break
    finally:
        mail.close()
    return sent, failed


def items_expire(*, now: dt.datetime | None = None) -> int:
    """Drop items that can never be sent: their alert was cancelled, or they waited past PENDING_KEPT (a report
    still hidden by moderation, an address paused)."""
    now = now or timezone.now()
    deleted, _by_model = AlertItem.objects.filter(delivery__isnull=True).filter(
        Q(alert__unsubscribed_at__isnull=False) | Q(created_at__lt=now - PENDING_KEPT)).delete()
    return deleted


def send_alerts_pass(*, now: dt.datetime | None = None) -> PassResult:
    """One pass of `manage.py send_alerts`: expire, match, write the emails owed to reports' and updates' senders
    (links, questions, moderation notices), claim, send."""
    result = PassResult()
    result.expired = alerts_expire_unconfirmed(now=now) + items_expire(now=now)
    result.matched = alert_items_match()
    reporter_deliveries_create(now=now)
    moderation_deliveries_create(now=now)
    result.deliveries = deliveries_claim(now=now)
    result.claimed = len(result.deliveries)
    result.sent, result.failed = deliveries_send(now=now)
    return result
