"""Sending deliveries: lease what is due, POST it (several at once), record every attempt, retry, disable.

- **Lease**: a sender takes the due deliveries no other sender holds in one conditional UPDATE (its token marks
  which it got). One that dies holding a lease leaves them to the next pass after the lease ends, so a delivery
  is sent at least once; the `webhook-id` stays the same, so a receiver drops a repeat.
- **Send**: the target is checked again right before the POST (`webhooks.targets`: DNS can change since the
  subscription was made) and the connection goes to the address checked. Threads do the HTTP only; the results
  are written by the sender's own thread, in one transaction per batch.
- **Retry**: a failure is tried again after `WEBHOOKS_RETRY_DELAYS` (5 s, 5 min, 30 min, 2 h, 5 h, 10 h); after the
  last, the delivery has failed (staff can replay it).
- **Disable**: a subscription whose deliveries have failed for `WEBHOOKS_DISABLE_AFTER` without a success since
  is disabled, and its owner is emailed when `EMAIL_URL` is set.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from webhooks import sender
from webhooks.models import Attempt, Delivery, DeliveryStatus, Subscription
from webhooks.signing import signed_headers
from webhooks.targets import TargetRefused, check_target

logger = logging.getLogger(__name__)

BATCH = 100
LEASE = dt.timedelta(minutes=5)  # longer than a batch can take: BATCH / threads x (connect + read timeouts)


@dataclass
class PassResult:
    sent: int = 0
    failed: int = 0
    disabled: int = 0


def body_of(delivery: Delivery) -> bytes:
    return json.dumps(delivery.event.payload, separators=(",", ":"), ensure_ascii=False).encode()


def _due(now: dt.datetime) -> list[int]:
    return list(Delivery.objects.pending().filter(next_attempt_at__lte=now, subscription__disabled_at__isnull=True)
                .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now)).order_by("next_attempt_at", "pk")
                .values_list("pk", flat=True)[:BATCH])


def _lease(ids: list[int], now: dt.datetime) -> list[Delivery]:
    token = uuid.uuid4().hex
    Delivery.objects.pending().filter(pk__in=ids).filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now)).update(
        lease_until=now + LEASE, lease_token=token)
    return list(Delivery.objects.pending().filter(lease_token=token).select_related("subscription", "event")
                .order_by("pk"))


def _attempt(delivery: Delivery) -> tuple[Delivery, dt.datetime, sender.Outcome]:
    """One POST (in a sender thread: no database work here)."""
    started = timezone.now()
    try:
        target = check_target(delivery.subscription.url, allow_private=settings.WEBHOOKS_ALLOW_PRIVATE)
    except TargetRefused as exc:
        return delivery, started, sender.Outcome(None, 0, "", _("Refused: %(reason)s") % {"reason": exc})
    headers = signed_headers(secret=delivery.subscription.secret, message_id=delivery.event.message_id,
                             body=body_of(delivery), at=started)
    return delivery, started, sender.post(target, body_of(delivery), headers)


def deliveries_send(*, max_batches: int | None = None) -> PassResult:
    """Send what is due until nothing is (or `max_batches`); returns the counts."""
    result = PassResult()
    batches = 0
    with ThreadPoolExecutor(max_workers=settings.WEBHOOKS_SEND_THREADS, thread_name_prefix="webhook") as pool:
        while max_batches is None or batches < max_batches:
            now = timezone.now()
            leased = _lease(_due(now), now)
            if not leased:
                break
            batches += 1
            outcomes = list(pool.map(_attempt, leased))
            _record(outcomes, result)
    return result


def _record(outcomes: list[tuple[Delivery, dt.datetime, sender.Outcome]], result: PassResult) -> None:
    delays = settings.WEBHOOKS_RETRY_DELAY_SECONDS
    window = dt.timedelta(seconds=settings.WEBHOOKS_DISABLE_AFTER_SECONDS)
    disabled: list[Subscription] = []
    with transaction.atomic():
        Attempt.objects.bulk_create([
            Attempt(delivery_id=d.pk, started_at=started, status_code=o.status_code, latency_ms=o.latency_ms,
                    succeeded=o.ok, response_excerpt=o.excerpt[:500], error=o.error[:500])
            for d, started, o in outcomes])
        # Successes in two statements for the batch (a statement per row holds SQLite's one write lock longer,
        # and the committing web requests queue behind it); failures, which are few, row by row.
        succeeded = [d for d, _started, o in outcomes if o.ok]
        if succeeded:
            result.sent += len(succeeded)
            Delivery.objects.filter(pk__in=[d.pk for d in succeeded]).update(
                status=DeliveryStatus.SUCCEEDED, attempts=F("attempts") + 1, delivered_at=timezone.now(),
                lease_until=None, next_attempt_at=None)
            Subscription.objects.filter(pk__in={d.subscription_id for d in succeeded},
                                        failing_since__isnull=False).update(failing_since=None)
        for delivery, started, outcome in outcomes:
            if outcome.ok:
                continue
            attempts = delivery.attempts + 1
            subscription = delivery.subscription
            result.failed += 1
            more = attempts <= len(delays)
            Delivery.objects.filter(pk=delivery.pk).update(
                status=DeliveryStatus.PENDING if more else DeliveryStatus.FAILED, attempts=attempts, lease_until=None,
                next_attempt_at=started + dt.timedelta(seconds=delays[attempts - 1]) if more else None)
            Subscription.objects.filter(pk=subscription.pk, failing_since__isnull=True).update(failing_since=started)
            failing_since = Subscription.objects.filter(pk=subscription.pk).values_list(
                "failing_since", flat=True).first()
            reason = (_("Deliveries failed for %(window)s without a success (last: %(last)s).") % {
                "window": settings.WEBHOOKS_DISABLE_AFTER, "last": outcome.error or f"HTTP {outcome.status_code}"})
            if failing_since is not None and started - failing_since >= window and Subscription.objects.filter(
                    pk=subscription.pk, disabled_at__isnull=True).update(disabled_at=timezone.now(),
                                                                        disabled_reason=reason[:300]):
                disabled.append(subscription)
    for subscription in disabled:
        result.disabled += 1
        logger.warning("Webhook subscription %s disabled after failing for %s", subscription.pk,
                       settings.WEBHOOKS_DISABLE_AFTER)
        _tell_owner(subscription)


def _tell_owner(subscription: Subscription) -> None:
    """Email the owner that the subscription was disabled, when the site sends email (EMAIL_URL)."""
    to = subscription.owner_email or (subscription.api_key.owner_email if subscription.api_key else "")
    if not settings.EMAIL_URL or not to:
        return
    try:
        send_mail(
            _("Your Buka Amanzi webhook was disabled"),
            _("Deliveries to %(url)s have failed for %(window)s without a success, so the subscription (number "
              "%(id)s) was disabled. Fix the receiver, then enable it again through the API or ask us to.")
            % {"url": subscription.url, "window": settings.WEBHOOKS_DISABLE_AFTER, "id": subscription.pk},
            None, [to])
    except Exception:  # the subscription is disabled either way; the log says the owner was not told
        logger.exception("Could not email the owner of webhook subscription %s", subscription.pk)


def next_due_in(now: dt.datetime | None = None) -> float | None:
    """Seconds until the next pending delivery is due (0 if one is), or None when none is pending."""
    now = now or timezone.now()
    first = Delivery.objects.pending().filter(subscription__disabled_at__isnull=True).order_by(
        "next_attempt_at").values_list("next_attempt_at", flat=True).first()
    if first is None:
        return None
    return max(0.0, (first - now).total_seconds())

