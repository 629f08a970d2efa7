"""Making, changing and removing webhook subscriptions, and staff's replays and re-enabling.

The same services serve API clients (their key owns the subscription) and staff in the admin (recorded as an
`AdminAction` with the reason, never the secret). A target is checked by the SSRF guard here and again at every
delivery. The signing secret is made here and returned once, by `subscription_create`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apikeys.models import ApiKey
from changelog.models import AdminAction
from municipalities.models import Municipality, Province
from webhooks import tasks
from webhooks.models import Delivery, DeliveryStatus, EventType, Subscription
from webhooks.signing import secret_new
from webhooks.targets import TargetRefused, check_target

TARGET_TYPE = "webhook_subscription"
MAX_PER_KEY = 20
MAX_URL_LENGTH = 500  # Subscription.url's max_length


@dataclass(frozen=True)
class SubscriptionFields:
    url: str
    event_types: list[str]
    municipality_code: str = ""
    province: str = ""
    description: str = ""


def subscription_fields_clean(fields: SubscriptionFields) -> SubscriptionFields:
    """The fields as stored, or ValidationError naming each bad field and why."""
    errors: dict[str, str] = {}
    url = fields.url.strip()
    try:
        if len(url) > MAX_URL_LENGTH:
            raise TargetRefused(_("At most %(count)s characters.") % {"count": MAX_URL_LENGTH})
        URLValidator(schemes=["http", "https"])(url)
        check_target(url, allow_private=settings.WEBHOOKS_ALLOW_PRIVATE)
    except ValidationError:
        errors["url"] = _("Give an http or https URL.")
    except TargetRefused as exc:
        errors["url"] = str(exc)
    types = list(dict.fromkeys(fields.event_types))
    unknown = [t for t in types if t not in EventType.values]
    if unknown:
        errors["event_types"] = _("Unknown event type %(type)s: use %(choices)s.") % {
            "type": unknown[0], "choices": ", ".join(EventType.values)}
    elif not types:
        errors["event_types"] = _("Choose at least one event type.")
    code = fields.municipality_code.strip().upper()
    if code and not Municipality.objects.filter(code__iexact=code).exists():
        errors["municipality_code"] = _("No municipality has the code %(code)s.") % {"code": code}
    province = fields.province.strip().upper()
    if province and province not in Province.values:
        errors["province"] = _("Unknown province %(province)s: use %(choices)s.") % {
            "province": province, "choices": ", ".join(Province.values)}
    if code and province:
        errors["province"] = _("Filter by a municipality or by a province, not both.")
    if len(fields.description) > 200:
        errors["description"] = _("At most 200 characters.")
    if errors:
        raise ValidationError({field: [message] for field, message in errors.items()})
    return SubscriptionFields(url=url, event_types=types, municipality_code=code, province=province,
                              description=fields.description.strip())


def subscription_create(*, fields: SubscriptionFields, created_by: str, api_key: ApiKey | None = None,
                        owner_email: str = "", reason: str = "") -> tuple[Subscription, str]:
    """A new subscription and its signing secret, which the caller shows once."""
    clean = subscription_fields_clean(fields)
    if owner_email:
        validate_email(owner_email)
    if api_key is not None and Subscription.objects.filter(api_key=api_key).count() >= MAX_PER_KEY:
        raise ValidationError({"url": _("A key may have at most %(count)s subscriptions.") % {"count": MAX_PER_KEY}})
    secret = secret_new()
    with transaction.atomic():
        subscription = Subscription.objects.create(
            api_key=api_key, owner_email=owner_email.strip().lower(), description=clean.description, url=clean.url,
            event_types=clean.event_types, municipality_code=clean.municipality_code, province=clean.province,
            secret=secret, created_by=created_by[:150])
        if api_key is None:
            _record(subscription, created_by, "create", reason)
    return subscription, secret


def subscription_update(*, subscription: Subscription, fields: SubscriptionFields, by: str,
                        reason: str = "") -> Subscription:
    clean = subscription_fields_clean(fields)
    with transaction.atomic():
        for name in ("url", "event_types", "municipality_code", "province", "description"):
            setattr(subscription, name, getattr(clean, name))
        subscription.save(update_fields=["url", "event_types", "municipality_code", "province", "description"])
        if subscription.api_key_id is None:
            _record(subscription, by, "update", reason)
    return subscription


def subscription_delete(*, subscription: Subscription, by: str, reason: str = "") -> None:
    with transaction.atomic():
        if subscription.api_key_id is None:
            _record(subscription, by, "delete", reason)
        subscription.delete()


def subscription_set_enabled(*, subscription: Subscription, enabled: bool, by: str, reason: str = "") -> Subscription:
    """Disable, or enable again (its failure window starts afresh; deliveries still pending are sent)."""
    with transaction.atomic():
        locked = Subscription.objects.select_for_update().get(pk=subscription.pk)
        if enabled == locked.is_active:
            return locked
        locked.disabled_at = None if enabled else timezone.now()
        locked.disabled_reason = "" if enabled else (reason or _("Disabled by its owner."))[:300]
        locked.failing_since = None
        locked.save(update_fields=["disabled_at", "disabled_reason", "failing_since"])
        if locked.api_key_id is None or reason:
            _record(locked, by, "enable" if enabled else "disable", reason)
        if enabled:
            transaction.on_commit(tasks.queue_pass)
    return locked


def delivery_replay(*, delivery: Delivery, moderator: str, reason: str) -> Delivery:
    """Send a delivery again now (the same webhook-id, so a receiver that had it drops it); recorded."""
    if not reason.strip():
        raise ValidationError({"reason": _("Give a reason: it is recorded in the moderation log.")})
    if not delivery.subscription.is_active:
        raise ValidationError({"subscription": _("The subscription is disabled: enable it first.")})
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.PENDING, next_attempt_at=timezone.now(),
                                                       lease_until=None)
        AdminAction.objects.create(admin_name=moderator, target_type="webhook_delivery", target_id=str(delivery.pk),
                                   action="replay", reason=reason.strip(),
                                   metadata={"subscription": delivery.subscription_id, "event": delivery.event_id})
        transaction.on_commit(tasks.queue_pass)
    delivery.refresh_from_db()
    return delivery


def _record(subscription: Subscription, by: str, action: str, reason: str) -> None:
    AdminAction.objects.create(
        admin_name=by[:150], target_type=TARGET_TYPE, target_id=str(subscription.pk), action=action,
        reason=reason.strip() or _("Managed in the admin."),
        metadata={"url": subscription.url, "event_types": subscription.event_types})


def event_types_of(values: Iterable[str]) -> list[str]:
    return [value for value in values if value in EventType.values]
