"""Writes to email alerts: signing up, confirming, unsubscribing, and pausing an address.

The sign-up page and `POST /api/v1/alerts` both call `alert_subscribe`; the links in every email call
`alert_confirm` and `alert_unsubscribe`. Asking twice for the same thing is one alert (a unique constraint on
the address and the target), and re-sends the confirmation. Each confirmation is a `Delivery` row written in the
sign-up's transaction and sent after it commits, so a sender that dies loses no email.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from alerts.models import Alert, AlertKind, Bounce, Delivery, DeliveryKind, Frequency, Subscriber
from bukaamanzi.lib.geo import SOUTH_AFRICA
from changelog.models import AdminAction
from municipalities.models import Municipality
from projects.models import Project

MIN_RADIUS_KM = Decimal("0.5")
MAX_RADIUS_KM = Decimal("50")
DEFAULT_RADIUS_KM = Decimal("2")
PAUSED_BY_STAFF = "staff"
PAUSED_BY_FAILURES = "failures"


class AlertError(ValueError):
    """Invalid sign-up input; `field` names what to fix."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class TooManyConfirmations(Exception):
    """This address has been sent as many confirmation emails as it may be today."""


@dataclass(frozen=True)
class AlertTarget:
    """What is followed: exactly one of a project, a municipality, or a centre and radius."""

    kind: str
    project: Project | None = None
    municipality: Municipality | None = None
    center: Point | None = None
    radius_km: Decimal | None = None
    place: str = ""

    @property
    def key(self) -> str:
        if self.kind == AlertKind.PROJECT and self.project is not None:
            return f"project:{self.project.pk}"
        if self.kind == AlertKind.MUNICIPALITY and self.municipality is not None:
            return f"municipality:{self.municipality.code}"
        assert self.center is not None and self.radius_km is not None
        # About a metre of rounding: the same tap twice is the same area.
        return f"area:{self.center.y:.5f},{self.center.x:.5f},{self.radius_km}"


def normalise_email(email: str) -> str:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise AlertError("email", _("Please enter a valid email address.")) from exc
    return email


def area_target(*, lat: object, lng: object, radius_km: object = None, place: str = "") -> AlertTarget:
    """An area from numbers a person or a client typed; each error names its field."""
    try:
        lat_value, lng_value = float(lat), float(lng)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise AlertError("lat", _("Give the centre of the area as numbers (lat and lng).")) from exc
    if not SOUTH_AFRICA.contains(lng=lng_value, lat=lat_value):
        raise AlertError("lat", _("The area must be in South Africa."))
    try:
        radius = DEFAULT_RADIUS_KM if radius_km in (None, "") else Decimal(str(radius_km))
    except InvalidOperation as exc:
        raise AlertError("radius_km", _("The radius must be a number of kilometres.")) from exc
    if not radius.is_finite() or not MIN_RADIUS_KM <= radius <= MAX_RADIUS_KM:
        raise AlertError("radius_km", _("The radius must be between %(min)s and %(max)s km.")
                         % {"min": MIN_RADIUS_KM, "max": MAX_RADIUS_KM})
    return AlertTarget(kind=AlertKind.AREA, center=Point(round(lng_value, 5), round(lat_value, 5), srid=4326),
                       radius_km=radius.quantize(Decimal("0.1")), place=place[:200])


def alert_target(*, kind: object, project_id: object = None, municipality: object = None, lat: object = None,
                 lng: object = None, radius_km: object = None, place: str = "") -> AlertTarget:
    """The target named by a sign-up (page or API); each error names its field."""
    if kind == AlertKind.PROJECT:
        try:
            project = Project.objects.filter(pk=uuid.UUID(str(project_id))).first() if project_id else None
        except ValueError:
            raise AlertError("project_id", _("project_id must be a project's id (a UUID).")) from None
        if project is None:
            raise AlertError("project_id", _("No project has this id."))
        return AlertTarget(kind=AlertKind.PROJECT, project=project)
    if kind == AlertKind.MUNICIPALITY:
        code = str(municipality or "").strip().upper()
        found = Municipality.objects.filter(code=code).first() if code else None
        if found is None:
            raise AlertError("municipality", _("Give a municipality's MDB code, for example CPT or KZN225."))
        return AlertTarget(kind=AlertKind.MUNICIPALITY, municipality=found)
    if kind == AlertKind.AREA:
        return area_target(lat=lat, lng=lng, radius_km=radius_km, place=place)
    raise AlertError("kind", _("kind must be one of: project, municipality, area."))


def alert_subscribe(*, email: str, target: AlertTarget, frequency: str, language: str) -> Alert:
    """Create the alert (or find the same one) and queue its confirmation email.

    Raises AlertError naming the field at fault, or TooManyConfirmations. A paused address gets the same answer
    as any other (nobody learns which addresses are here) but no email.
    """
    address = normalise_email(email)
    if frequency not in Frequency.values:
        raise AlertError("frequency", _("Choose how often: immediate or daily."))
    now = timezone.now()
    with transaction.atomic():
        subscriber, _created = Subscriber.objects.get_or_create(email=address)
        subscriber = Subscriber.objects.select_for_update().get(pk=subscriber.pk)  # one sign-up at a time
        sent_today = Delivery.objects.filter(subscriber=subscriber, kind=DeliveryKind.CONFIRMATION,
                                             created_at__gte=now - dt.timedelta(days=1)).count()
        if sent_today >= settings.ALERT_CONFIRMATIONS_PER_ADDRESS_PER_DAY:
            raise TooManyConfirmations
        alert = Alert.objects.filter(subscriber=subscriber, target_key=target.key, unsubscribed_at__isnull=True).first()
        if alert is None:
            try:
                with transaction.atomic():
                    alert = Alert.objects.create(
                        subscriber=subscriber, kind=target.kind, project=target.project,
                        municipality=target.municipality, center=target.center, radius_km=target.radius_km,
                        place=target.place, target_key=target.key, frequency=frequency, language=language,
                    )
            except IntegrityError:  # the same sign-up from a second request, committed first
                alert = Alert.objects.get(subscriber=subscriber, target_key=target.key, unsubscribed_at__isnull=True)
        elif alert.confirmed_at is None:
            # Asking again before confirming: the latest choice of frequency and language holds.
            alert.frequency, alert.language = frequency, language
            alert.save(update_fields=["frequency", "language"])
        if subscriber.paused_at is not None:
            return alert
        delivery = Delivery.objects.create(subscriber=subscriber, kind=DeliveryKind.CONFIRMATION, alert=alert,
                                           language=language, next_attempt_at=now)
        transaction.on_commit(lambda: _queue_send(delivery.pk))
    return alert


def _queue_send(delivery_id: int) -> None:
    # The worker sends it within a second or two; if the queue is down, the next `send_alerts` pass does.
    from django_q.tasks import async_task

    try:
        async_task("alerts.tasks.delivery_send", delivery_id, task_name=f"alerts: delivery {delivery_id}")
    except Exception:  # the delivery row is committed: the minute's pass sends it
        import logging

        logging.getLogger(__name__).warning("Could not queue delivery %s; the next pass sends it", delivery_id,
                                            exc_info=True)


def alert_confirm(*, alert: Alert) -> Alert:
    """Confirm an alert (its signed link was followed). Confirming twice changes nothing."""
    with transaction.atomic():
        alert = Alert.objects.select_for_update().select_related("subscriber").get(pk=alert.pk)
        if alert.unsubscribed_at is not None:
            raise AlertError("token", _("This alert was cancelled. Sign up again to follow it."))
        if alert.confirmed_at is None:
            alert.confirmed_at = timezone.now()
            alert.save(update_fields=["confirmed_at"])
        subscriber = alert.subscriber
        # Following a link from the mailbox shows the address works: failures so far are forgiven.
        if subscriber.paused_reason == PAUSED_BY_FAILURES or subscriber.hard_failures:
            Subscriber.objects.filter(pk=subscriber.pk, paused_reason__in=["", PAUSED_BY_FAILURES]).update(
                hard_failures=0, paused_at=None, paused_reason="")
    return alert


def alert_unsubscribe(*, alerts: list[Alert]) -> int:
    """Stop alerts at once; what they were owed and not yet sent is not sent."""
    now = timezone.now()
    return Alert.objects.filter(pk__in=[alert.pk for alert in alerts], unsubscribed_at__isnull=True).update(
        unsubscribed_at=now)


def subscriber_pause(*, subscribers: list[Subscriber], reason: str = PAUSED_BY_STAFF, moderator: str = "") -> int:
    """Send nothing more to these addresses (a staff member, or too many hard failures); what is waiting is
    not sent. A staff member's pause is recorded in the moderation log."""
    now = timezone.now()
    with transaction.atomic():
        paused = Subscriber.objects.filter(pk__in=[s.pk for s in subscribers], paused_at__isnull=True)
        ids = list(paused.values_list("pk", flat=True))
        Subscriber.objects.filter(pk__in=ids).update(paused_at=now, paused_reason=reason)
        Delivery.objects.unsent().filter(subscriber__in=ids).update(given_up_at=now, last_error="address paused")
        if moderator:
            _record(moderator, ids, "pause", _("Address paused by staff: no more emails are sent to it."))
    return len(ids)


def subscriber_resume(*, subscribers: list[Subscriber], moderator: str = "") -> int:
    with transaction.atomic():
        ids = [s.pk for s in subscribers]
        count = Subscriber.objects.filter(pk__in=ids).update(paused_at=None, paused_reason="", hard_failures=0)
        if moderator:
            _record(moderator, ids, "resume", _("Address resumed by staff: alerts are sent to it again."))
    return count


def _record(moderator: str, subscriber_ids: list[int], action: str, reason: str) -> None:
    AdminAction.objects.bulk_create([
        AdminAction(admin_name=moderator, target_type="subscriber", target_id=str(pk), action=action, reason=reason)
        for pk in subscriber_ids])


def bounce_record(*, subscriber: Subscriber, hard: bool, reason: str, delivery: Delivery | None = None) -> Bounce:
    """A refusal at send time, or a bounce the mail system reported later (`manage.py record_bounce`). After
    ALERT_MAX_HARD_FAILURES hard ones in a row (a sent email resets the count) the address is paused."""
    with transaction.atomic():
        bounce = Bounce.objects.create(subscriber=subscriber, delivery=delivery, hard=hard, reason=reason[:2000])
        if hard:
            Subscriber.objects.filter(pk=subscriber.pk).update(hard_failures=F("hard_failures") + 1)
            subscriber.refresh_from_db(fields=["hard_failures"])
            if subscriber.hard_failures >= settings.ALERT_MAX_HARD_FAILURES:
                subscriber_pause(subscribers=[subscriber], reason=PAUSED_BY_FAILURES)
    return bounce


def alerts_expire_unconfirmed(*, now: dt.datetime | None = None) -> int:
    """Delete sign-ups never confirmed within ALERT_CONFIRM_DAYS (their links have expired too)."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=settings.ALERT_CONFIRM_DAYS)
    deleted, _by_model = Alert.objects.filter(confirmed_at__isnull=True, created_at__lt=cutoff).delete()
    return deleted
