"""Webhooks in the admin: staff subscribe a receiver (the secret is shown once, on the page that answers the form),
disable and enable subscriptions, read the delivery log (every attempt: status, latency, the start of the answer)
and replay a delivery. Each of these goes through `webhooks.services` and is one AdminAction with its reason.

Who may: superusers, and staff given the webhooks permissions (the Moderator group has none of them).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apikeys.admin import ReasonField
from webhooks import services
from webhooks.models import Attempt, Delivery, EventType, Subscription


class SubscriptionForm(forms.ModelForm):
    url = forms.URLField(label=_("target URL"), max_length=500, assume_scheme="https")
    event_types = forms.MultipleChoiceField(label=_("event types"), choices=EventType.choices,
                                            widget=forms.CheckboxSelectMultiple)
    reason = ReasonField()

    class Meta:
        model = Subscription
        fields = ("url", "event_types", "municipality_code", "province", "description", "owner_email")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        try:
            # The service's own checks (the SSRF guard among them), so the form names the field at fault.
            services.subscription_fields_clean(self.fields_of(data))
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, errors)
        return data

    @staticmethod
    def fields_of(data: dict[str, Any]) -> services.SubscriptionFields:
        return services.SubscriptionFields(
            url=data.get("url") or "", event_types=list(data.get("event_types") or []),
            municipality_code=data.get("municipality_code") or "", province=data.get("province") or "",
            description=data.get("description") or "")


class ReasonForm(forms.Form):
    reason = ReasonField()


def _with_reason(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Any], action: str,
                 title: str) -> tuple[str | None, HttpResponse | None]:
    """(the reason, None) once given; else (None, the page that asks for it)."""
    form = ReasonForm(request.POST if "apply" in request.POST else None)
    if form.is_bound and form.is_valid():
        return form.cleaned_data["reason"], None
    return None, TemplateResponse(request, "admin/webhooks/reason.html", {
        **modeladmin.admin_site.each_context(request), "opts": modeladmin.opts, "form": form,
        "rows": list(queryset[:100]), "title": title, "action": action,
        "selected": request.POST.getlist(ACTION_CHECKBOX_NAME),
        "select_across": request.POST.get("select_across", "0"), "action_checkbox_name": ACTION_CHECKBOX_NAME,
    })


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    form = SubscriptionForm
    list_display = ("__str__", "url", "event_list", "municipality_code", "province", "api_key", "created_at",
                    "failing_since", "disabled_at")
    list_filter = (("disabled_at", admin.EmptyFieldListFilter),)
    search_fields = ("url", "description", "owner_email")
    readonly_fields = ("url", "event_list", "municipality_code", "province", "description", "owner_email",
                       "api_key", "created_at", "created_by", "failing_since", "disabled_at", "disabled_reason")
    actions = ("disable", "enable")

    @admin.display(description=_("event types"))
    def event_list(self, obj: Subscription) -> str:
        return ", ".join(obj.event_types)

    def get_fields(self, request: HttpRequest, obj: Subscription | None = None) -> list[str]:  # type: ignore[override]
        if obj is None:
            return [*SubscriptionForm.Meta.fields, "reason"]
        return list(self.readonly_fields)

    def get_form(self, request: HttpRequest, obj: Subscription | None = None, change: bool = False,
                 **kwargs: Any) -> type[forms.ModelForm]:
        if obj is None:
            kwargs["fields"] = None  # the form's own fields, reason included
        return super().get_form(request, obj, change, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Subscription | None = None) -> tuple[str, ...]:
        # Changed by removing and subscribing again, so the receiver gets a new secret with a new target.
        return () if obj is None else self.readonly_fields

    def save_model(self, request: HttpRequest, obj: Subscription, form: forms.ModelForm, change: bool) -> None:
        if change:
            return
        data = form.cleaned_data
        subscription, secret = services.subscription_create(
            fields=SubscriptionForm.fields_of(data), created_by=request.user.get_username(),
            owner_email=data.get("owner_email") or "", reason=data["reason"])
        obj.pk, obj.created_at = subscription.pk, subscription.created_at
        request._webhook_secret = secret  # type: ignore[attr-defined]  # this response only

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets: Any, change: bool) -> None:
        """Nothing to save: the service wrote the row."""

    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        return None  # the AdminAction written by the service is the record

    def response_add(self, request: HttpRequest, obj: Subscription,
                     post_url_continue: str | None = None) -> HttpResponse:
        response = TemplateResponse(request, "admin/webhooks/created.html", {
            **self.admin_site.each_context(request), "opts": self.opts, "subscription": obj,
            "secret": request._webhook_secret, "title": _("Webhook subscription made"),  # type: ignore[attr-defined]
        })
        add_never_cache_headers(response)
        return response

    def delete_model(self, request: HttpRequest, obj: Subscription) -> None:
        services.subscription_delete(subscription=obj, by=request.user.get_username(),
                                     reason=str(_("Deleted in the admin.")))

    @admin.action(description=_("Disable the selected subscriptions…"), permissions=["change"])
    def disable(self, request: HttpRequest, queryset: QuerySet[Subscription]) -> HttpResponse | None:
        return self._set_enabled(request, queryset, enabled=False)

    @admin.action(description=_("Enable the selected subscriptions again…"), permissions=["change"])
    def enable(self, request: HttpRequest, queryset: QuerySet[Subscription]) -> HttpResponse | None:
        return self._set_enabled(request, queryset, enabled=True)

    def _set_enabled(self, request: HttpRequest, queryset: QuerySet[Subscription], *,
                     enabled: bool) -> HttpResponse | None:
        title = str(_("Enable subscriptions") if enabled else _("Disable subscriptions"))
        reason, page = _with_reason(self, request, queryset, "enable" if enabled else "disable", title)
        if reason is None:
            return page
        for subscription in queryset:
            services.subscription_set_enabled(subscription=subscription, enabled=enabled,
                                              by=request.user.get_username(), reason=reason)
        self.message_user(request, ngettext("%(count)d subscription changed.", "%(count)d subscriptions changed.",
                                            queryset.count()) % {"count": queryset.count()}, messages.SUCCESS)
        return None


class AttemptInline(admin.TabularInline):
    model = Attempt
    extra = 0
    can_delete = False
    fields = ("started_at", "status_code", "latency_ms", "succeeded", "response_excerpt", "error")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """The delivery log: one row per event owed to a subscription, its attempts inline."""

    list_display = ("pk", "subscription", "event_type", "status", "attempts", "next_attempt_at", "delivered_at",
                    "created_at")
    list_filter = ("status", "event__type")
    list_select_related = ("subscription", "event")
    readonly_fields = ("subscription", "event", "event_type", "status", "attempts", "next_attempt_at",
                       "delivered_at", "created_at", "payload")
    fields = readonly_fields
    inlines = (AttemptInline,)
    actions = ("replay",)

    @admin.display(description=_("event type"))
    def event_type(self, obj: Delivery) -> str:
        return obj.event.type

    @admin.display(description=_("payload"))
    def payload(self, obj: Delivery) -> str:
        return str(obj.event.payload)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Send the selected deliveries again…"), permissions=["change"])
    def replay(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> HttpResponse | None:
        reason, page = _with_reason(self, request, queryset, "replay", str(_("Send again")))
        if reason is None:
            return page
        done = 0
        for delivery in queryset.select_related("subscription"):
            try:
                services.delivery_replay(delivery=delivery, moderator=request.user.get_username(), reason=reason)
                done += 1
            except ValidationError as exc:
                self.message_user(request, f"{delivery}: {'; '.join(exc.messages)}", messages.ERROR)
        self.message_user(request, ngettext("%(count)d delivery queued again.", "%(count)d deliveries queued again.",
                                            done) % {"count": done}, messages.SUCCESS)
        return None
