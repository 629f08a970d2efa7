"""Webhook subscriptions, the events they hear of and every attempt to deliver one.

Written by `webhooks.services` (subscriptions, replays), `webhooks.fanout` (events and deliveries, from the change
log and failed ingestion runs) and `webhooks.delivery` (attempts, retries, disabling).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apikeys.models import ApiKey
from changelog.models import DataChangeLog
from ingestion.models import IngestionRun
from municipalities.models import Province


class EventType(models.TextChoices):
    """The events a subscription can ask for; defined once here (API schema, admin form, fan-out and docs)."""

    PROJECT_CREATED = "project.created", _("A project was added")
    PROJECT_UPDATED = "project.updated", _("A project or its budget changed")
    REPORT_CREATED = "report.created", _("A community report was sent")
    REPORT_UPDATED = "report.updated", _("A community report changed")
    REPORT_STATE_CHANGED = "report.state_changed", _("A community report's state changed")
    INGESTION_FAILED = "ingestion.failed", _("A data source could not be read")


class SubscriptionQuerySet(models.QuerySet["Subscription"]):
    def active(self) -> SubscriptionQuerySet:
        return self.filter(disabled_at__isnull=True)


class Subscription(models.Model):
    # Who owns it: an API key (managed through the API) or staff (managed in the admin, `api_key` empty).
    api_key = models.ForeignKey(ApiKey, verbose_name=_("API key"), null=True, blank=True, on_delete=models.CASCADE,
                                related_name="webhook_subscriptions")
    owner_email = models.EmailField(_("owner's email"), blank=True,
                                    help_text=_("Told when the subscription is disabled after failing."))
    description = models.CharField(_("description"), max_length=200, blank=True)
    url = models.URLField(_("target URL"), max_length=500)
    # A JSON list of EventType values (at most six, read whole with the row, never queried in SQL).
    event_types = models.JSONField(_("event types"), default=list)
    municipality_code = models.CharField(_("only this municipality (MDB code)"), max_length=10, blank=True)
    province = models.CharField(_("only this province"), max_length=3, choices=Province.choices, blank=True)
    # The signing key ("whsec_" + base64 of 32 random bytes). Kept in clear: signing needs it, and unlike an API key
    # it lets nobody into the site; it is shown once, when made, and never again.
    secret = models.CharField(_("signing secret"), max_length=100, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.CharField(_("created by"), max_length=150, editable=False)
    # When deliveries started failing without a success since; cleared by the next success.
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True, editable=False)
    disabled_at = models.DateTimeField(_("disabled"), null=True, blank=True, editable=False)
    disabled_reason = models.CharField(_("why disabled"), max_length=300, blank=True, editable=False)

    objects = SubscriptionQuerySet.as_manager()

    class Meta:
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(condition=~Q(secret=""), name="webhook_secret_required")]

    def __str__(self) -> str:
        return self.description or self.url

    @property
    def is_active(self) -> bool:
        return self.disabled_at is None


class Event(models.Model):
    """One thing that happened, as it is sent: the body is built once, so every delivery and replay of it is the
    same bytes. A change or a failed run makes at most one event (the unique keys), which is also how the fan-out
    knows it has seen it."""

    type = models.CharField(_("type"), max_length=30, choices=EventType.choices)
    change = models.OneToOneField(DataChangeLog, verbose_name=_("change"), null=True, blank=True,
                                  on_delete=models.CASCADE, related_name="+")
    run = models.OneToOneField(IngestionRun, verbose_name=_("ingestion run"), null=True, blank=True,
                               on_delete=models.CASCADE, related_name="+")
    payload = models.JSONField(_("payload"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        ordering = ["-pk"]

    def __str__(self) -> str:
        return f"{self.type} #{self.pk}"

    @property
    def message_id(self) -> str:
        """The `webhook-id`: the same for every attempt and replay, so receivers can drop repeats."""
        return f"msg_{self.pk}"


class ChangeSeen(models.Model):
    """Changes the fan-out has read above its floor (see `webhooks.fanout`): ids commit out of order on PostgreSQL,
    so a cursor alone could skip a change committed late; rows below the floor are deleted."""

    change = models.OneToOneField(DataChangeLog, primary_key=True, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("change seen by webhooks")
        verbose_name_plural = _("changes seen by webhooks")

    def __str__(self) -> str:
        return str(self.change_id)


class FanoutFloor(models.Model):
    """One row: every change with an id at or below `change_id` has been fanned out."""

    change_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("webhook fan-out position")
        verbose_name_plural = _("webhook fan-out positions")

    def __str__(self) -> str:
        return str(self.change_id)


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Delivered")
    FAILED = "failed", _("Failed: no retries left")


class DeliveryQuerySet(models.QuerySet["Delivery"]):
    def pending(self) -> DeliveryQuerySet:
        return self.filter(status=DeliveryStatus.PENDING)


class Delivery(models.Model):
    """One event owed to one subscription, with its retry state. Attempts are its log."""

    subscription = models.ForeignKey(Subscription, verbose_name=_("subscription"), on_delete=models.CASCADE,
                                     related_name="deliveries")
    event = models.ForeignKey(Event, verbose_name=_("event"), on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(_("status"), max_length=10, choices=DeliveryStatus.choices,
                              default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    # A sender's lease: one that dies holding it leaves the delivery to the next pass once it ends.
    lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    lease_token = models.CharField(max_length=32, blank=True, editable=False)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-pk"]
        constraints = [models.UniqueConstraint(fields=["subscription", "event"], name="webhook_delivery_once")]
        indexes = [models.Index(fields=["next_attempt_at"], name="webhook_delivery_due_idx",
                                condition=Q(status="pending"))]

    def __str__(self) -> str:
        return f"{self.event} → {self.subscription}"


class Attempt(models.Model):
    """One POST: what the target answered (or why it did not), and how long it took."""

    delivery = models.ForeignKey(Delivery, verbose_name=_("delivery"), on_delete=models.CASCADE,
                                 related_name="attempt_log")
    started_at = models.DateTimeField(_("sent"))
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    latency_ms = models.PositiveIntegerField(_("latency (ms)"))
    succeeded = models.BooleanField(_("succeeded"))
    response_excerpt = models.CharField(_("response (start)"), max_length=500, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        ordering = ["-pk"]

    def __str__(self) -> str:
        return f"{self.delivery_id} {self.status_code or self.error[:40]}"
