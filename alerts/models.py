"""Email alerts: who follows what, what each change owes them, and every email sent.

The change log is the outbox: `alerts.matching` turns each new change-log row into one `AlertItem` per alert it
concerns (unique per alert and change), and `alerts.delivery` claims due items into a `Delivery` in the same
transaction that creates it. An item belongs to at most one delivery, so no change is sent twice; an item is
never deleted before it is delivered or expires, so none is skipped.
"""

from __future__ import annotations

from django.contrib.gis.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Subscriber(models.Model):
    """One email address. Never shown outside the admin; paused addresses get nothing."""

    email = models.EmailField(_("email"), unique=True)  # stored lower-cased (alerts.services.normalise_email)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # The last alert email of each frequency: immediate alerts are at most one per address per 5 minutes, and
    # the daily digest is sent once a day.
    last_immediate_at = models.DateTimeField(_("last immediate email"), null=True, blank=True)
    last_digest_at = models.DateTimeField(_("last daily digest"), null=True, blank=True)
    hard_failures = models.PositiveIntegerField(_("hard failures in a row"), default=0)
    paused_at = models.DateTimeField(_("paused"), null=True, blank=True)
    paused_reason = models.CharField(_("why paused"), max_length=200, blank=True)
    # The address asked never to get "is it fixed?" about its reports again.
    no_questionnaire_at = models.DateTimeField(_("no “is it fixed?” emails since"), null=True, blank=True)

    class Meta:
        verbose_name = _("subscriber")
        verbose_name_plural = _("subscribers")

    def __str__(self) -> str:
        return self.email


class AlertKind(models.TextChoices):
    PROJECT = "project", _("A project")
    MUNICIPALITY = "municipality", _("A municipality")
    AREA = "area", _("An area")


class Frequency(models.TextChoices):
    IMMEDIATE = "immediate", _("As it happens (at most one email every 5 minutes)")
    DAILY = "daily", _("A daily summary at 07:00")


class AlertQuerySet(models.QuerySet["Alert"]):
    def active(self) -> AlertQuerySet:
        """Confirmed, not unsubscribed, and the address not paused."""
        return self.filter(confirmed_at__isnull=False, unsubscribed_at__isnull=True,
                           subscriber__paused_at__isnull=True)


class Alert(models.Model):
    subscriber = models.ForeignKey(Subscriber, verbose_name=_("subscriber"), on_delete=models.CASCADE,
                                   related_name="alerts")
    kind = models.CharField(_("what is followed"), max_length=12, choices=AlertKind.choices)
    project = models.ForeignKey("projects.Project", verbose_name=_("project"), null=True, blank=True,
                                on_delete=models.CASCADE, related_name="+")
    municipality = models.ForeignKey("municipalities.Municipality", verbose_name=_("municipality"), null=True,
                                     blank=True, on_delete=models.CASCADE, related_name="+")
    center = models.PointField(_("centre of the area"), srid=4326, null=True, blank=True)
    radius_km = models.DecimalField(_("radius (km)"), max_digits=4, decimal_places=1, null=True, blank=True)
    place = models.CharField(_("place named"), max_length=200, blank=True)
    # What the alert is about, as one string ("project:<id>", "municipality:<code>", "area:<lat>,<lng>,<km>"): the
    # unique constraint on it is what makes asking twice for the same thing one alert, even from two requests.
    target_key = models.CharField(_("target"), max_length=120)
    frequency = models.CharField(_("how often"), max_length=10, choices=Frequency.choices,
                                 default=Frequency.IMMEDIATE)
    language = models.CharField(_("language"), max_length=10)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    unsubscribed_at = models.DateTimeField(_("unsubscribed"), null=True, blank=True)

    objects = AlertQuerySet.as_manager()

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        constraints = [
            models.UniqueConstraint(fields=["subscriber", "target_key"], condition=Q(unsubscribed_at__isnull=True),
                                    name="alert_one_per_target"),
            models.CheckConstraint(
                condition=(Q(kind="project", project__isnull=False)
                           | Q(kind="municipality", municipality__isnull=False)
                           | Q(kind="area", center__isnull=False, radius_km__gte=0.5, radius_km__lte=50)),
                name="alert_target_matches_kind",
            ),
        ]
        indexes = [
            models.Index(fields=["project"], name="alert_project_idx", condition=Q(project__isnull=False)),
            models.Index(fields=["municipality"], name="alert_municipality_idx",
                         condition=Q(municipality__isnull=False)),
            models.Index(fields=["created_at"], name="alert_unconfirmed_idx", condition=Q(confirmed_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.target_key}"


class DeliveryKind(models.TextChoices):
    CONFIRMATION = "confirmation", _("Confirmation request")
    ALERTS = "alerts", _("Alert email")
    # To the person who sent a report (alerts.reporters): its private link, and "is it fixed?" four weeks on.
    REPORTER_LINK = "reporter_link", _("Report's private link")
    QUESTIONNAIRE = "questionnaire", _("“Is it fixed?”")
    # To the person who sent a report or an update: what one moderation action changed and why
    # (alerts.moderation_notices).
    MODERATION = "moderation", _("Moderation notice")


class DeliveryQuerySet(models.QuerySet["Delivery"]):
    def unsent(self) -> DeliveryQuerySet:
        return self.filter(sent_at__isnull=True, given_up_at__isnull=True)


class Delivery(models.Model):
    """One email: what it covers (its items, or the alert to confirm) is fixed when the row is written."""

    subscriber = models.ForeignKey(Subscriber, verbose_name=_("subscriber"), on_delete=models.CASCADE,
                                   related_name="deliveries")
    kind = models.CharField(_("kind"), max_length=20, choices=DeliveryKind.choices)
    alert = models.ForeignKey(Alert, verbose_name=_("alert to confirm"), null=True, blank=True,
                              on_delete=models.CASCADE, related_name="confirmations")
    report = models.ForeignKey("reports.Report", verbose_name=_("report (emails to its sender)"), null=True,
                               blank=True, on_delete=models.CASCADE, related_name="+")
    # A moderation notice tells one AdminAction. PROTECT: the moderation log is never edited or deleted, and a
    # delivery whose action went would have nothing to say (nor could its unique constraint keep it told once).
    # Not the report: a notice must outlive the report's deletion, and a report has many moderations.
    admin_action = models.ForeignKey("changelog.AdminAction", verbose_name=_("moderation action told"), null=True,
                                     blank=True, on_delete=models.PROTECT, related_name="+")
    frequency = models.CharField(_("how often"), max_length=10, choices=Frequency.choices, blank=True)
    language = models.CharField(_("language"), max_length=10)
    created_at = models.DateTimeField(_("claimed"), auto_now_add=True)
    # A sender holds a delivery until `lease_until`; one that dies leaves it to be taken again after that.
    lease_until = models.DateTimeField(_("held by a sender until"), null=True, blank=True)
    lease_token = models.CharField(_("sender's lease"), max_length=32, blank=True, db_index=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    given_up_at = models.DateTimeField(_("given up"), null=True, blank=True)
    message_id = models.CharField(_("Message-ID"), max_length=200, blank=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-pk"]
        constraints = [
            # A report's sender gets its link once and is asked "is it fixed?" once, however many senders run.
            models.UniqueConstraint(fields=["report", "kind"], condition=Q(report__isnull=False),
                                    name="delivery_once_per_report"),
            # One email per moderation action, however many senders write it at once.
            models.UniqueConstraint(fields=["admin_action"], condition=Q(admin_action__isnull=False),
                                    name="delivery_once_per_admin_action"),
        ]
        indexes = [
            models.Index(fields=["next_attempt_at"], name="delivery_unsent_idx",
                         condition=Q(sent_at__isnull=True, given_up_at__isnull=True)),
            models.Index(fields=["subscriber", "created_at"], name="delivery_subscriber_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class AlertItem(models.Model):
    """One change that one alert is owed. `delivery` is set, once, by the transaction that claims it."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="items")
    change = models.ForeignKey("changelog.DataChangeLog", on_delete=models.CASCADE, related_name="+")
    # For a report: the report, so the send step can hold it back (new sender) or drop it (moderated).
    report = models.ForeignKey("reports.Report", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    delivery = models.ForeignKey(Delivery, null=True, blank=True, on_delete=models.SET_NULL, related_name="items")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("alert item")
        verbose_name_plural = _("alert items")
        constraints = [models.UniqueConstraint(fields=["alert", "change"], name="alert_item_once")]
        indexes = [models.Index(fields=["alert"], name="alert_item_pending_idx", condition=Q(delivery__isnull=True))]


class Bounce(models.Model):
    """A refusal by the receiving server (at send time) or a bounce reported later; staff read them."""

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="bounces")
    delivery = models.ForeignKey(Delivery, null=True, blank=True, on_delete=models.SET_NULL, related_name="bounces")
    hard = models.BooleanField(_("hard (the address does not work)"), default=True)
    reason = models.TextField(_("reason"))
    created_at = models.DateTimeField(_("when"), auto_now_add=True)

    class Meta:
        verbose_name = _("bounce")
        verbose_name_plural = _("bounces")
        ordering = ["-pk"]
