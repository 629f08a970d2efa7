"""Alerts in the back office: addresses, their alerts, every email sent and every bounce, for staff only.

Addresses appear here and nowhere public. Staff can pause an address (nothing more is sent to it) and resume
it; both go through the services, which record the action in the moderation log. Deliveries and bounces are
records of what happened and cannot be edited.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from alerts.models import Alert, Bounce, Delivery, Subscriber
from alerts.services import subscriber_pause, subscriber_resume
from changelog.admin import ReadOnlyAdminMixin


class AlertInline(admin.TabularInline):
    model = Alert
    fields = ("kind", "target_key", "frequency", "language", "created_at", "confirmed_at", "unsubscribed_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = ("email", "created_at", "paused_at", "paused_reason", "hard_failures", "last_immediate_at",
                    "last_digest_at")
    list_filter = ("paused_reason",)
    search_fields = ("email",)
    readonly_fields = ("email", "created_at", "paused_at", "paused_reason", "hard_failures", "last_immediate_at",
                       "last_digest_at")
    inlines = [AlertInline]
    actions = ["pause", "resume"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # addresses sign up themselves, with double opt-in

    @admin.action(description=_("Pause: send nothing more to these addresses"), permissions=["change"])
    def pause(self, request: HttpRequest, queryset: QuerySet[Subscriber]) -> None:
        count = subscriber_pause(subscribers=list(queryset), moderator=request.user.get_username())
        self.message_user(request, ngettext("%(count)d address paused.", "%(count)d addresses paused.", count)
                          % {"count": count}, messages.SUCCESS)

    @admin.action(description=_("Resume: send alerts to these addresses again"), permissions=["change"])
    def resume(self, request: HttpRequest, queryset: QuerySet[Subscriber]) -> None:
        count = subscriber_resume(subscribers=list(queryset), moderator=request.user.get_username())
        self.message_user(request, ngettext("%(count)d address resumed.", "%(count)d addresses resumed.", count)
                          % {"count": count}, messages.SUCCESS)


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("pk", "subscriber", "kind", "target_key", "frequency", "language", "confirmed_at",
                    "unsubscribed_at")
    list_filter = ("kind", "frequency", "language")
    search_fields = ("subscriber__email", "target_key")
    list_select_related = ("subscriber",)
    fields = ("subscriber", "kind", "project", "municipality", "center", "radius_km", "place", "target_key",
              "frequency", "language", "created_at", "confirmed_at", "unsubscribed_at")
    readonly_fields = fields


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("pk", "subscriber", "kind", "frequency", "language", "created_at", "sent_at", "attempts",
                    "next_attempt_at", "given_up_at")
    list_filter = ("kind", "frequency")
    search_fields = ("subscriber__email",)
    list_select_related = ("subscriber",)
    fields = ("subscriber", "kind", "alert", "report", "admin_action", "frequency", "language", "created_at",
              "lease_until", "attempts", "next_attempt_at", "last_error", "sent_at", "given_up_at", "message_id")
    readonly_fields = fields


@admin.register(Bounce)
class BounceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "subscriber", "hard", "reason")
    list_filter = ("hard",)
    search_fields = ("subscriber__email",)
    list_select_related = ("subscriber",)
    fields = ("subscriber", "delivery", "hard", "reason", "created_at")
    readonly_fields = fields
