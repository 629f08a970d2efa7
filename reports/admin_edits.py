"""The "Edit" page of a report or an update in the admin: moderators change what a resident wrote, with a reason,
and put any kept original back on its own (the services and their rules: `reports.editing`).

The page is reached from the item's moderation buttons (`EditableAdmin`, mixed into the two moderated admins).
Each form carries `started`, the newest moderation of the item when the page was shown; when someone moderated
it since, nothing is saved and the page shows the latest values with "Someone moderated this since you opened it."
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from reports.admin_forms import ReasonForm
from reports.editing import (
    REPORT_TARGET,
    UPDATE_TARGET,
    ModeratedSince,
    latest_action_id,
    report_edit,
    report_revert_field,
    update_edit,
    update_revert_field,
)
from reports.models import Report, ReportType, ReportUpdate
from reports.services import ReportError

if TYPE_CHECKING:
    # Typing only (no import at run time): reports.admin imports this module to mix EditableAdmin in.
    from reports.admin import ModeratedAdmin

    _AdminBase = ModeratedAdmin
else:
    _AdminBase = object


class _StartedForm(ReasonForm):
    started = forms.IntegerField(widget=forms.HiddenInput, min_value=0)


class _EditForm(_StartedForm):
    """The editable fields carry the value shown (`show_hidden_initial`), so that only what the moderator changed
    is saved: a field someone else changed meanwhile without a moderation (the reporter hiding their name, say),
    which the stale-form guard does not see, is not put back to what the page showed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if name not in ("reason", "started"):
                field.show_hidden_initial = True

    def given(self, name: str) -> Any:
        """The value typed, or None when the moderator left the field as shown (the services then leave it)."""
        return self.cleaned_data[name] if name in self.changed_data else None


class ReportEditForm(_EditForm):
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(label=_("Description"), max_length=5000, widget=forms.Textarea(attrs={"rows": 6}))
    latitude = forms.FloatField(label=_("Latitude"), min_value=-90, max_value=90,
                                help_text=_("Decimal degrees, south negative (for example -33.92490)."))
    longitude = forms.FloatField(label=_("Longitude"), min_value=-180, max_value=180,
                                 help_text=_("Decimal degrees, east positive (for example 18.42410)."))
    report_type = forms.ChoiceField(label=_("Type"), choices=ReportType.choices,
                                    help_text=_("A problem changed to news is marked “noted” if it was still "
                                                "waiting for a fix; news changed to a problem is open."))
    contributor_name = forms.CharField(label=_("Name shown"), max_length=100, required=False,
                                       help_text=_("Leave empty to show the report as sent by a resident."))
    field_order = ("title", "description", "latitude", "longitude", "report_type", "contributor_name", "reason")


class UpdateEditForm(_EditForm):
    text = forms.CharField(label=_("Text"), max_length=5000, widget=forms.Textarea(attrs={"rows": 6}))
    contributor_name = forms.CharField(label=_("Name shown"), max_length=100, required=False,
                                       help_text=_("Leave empty to show the update as sent by a resident."))
    field_order = ("text", "contributor_name", "reason")


class RevertForm(_StartedForm):
    field = forms.CharField(widget=forms.HiddenInput)


# Where a service error about a field is shown on the edit form.
ERROR_FIELDS = {"location": "latitude"}
FIELD_LABELS = {"title": _("Title"), "description": _("Description"), "location": _("Place"),
                "report_type": _("Type"), "contributor_name": _("Name shown"), "text": _("Text")}


@dataclass(frozen=True)
class KeptOriginal:
    field: str
    label: Promise
    value: str
    form: RevertForm


def _current(item: Report | ReportUpdate) -> dict[str, Any]:
    """The editable values as the form shows them."""
    if isinstance(item, ReportUpdate):
        return {"text": item.text, "contributor_name": item.contributor_name}
    return {"title": item.title, "description": item.description, "latitude": item.location.y,
            "longitude": item.location.x, "report_type": item.report_type,
            "contributor_name": item.contributor_name}


def _shown(field: str, value: Any) -> str:
    """A kept original as a moderator reads it."""
    if field == "location" and isinstance(value, list) and len(value) == 2:
        return gettext("latitude %(lat)s, longitude %(lng)s") % {"lat": value[1], "lng": value[0]}
    if field == "report_type" and value in ReportType.values:
        return str(ReportType(value).label)
    if field == "contributor_name" and not value:
        return gettext("(no name shown)")
    return str(value)


class EditableAdmin(_AdminBase):
    """Mixed into ModeratedAdmin subclasses for reports and updates: the edit page's URL and its button."""

    def get_urls(self) -> list[URLPattern]:
        return [path("<path:object_id>/edit/", self.admin_site.admin_view(self.edit_view), name=self._edit_url_name),
                *super().get_urls()]

    @property
    def _edit_url_name(self) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_edit"

    def moderation_links(self, request: HttpRequest, object_id: str) -> list[tuple[str, Promise]]:
        links = super().moderation_links(request, object_id)
        if links:  # only for staff who may moderate (the list is empty otherwise)
            links.append((reverse(f"admin:{self._edit_url_name}", args=[object_id]), _("Edit…")))
        return links

    def edit_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        item = get_object_or_404(self.model, pk=object_id)
        if not self.has_change_permission(request, item):
            raise PermissionDenied
        target_type = UPDATE_TARGET if isinstance(item, ReportUpdate) else REPORT_TARGET
        form_class = UpdateEditForm if isinstance(item, ReportUpdate) else ReportEditForm
        form: _StartedForm | None = None
        revert_errors: dict[str, RevertForm] = {}
        stale = False
        moderator = request.user.get_username()
        if request.method == "POST" and "_revert" in request.POST:
            revert = RevertForm(request.POST, auto_id=f"id_revert_{request.POST.get('field', '')}_%s")
            if revert.is_valid():
                data = revert.cleaned_data
                try:
                    if isinstance(item, ReportUpdate):
                        update_revert_field(update=item, field=data["field"], moderator=moderator,
                                            reason=data["reason"], started=data["started"])
                    else:
                        report_revert_field(report=item, field=data["field"], moderator=moderator,
                                            reason=data["reason"], started=data["started"])
                except ModeratedSince:
                    stale = True
                except ReportError as exc:
                    revert.add_error(exc.field if exc.field in revert.fields else None, exc.message)
                    revert_errors[data["field"]] = revert
                else:
                    self.message_user(request, gettext("The original was put back."))
                    return self._back_to_item(item)
            else:
                revert_errors[request.POST.get("field", "")] = revert
        elif request.method == "POST":
            form = edit_form = form_class(request.POST)
            if edit_form.is_valid():
                data = edit_form.cleaned_data
                moved = bool({"latitude", "longitude"} & set(edit_form.changed_data))
                try:
                    if isinstance(item, ReportUpdate):
                        update_edit(update=item, moderator=moderator, reason=data["reason"], started=data["started"],
                                    text=edit_form.given("text"),
                                    contributor_name=edit_form.given("contributor_name"))
                    else:
                        report_edit(report=item, moderator=moderator, reason=data["reason"],
                                    started=data["started"], title=edit_form.given("title"),
                                    description=edit_form.given("description"),
                                    lng=data["longitude"] if moved else None, lat=data["latitude"] if moved else None,
                                    report_type=edit_form.given("report_type"),
                                    contributor_name=edit_form.given("contributor_name"))
                except ModeratedSince:
                    stale = True
                except ReportError as exc:
                    name = ERROR_FIELDS.get(exc.field, exc.field)
                    edit_form.add_error(name if name in edit_form.fields else None, exc.message)
                else:
                    self.message_user(request, gettext("The edit was saved; the originals are kept."))
                    return self._back_to_item(item)
        item.refresh_from_db()
        started = latest_action_id(target_type=target_type, target_id=item.pk)
        if form is None or stale:
            # A fresh form with the values as they are now; after a refusal, the reason typed is kept.
            reason = request.POST.get("reason", "") if stale else ""
            form = form_class(initial={**_current(item), "started": started, "reason": reason})
        originals = [
            KeptOriginal(field=field, label=FIELD_LABELS.get(field, field), value=_shown(field, value),
                         form=revert_errors.get(field) or RevertForm(
                             initial={"field": field, "started": started}, auto_id=f"id_revert_{field}_%s"))
            for field, value in (item.original_values or {}).items()
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Edit %(what)s") % {"what": self.opts.verbose_name},
            "opts": self.opts,
            "original": item,
            "form": form,
            "originals": originals,
            "stale": stale,
            "media": self.media + form.media,
        }
        status = 409 if stale else 400 if request.method == "POST" else 200
        return TemplateResponse(request, "admin/reports/edit.html", context, status=status)

    def _back_to_item(self, item: Report | ReportUpdate) -> HttpResponse:
        return HttpResponseRedirect(reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change",
                                            args=[item.pk]))
