"""The admin's photo moderation: redact (paint boxes black), hide and show one photo of a report or an update, and
the "Remove for illegal content" moderation of reports and updates.

Each photo in a report's or an update's photo list gets links to its own pages (`PhotoModerationMixin` adds them
to ReportAdmin and ReportUpdateAdmin); each page asks for a reason and calls the same services as everything else
(`reports.redaction`, `reports.removal`), so the moderation log and live pages see the change the same way. Only
staff who may change the report (or update) reach them; every form is a POST with Django's CSRF token.

The redaction page shows the photo scaled to fit, with a small script (static/admin/js/redact.js, no external
files) that lets a moderator drag boxes on it. The boxes are written into a text area in the stored photo's own
pixels, one "x,y,width,height" a line: that text area is the form, so without JavaScript (or by keyboard) a
moderator types the boxes, and with it they can check and correct what they drew.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from reports.admin_forms import ReasonForm
from reports.models import ReportPhoto, UpdatePhoto
from reports.redaction import MAX_BOXES, photo_hide, photo_redact, photo_show
from reports.removal import report_delete, update_delete
from reports.services import ReportError

# --- Forms --------------------------------------------------------------------------------------------------


class RedactForm(ReasonForm):
    boxes = forms.CharField(
        label=_("Boxes to paint black"),
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false", "autocomplete": "off",
                                     "class": "redact-boxes"}),
        help_text=_("One box a line: x,y,width,height in the photo's own pixels, counted from its top left "
                    "corner (for example 120,80,200,150). Drawing on the photo with a mouse, a pen or a finger "
                    "writes the lines here."),
        error_messages={"required": _("Give at least one box.")},
    )
    field_order = ("boxes", "reason")

    def clean_boxes(self) -> list[tuple[int, int, int, int]]:
        boxes = []
        for number, line in enumerate(self.cleaned_data["boxes"].splitlines(), start=1):
            if not line.strip():
                continue
            parts = [part.strip() for part in line.replace(";", ",").split(",")]
            try:
                x, y, width, height = (int(part) for part in parts)
            except ValueError:
                raise forms.ValidationError(
                    _("Line %(number)d is not four whole numbers separated by commas: x,y,width,height."),
                    params={"number": number}) from None
            boxes.append((x, y, width, height))
        if not boxes:
            raise forms.ValidationError(_("Give at least one box."))
        if len(boxes) > MAX_BOXES:
            raise forms.ValidationError(_("At most %(max)d boxes at a time."), params={"max": MAX_BOXES})
        return boxes


class RemovalForm(ReasonForm):
    understood = forms.BooleanField(
        label=_("I understand that this deletes the text and every photo for good; it cannot be undone."),
        error_messages={"required": _("Tick the box to confirm the removal.")},
    )


def remove_reports(reports: list[Any], moderator: str, data: dict[str, Any]) -> int:
    for report in reports:
        report_delete(report=report, moderator=moderator, reason=data["reason"])
    return len(reports)


def remove_updates(updates: list[Any], moderator: str, data: dict[str, Any]) -> int:
    for update in updates:
        update_delete(update=update, moderator=moderator, reason=data["reason"])
    return len(updates)


# --- Photo pages --------------------------------------------------------------------------------------------

PHOTO_ACTIONS = ("redact", "hide", "show")


def _photo_url(photo: ReportPhoto | UpdatePhoto, action: str) -> str:
    owner = "reportupdate" if isinstance(photo, UpdatePhoto) else "report"
    owner_id = photo.update_id if isinstance(photo, UpdatePhoto) else photo.report_id
    return reverse(f"admin:reports_{owner}_photo", args=[owner_id, photo.pk, action])


class PhotoLinksInlineMixin:
    """A column of links to the photo's moderation pages, for staff who may change the photo's report or update;
    and what was done to the photo (hidden, redacted)."""

    owner_permission = "reports.change_report"

    def get_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        fields = super().get_fields(request, obj)  # type: ignore[misc]
        return (*fields, "photo_moderation")

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        self._may_moderate = request.user.has_perm(self.owner_permission)
        return (*super().get_readonly_fields(request, obj), "photo_moderation")  # type: ignore[misc]

    @admin.display(description=_("moderation"))
    def photo_moderation(self, obj: ReportPhoto | UpdatePhoto) -> SafeString:
        state = []
        if obj.hidden_at is not None:
            state.append(format_html("<strong>{}</strong>", _("Hidden from the public")))
        if obj.redacted_at is not None:
            state.append(format_html("{}", _("Redacted")))
        links: list[tuple[str, Any]] = []
        if getattr(self, "_may_moderate", False):
            links.append((_photo_url(obj, "redact"), _("Redact")))
            links.append((_photo_url(obj, "show"), _("Show")) if obj.hidden_at is not None
                         else (_photo_url(obj, "hide"), _("Hide")))
        return format_html("{}{}", format_html_join(" · ", "{}", ((s,) for s in state)),
                           format_html_join("", '<br><a href="{}">{}</a>', links))


class PhotoModerationMixin:
    """Adds the photo pages to ReportAdmin (report photos) and ReportUpdateAdmin (update photos)."""

    photo_model: type[ReportPhoto] | type[UpdatePhoto] = ReportPhoto
    photo_owner_field = "report"

    def get_urls(self) -> list[URLPattern]:
        opts = self.opts  # type: ignore[attr-defined]
        # Before the admin's own patterns, whose "<path:object_id>/" would take these paths for an id.
        return [
            path("<path:object_id>/photos/<int:photo_id>/<str:action>/",
                 self.admin_site.admin_view(self.photo_view),  # type: ignore[attr-defined]
                 name=f"{opts.app_label}_{opts.model_name}_photo"),
            *super().get_urls(),  # type: ignore[misc]
        ]

    def photo_view(self, request: HttpRequest, object_id: str, photo_id: int, action: str) -> HttpResponse:
        if action not in PHOTO_ACTIONS:
            raise PermissionDenied
        owner = get_object_or_404(self.model, pk=object_id)  # type: ignore[attr-defined]
        if not self.has_change_permission(request, owner):  # type: ignore[attr-defined]
            raise PermissionDenied
        photo = cast("ReportPhoto | UpdatePhoto", get_object_or_404(self.photo_model, pk=photo_id,
                                                                     **{self.photo_owner_field: owner}))
        opts = self.opts  # type: ignore[attr-defined]
        change_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[owner.pk])
        form_class = RedactForm if action == "redact" else ReasonForm
        form = form_class(request.POST) if request.method == "POST" else form_class()
        if request.method == "POST" and form.is_valid():
            moderator = request.user.get_username()
            try:
                if action == "redact":
                    photo_redact(photo=photo, boxes=form.cleaned_data["boxes"], moderator=moderator,
                                 reason=form.cleaned_data["reason"])
                elif action == "hide":
                    photo_hide(photo=photo, moderator=moderator, reason=form.cleaned_data["reason"])
                else:
                    photo_show(photo=photo, moderator=moderator, reason=form.cleaned_data["reason"])
            except ReportError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                done = {"redact": _("The photo is redacted: its old files are deleted."),
                        "hide": _("The photo is hidden from the public."),
                        "show": _("The photo is shown to the public again.")}[action]
                self.message_user(request, done, messages.SUCCESS)  # type: ignore[attr-defined]
                return HttpResponseRedirect(change_url)
        titles = {"redact": _("Redact a photo"), "hide": _("Hide a photo"), "show": _("Show a photo again")}
        context = {
            **self.admin_site.each_context(request),  # type: ignore[attr-defined]
            "title": titles[action],
            "opts": opts,
            "original": owner,
            "photo": photo,
            "action": action,
            "form": form,
            "change_url": change_url,
            "media": self.media + form.media,  # type: ignore[attr-defined]
            "max_boxes": MAX_BOXES,
        }
        return TemplateResponse(request, "admin/reports/photo_action.html", context,
                                status=400 if request.method == "POST" else 200)
