"""The ban list in the admin (reports.bans): listed through a form that asks for a reason, taken off through a
change-list action (or a button on a ban's page) that asks for one too. Both go through the services, so each
is one AdminAction; bans are never edited or deleted directly.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from changelog.models import AdminAction
from reports.admin import HISTORY_ROWS, ModeratedAdmin, Moderation
from reports.admin_forms import ReasonForm
from reports.bans import ban_add, ban_remove, ban_value
from reports.errors import ReportError
from reports.models import Ban


class BanForm(forms.ModelForm):
    """A new entry on the ban list: what to list and why (the value is normalised, an IP address hashed)."""

    class Meta:
        model = Ban
        fields = ("kind", "value", "reason")
        widgets = {"reason": forms.Textarea(attrs={"rows": 3})}
        help_texts = {
            "value": _("An email address; a domain such as example.org (it covers its subdomains); or, for a client "
                       "address, the address key shown on a report's or an update's page, or an IP address, which "
                       "is hashed at once and never stored."),
            "reason": _("Recorded in the moderation log with your name. Not shown to the public."),
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("kind") and data.get("value"):
            try:
                data["value"] = ban_value(kind=data["kind"], value=data["value"])
            except ReportError as exc:
                self.add_error(exc.field if exc.field in self.fields else None, exc.message)
        return data


def _remove(bans: list[Ban], moderator: str, data: dict[str, Any]) -> int:
    with transaction.atomic():  # all or none, as the moderation actions on reports
        for ban in bans:
            ban_remove(ban=ban, moderator=moderator, reason=data["reason"])
    return len(bans)


@admin.register(Ban)
class BanAdmin(ModeratedAdmin):
    list_display = ("value", "kind", "reason_start", "created_by", "created_at")
    list_filter = ("kind",)
    search_fields = ("value", "reason", "created_by")
    date_hierarchy = "created_at"
    show_full_result_count = False
    list_per_page = 100
    form = BanForm
    change_form_template = "admin/reports/ban_change_form.html"
    actions = ("remove_bans",)
    moderations = {"unban": Moderation(_("Remove from the ban list"), ReasonForm, _remove)}
    action_of_moderation = {"unban": "remove_bans"}

    @admin.display(description=_("reason"))
    def reason_start(self, obj: Ban) -> str:
        return obj.reason[:80]

    def get_fields(self, request: HttpRequest, obj: Ban | None = None) -> list[str]:  # type: ignore[override]
        if obj is None:
            return ["kind", "value", "reason"]
        return ["kind", "value", "reason", "created_by", "created_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: Ban | None = None) -> list[str]:
        return [] if obj is None else self.get_fields(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Ban | None = None) -> bool:
        return False  # taken off the list with a reason (remove_bans), never deleted

    def save_model(self, request: HttpRequest, obj: Ban, form: forms.ModelForm, change: bool) -> None:
        if change:  # the change form is read-only; nothing else saves a ban
            return
        ban = ban_add(kind=obj.kind, value=obj.value, moderator=request.user.get_username(), reason=obj.reason)
        obj.pk, obj.value, obj.created_by, obj.created_at = ban.pk, ban.value, ban.created_by, ban.created_at

    def changeform_view(self, request: HttpRequest, object_id: str | None = None, form_url: str = "",
                        extra_context: dict | None = None) -> HttpResponse:
        if request.method == "POST" and object_id is not None:
            raise PermissionDenied(_("A ban is not edited: remove it with a reason, and list the sender anew."))
        return super().changeform_view(request, object_id, form_url, extra_context)

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict | None = None) -> HttpResponse:
        extra_context = {
            **(extra_context or {}),
            "show_save": False, "show_save_and_continue": False, "show_save_and_add_another": False,
            "show_delete": False,
            "moderation_links": self.moderation_links(request, object_id),
            "audit_actions": AdminAction.objects.filter(target_type="ban", target_id=object_id)[:HISTORY_ROWS],
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def moderate_one_view(self, request: HttpRequest, object_id: str, name: str) -> HttpResponse:
        response = super().moderate_one_view(request, object_id, name)
        if isinstance(response, HttpResponseRedirect) and not Ban.objects.filter(pk=object_id).exists():
            return HttpResponseRedirect(reverse("admin:reports_ban_changelist"))  # its page is gone with it
        return response

    @admin.action(description=_("Remove from the ban list…"), permissions=["change"])
    def remove_bans(self, request: HttpRequest, queryset: QuerySet[Ban]) -> HttpResponse | None:
        return self._moderate(request, queryset, "unban")
