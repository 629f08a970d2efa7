"""/api/v1/webhooks: API clients manage their own subscriptions with a key that has the `webhooks` scope.

A key sees and changes only the subscriptions it made. The signing secret is in the answer to the POST that
makes a subscription, and never again.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status

from apikeys.auth import ApiKeyBearer, KeyRateThrottle
from apikeys.models import ApiKey, Scope
from bukaamanzi.apitools import ApiError
from webhooks import services
from webhooks.models import Attempt, Subscription

router = Router(tags=["webhooks"], auth=ApiKeyBearer(Scope.WEBHOOKS), throttle=[KeyRateThrottle("webhooks")])


class SubscriptionIn(Schema):
    # Optional here so that a missing value gets the service's own 422 naming the field.
    url: str = ""
    event_types: list[str] = []
    municipality_code: str = ""
    province: str = ""
    description: str = ""


class SubscriptionPatch(Schema):
    url: str | None = None
    event_types: list[str] | None = None
    municipality_code: str | None = None
    province: str | None = None
    description: str | None = None
    enabled: bool | None = None


class SubscriptionOut(Schema):
    id: int
    url: str
    event_types: list[str]
    municipality_code: str
    province: str
    description: str
    created_at: dt.datetime
    enabled: bool
    disabled_at: dt.datetime | None
    disabled_reason: str
    failing_since: dt.datetime | None


class SubscriptionCreatedOut(SubscriptionOut):
    secret: str


class AttemptOut(Schema):
    delivery_id: int
    event_type: str
    webhook_id: str
    started_at: dt.datetime
    status_code: int | None
    latency_ms: int
    succeeded: bool
    error: str


def _out(subscription: Subscription) -> dict[str, object]:
    return {
        "id": subscription.pk, "url": subscription.url, "event_types": subscription.event_types,
        "municipality_code": subscription.municipality_code, "province": subscription.province,
        "description": subscription.description, "created_at": subscription.created_at,
        "enabled": subscription.is_active, "disabled_at": subscription.disabled_at,
        "disabled_reason": subscription.disabled_reason, "failing_since": subscription.failing_since,
    }


def _key(request: HttpRequest) -> ApiKey:
    key = request.auth  # type: ignore[attr-defined]
    assert isinstance(key, ApiKey)
    return key


def _who(key: ApiKey) -> str:
    return f"api: key {key.prefix} ({key.name})"


def _mine(request: HttpRequest, subscription_id: int) -> Subscription:
    return get_object_or_404(Subscription, pk=subscription_id, api_key=_key(request))


def _invalid(exc: ValidationError) -> ApiError:
    return ApiError.from_fields({field: [str(m) for m in messages] for field, messages in exc.message_dict.items()})


@router.get("/subscriptions", response=list[SubscriptionOut], summary="Your subscriptions")
def subscriptions_list(request: HttpRequest) -> list[dict[str, object]]:
    return [_out(s) for s in Subscription.objects.filter(api_key=_key(request)).order_by("pk")]


@router.post("/subscriptions", response={201: SubscriptionCreatedOut}, summary="Subscribe (the secret is shown once)")
def subscription_create(request: HttpRequest, payload: SubscriptionIn) -> Status:
    key = _key(request)
    try:
        subscription, secret = services.subscription_create(
            fields=services.SubscriptionFields(**payload.dict()), created_by=_who(key), api_key=key)
    except ValidationError as exc:
        raise _invalid(exc) from exc
    return Status(201, {**_out(subscription), "secret": secret})


@router.get("/subscriptions/{subscription_id}", response=SubscriptionOut, summary="One subscription")
def subscription_detail(request: HttpRequest, subscription_id: int) -> dict[str, object]:
    return _out(_mine(request, subscription_id))


@router.patch("/subscriptions/{subscription_id}", response=SubscriptionOut,
              summary="Change a subscription, or enable it again")
def subscription_change(request: HttpRequest, subscription_id: int, payload: SubscriptionPatch) -> dict[str, object]:
    subscription = _mine(request, subscription_id)
    who = _who(_key(request))
    changes = payload.dict(exclude_unset=True)
    enabled = changes.pop("enabled", None)
    try:
        if changes:
            current = {name: getattr(subscription, name)
                       for name in ("url", "event_types", "municipality_code", "province", "description")}
            fields = services.SubscriptionFields(**{**current, **{k: v for k, v in changes.items() if v is not None}})
            subscription = services.subscription_update(subscription=subscription, fields=fields, by=who)
        if enabled is not None:
            subscription = services.subscription_set_enabled(subscription=subscription, enabled=enabled, by=who)
    except ValidationError as exc:
        raise _invalid(exc) from exc
    return _out(subscription)


@router.delete("/subscriptions/{subscription_id}", response={204: None}, summary="Unsubscribe")
def subscription_remove(request: HttpRequest, subscription_id: int) -> Status:
    services.subscription_delete(subscription=_mine(request, subscription_id), by=_who(_key(request)))
    return Status(204, None)


@router.get("/subscriptions/{subscription_id}/attempts", response=list[AttemptOut],
            summary="The last 100 delivery attempts")
def subscription_attempts(request: HttpRequest, subscription_id: int) -> list[dict[str, object]]:
    subscription = _mine(request, subscription_id)
    attempts = Attempt.objects.filter(delivery__subscription=subscription).select_related(
        "delivery__event").order_by("-pk")[:100]
    return [{"delivery_id": a.delivery_id, "event_type": a.delivery.event.type,
             "webhook_id": a.delivery.event.message_id, "started_at": a.started_at, "status_code": a.status_code,
             "latency_ms": a.latency_ms, "succeeded": a.succeeded, "error": a.error} for a in attempts]
