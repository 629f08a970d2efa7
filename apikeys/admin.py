"""API keys in the admin: issued through a form that asks for a reason (the secret is shown once, on the page that
answers the form, and stored nowhere), revoked through a change-list action that asks for one too. Both go through
apikeys.services, so each is one AdminAction. A key is never edited or deleted: its hash, prefix and scopes are
read-only; a key that should change is revoked and a new one issued.

Who may: superusers, and staff given the apikeys permissions (the Moderator group has none of them).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apikeys.models import ApiKey, Scope
from apikeys.services import TARGET_TYPE, api_key_issue, api_key_revoke
from bukaamanzi.lib.ratelimit import parse_rate
from changelog.models import AdminAction

REASON_HELP = _("Recorded in the moderation log with your name. Not shown to the public.")
REASON_REQUIRED = _("Give a reason: it is recorded with the action.")


class ReasonField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
                         help_text=REASON_HELP, error_messages={"required": REASON_REQUIRED}, **kwargs)

    def clean(self, value: Any) -> str:
        value = super().clean(value).strip()
        if not value:
            raise forms.ValidationError(REASON_REQUIRED)
        return value


class ApiKeyIssueForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(label=_("scopes"), choices=Scope.choices, widget=forms.CheckboxSelectMultiple)
    rate_limit = forms.CharField(label=_("rate limit"), max_length=20, required=False,
                                 help_text=_("Requests per period, e.g. 600/h (s, m, h or d)."))
    reason = ReasonField()

    class Meta:
        model = ApiKey
        fields = ("name", "owner_email", "scopes", "rate_limit")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["rate_limit"].initial = settings.API_KEY_RATE_LIMIT

    def clean_rate_limit(self) -> str:
        rate = self.cleaned_data["rate_limit"].strip() or settings.API_KEY_RATE_LIMIT
        try:
            parse_rate(rate)
        except ValueError as exc:
            raise forms.ValidationError(_("A rate looks like 600/h: a count per s, m, h or d.")) from exc
        return rate


class RevokeForm(forms.Form):
    reason = ReasonField()


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "owner_email", "scope_list", "rate_limit", "last_used_at", "created_at",
                    "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("name", "owner_email", "prefix")
    readonly_fields = ("name", "owner_email", "scope_list", "prefix", "rate_limit", "created_at", "created_by",
                       "last_used_at", "revoked_at")
    actions = ("revoke_keys",)

    @admin.display(description=_("scopes"))
    def scope_list(self, obj: ApiKey) -> str:
        return ", ".join(obj.scopes)

    def get_form(self, request: HttpRequest, obj: ApiKey | None = None, change: bool = False,
                 **kwargs: Any) -> type[forms.ModelForm]:
        if obj is None:
            kwargs["form"] = ApiKeyIssueForm
            kwargs["fields"] = None  # the form's own fields, reason included
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> list[str]:  # type: ignore[override]
        if obj is None:
            return ["name", "owner_email", "scopes", "rate_limit", "reason"]
        return list(self.readonly_fields)

    def get_readonly_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> tuple[str, ...]:
        return () if obj is None else self.readonly_fields

    def has_delete_permission(self, request: HttpRequest, obj: ApiKey | None = None) -> bool:
        return False  # revoked with a reason, never deleted: the log keeps pointing at the row

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        return {name: action for name, action in super().get_actions(request).items() if name != "delete_selected"}

    def changeform_view(self, request: HttpRequest, object_id: str | None = None, form_url: str = "",
                        extra_context: dict | None = None) -> HttpResponse:
        if request.method == "POST" and object_id is not None:
            raise PermissionDenied(_("An API key is not edited: revoke it with a reason and issue a new one."))
        extra_context = {**(extra_context or {}), "show_save_and_add_another": False,
                         "show_save_and_continue": False}
        if object_id is not None:
            extra_context.update(show_save=False, show_delete=False)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request: HttpRequest, obj: ApiKey, form: forms.ModelForm, change: bool) -> None:
        if change:  # the change form is read-only; nothing else saves a key
            return
        data = form.cleaned_data
        key, secret = api_key_issue(name=data["name"], owner_email=data["owner_email"], scopes=data["scopes"],
                                    rate_limit=data["rate_limit"], moderator=request.user.get_username(),
                                    reason=data["reason"])
        obj.pk, obj.prefix, obj.secret_hash, obj.created_at = key.pk, key.prefix, key.secret_hash, key.created_at
        # Kept on this request only, for response_add; never in the session, a message or the database.
        request._api_key_secret = secret  # type: ignore[attr-defined]

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets: Any, change: bool) -> None:
        """Nothing to save: api_key_issue wrote the row, and the form was never saved, so the admin's own
        `form.save_m2m()` here would fail (a key has no many-to-many fields or inlines)."""

    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        return None  # the AdminAction written by the service is the record

    def response_add(self, request: HttpRequest, obj: ApiKey, post_url_continue: str | None = None) -> HttpResponse:
        """The one page that shows the secret: rendered in answer to the form, never cached, never shown again."""
        response = TemplateResponse(request, "admin/apikeys/apikey/issued.html", {
            **self.admin_site.each_context(request),
            "opts": self.opts, "key": obj, "secret": request._api_key_secret,  # type: ignore[attr-defined]
            "title": _("API key issued"),
        })
        add_never_cache_headers(response)
        return response

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict | None = None) -> HttpResponse:
        extra_context = {
            **(extra_context or {}),
            "audit_actions": AdminAction.objects.filter(target_type=TARGET_TYPE, target_id=object_id)[:50],
        }
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description=_("Revoke the selected API keys…"), permissions=["change"])
    def revoke_keys(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> HttpResponse | None:
        form = RevokeForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            keys = list(queryset.filter(revoked_at__isnull=True))
            with transaction.atomic():  # all or none
                for key in keys:
                    api_key_revoke(key=key, moderator=request.user.get_username(),
                                   reason=form.cleaned_data["reason"])
            self.message_user(request, ngettext("%(count)d API key revoked.", "%(count)d API keys revoked.",
                                                len(keys)) % {"count": len(keys)}, messages.SUCCESS)
            return None
        return TemplateResponse(request, "admin/apikeys/apikey/revoke.html", {
            **self.admin_site.each_context(request),
            "opts": self.opts, "form": form, "keys": list(queryset), "title": _("Revoke API keys"),
            "selected": request.POST.getlist(ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across", "0"),
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        })
