"""The moderation back office: the report queue, moderation actions with reasons, and the moderation log.

Reports change only through the moderation services (`reports.services`): each action asks for a reason on
a confirmation page, then writes one AdminAction and one change-log row per report, exactly as any other
writer does, so public pages and live clients see the result at once. The change form is therefore
read-only; the actions are on the change list (one or many reports) and as buttons on each report's page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import flatten_fieldsets
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.functional import Promise
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from changelog.admin import ReadOnlyAdminMixin
from changelog.models import AdminAction, DataChangeLog, EntityType
from municipalities.admin import readonly_map
from reports.admin_edits import EditableAdmin
from reports.admin_forms import BanSenderForm, DuplicateForm, LinkProjectForm, NoteForm, ReasonForm, StateForm
from reports.admin_photos import (
    PhotoLinksInlineMixin,
    PhotoModerationMixin,
    RemovalForm,
    remove_reports,
    remove_updates,
)
from reports.admin_queue import QueueAdminMixin
from reports.bans import ban_add_senders
from reports.lifecycle import (
    report_mark_duplicate,
    report_set_state,
    update_flag,
    update_mark_spam,
    update_publish,
)
from reports.models import Affected, Contributor, Flag, Report, ReportPhoto, ReportUpdate, UpdatePhoto
from reports.services import (
    ReportError,
    report_add_note,
    report_flag,
    report_link_project,
    report_mark_spam,
    report_publish,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

HISTORY_ROWS = 50
# Reports named on the confirmation page; the rest are counted.
PREVIEW_ROWS = 20
THUMBNAIL_PX = 64


def photo_thumbnail(photo: ReportPhoto | UpdatePhoto, size: int = THUMBNAIL_PX) -> SafeString:
    """The stored photo drawn small, with its description as alt text (or a plain one when it has none)."""
    width, height = photo.width or size, photo.height or size
    scale = size / max(width, height)
    shown_width, shown_height = max(1, round(width * scale)), max(1, round(height * scale))
    if isinstance(photo, UpdatePhoto):
        alt = photo.alt_text or _("Photo sent with update %(id)s") % {"id": photo.update_id}
    else:
        alt = photo.alt_text or _("Photo sent with report %(id)s") % {"id": photo.report_id}
    # The list's 64 px fits in the 100 px thumbnail: a page of 100 rows then loads kilobytes, not megabytes.
    # The larger previews on an item's page (and photos without a thumbnail yet) use the original.
    fits = photo.thumbnail and shown_height <= photo.thumbnail_height and shown_width <= photo.thumbnail_width
    return format_html(
        '<img src="{}" alt="{}" width="{}" height="{}" loading="lazy" decoding="async">',
        photo.thumbnail.url if fits else photo.image.url, alt, shown_width, shown_height,
    )


# --- Moderation actions -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Moderation:
    title: Promise
    form_class: type[ReasonForm]
    # (reports or updates, moderator, cleaned form data) -> how many were moderated
    run: Callable[[list[Any], str, dict[str, Any]], int]


MODERATIONS: dict[str, Moderation] = {
    "flag": Moderation(
        _("Flag (hide from the public)"), ReasonForm,
        lambda reports, moderator, data: report_flag(reports=reports, moderator=moderator, reason=data["reason"]),
    ),
    "unflag": Moderation(
        _("Unflag (publish again)"), ReasonForm,
        lambda reports, moderator, data: report_publish(reports=reports, moderator=moderator, reason=data["reason"]),
    ),
    "spam": Moderation(
        _("Mark as spam"), ReasonForm,
        lambda reports, moderator, data: report_mark_spam(
            reports=reports, moderator=moderator, reason=data["reason"]
        ),
    ),
    "link_project": Moderation(
        _("Link to a project"), LinkProjectForm,
        lambda reports, moderator, data: report_link_project(
            reports=reports, project=data["project"], moderator=moderator, reason=data["reason"]
        ),
    ),
    "note": Moderation(
        _("Add an internal note"), NoteForm,
        lambda reports, moderator, data: report_add_note(
            reports=reports, note=data["note"], moderator=moderator, reason=data["reason"]
        ),
    ),
    "set_state": Moderation(
        _("Set the state (open, in progress, fixed…)"), StateForm,
        lambda reports, moderator, data: report_set_state(
            reports=reports, state=data["state"], moderator=moderator, reason=data["reason"]
        ),
    ),
    "mark_duplicate": Moderation(
        _("Mark as a duplicate of another report"), DuplicateForm,
        lambda reports, moderator, data: report_mark_duplicate(
            reports=reports, original=data["original"], moderator=moderator, reason=data["reason"]
        ),
    ),
    "ban_sender": Moderation(
        _("Ban this sender"), BanSenderForm,
        lambda reports, moderator, data: ban_add_senders(items=reports, kind=data["kind"], moderator=moderator,
                                                         reason=data["reason"]),
    ),
    "remove": Moderation(_("Remove for illegal content"), RemovalForm, remove_reports),  # reports.admin_photos
}

UPDATE_MODERATIONS: dict[str, Moderation] = {
    "flag": Moderation(
        _("Flag (hide from the public)"), ReasonForm,
        lambda updates, moderator, data: update_flag(updates=updates, moderator=moderator, reason=data["reason"]),
    ),
    "unflag": Moderation(
        _("Unflag (publish again)"), ReasonForm,
        lambda updates, moderator, data: update_publish(updates=updates, moderator=moderator,
                                                        reason=data["reason"]),
    ),
    "spam": Moderation(
        _("Mark as spam"), ReasonForm,
        lambda updates, moderator, data: update_mark_spam(updates=updates, moderator=moderator,
                                                          reason=data["reason"]),
    ),
    "ban_sender": Moderation(
        _("Ban this sender"), BanSenderForm,
        lambda updates, moderator, data: ban_add_senders(items=updates, kind=data["kind"], moderator=moderator,
                                                         reason=data["reason"]),
    ),
    "remove": Moderation(_("Remove for illegal content"), RemovalForm, remove_updates),  # reports.admin_photos
}


def _build_form(moderation: Moderation, request: HttpRequest) -> ReasonForm:
    kwargs: dict[str, Any] = {}
    if moderation.form_class is LinkProjectForm and "_search" in request.POST:
        kwargs["search"] = request.POST.get("project_search", "").strip()
    if "apply" in request.POST:
        return moderation.form_class(request.POST, **kwargs)
    # First showing, or a project search: keep what was typed, without complaining about what was not.
    initial = {key: request.POST.get(key, "") for key in ("reason", "note", "project_search", "state", "original")}
    return moderation.form_class(initial=initial, **kwargs)




# --- Filters ----------------------------------------------------------------------------------------------


class ReviewFilter(admin.SimpleListFilter):
    title = _("review")
    parameter_name = "review"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, StrPromise]]:
        return [("unreviewed", _("Not reviewed yet")), ("reviewed", _("Reviewed"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Report]) -> QuerySet[Report]:
        if self.value() == "unreviewed":
            return queryset.filter(reviewed_at__isnull=True)
        if self.value() == "reviewed":
            return queryset.filter(reviewed_at__isnull=False)
        return queryset


class RemovalAskedFilter(admin.SimpleListFilter):
    title = _("removal asked by the reporter")
    parameter_name = "removal"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, StrPromise]]:
        return [("asked", _("Asked"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Report]) -> QuerySet[Report]:
        if self.value() == "asked":
            return queryset.filter(removal_requested_at__isnull=False)
        return queryset


# --- Reports ----------------------------------------------------------------------------------------------


class ReportPhotoInline(PhotoLinksInlineMixin, ReadOnlyAdminMixin, admin.TabularInline):
    model = ReportPhoto
    fields = ("preview", "alt_text", "width", "height", "created_at")
    readonly_fields = fields
    extra = 0

    @admin.display(description=_("photo"))
    def preview(self, obj: ReportPhoto) -> SafeString:
        return format_html('<a href="{}">{}</a>', obj.image.url, photo_thumbnail(obj, size=240))


class ModeratedAdmin(admin.ModelAdmin):
    """Actions that ask for a reason on a confirmation page, from the change list (one or many items) and as
    buttons on each item's page. Subclasses name their moderations and the change-list action of each."""

    moderations: dict[str, Moderation] = {}
    # Its buttons above the read-only fields, and the item's history below them.
    change_form_template = "admin/reports/moderated_change_form.html"
    # moderation name -> the change-list action (a method) that leads to its confirmation page
    action_of_moderation: dict[str, str] = {}

    def preview_line(self, obj: Any) -> str:
        return str(obj)

    def moderation_links(self, request: HttpRequest, object_id: str) -> list[tuple[str, Promise]]:
        if not self.has_change_permission(request):
            return []
        return [(reverse(f"admin:{self._moderate_url_name}", args=[object_id, name]), moderation.title)
                for name, moderation in self.moderations.items()]

    @property
    def _moderate_url_name(self) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_moderate"

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<path:object_id>/moderate/<str:name>/",
                self.admin_site.admin_view(self.moderate_one_view),
                name=self._moderate_url_name,
            ),
            *super().get_urls(),
        ]

    def moderate_one_view(self, request: HttpRequest, object_id: str, name: str) -> HttpResponse:
        """The confirmation page for one report, reached from the buttons on its page."""
        if name not in self.moderations:
            raise PermissionDenied
        item = get_object_or_404(self.model, pk=object_id)
        if not self.has_change_permission(request, item):
            raise PermissionDenied
        response = self._moderate(request, self.model.objects.filter(pk=item.pk), name, single=item)
        change_url = f"admin:{self.opts.app_label}_{self.opts.model_name}_change"
        if response is None and not self.model.objects.filter(pk=item.pk).exists():  # removed: back to the list
            return HttpResponseRedirect(reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist"))
        return response or HttpResponseRedirect(reverse(change_url, args=[item.pk]))

    def _moderate(
        self, request: HttpRequest, queryset: QuerySet[Any], name: str, single: Any = None
    ) -> HttpResponse | None:
        """Show the confirmation form; on a valid submission run the service and return None (done)."""
        moderation = self.moderations[name]
        form = _build_form(moderation, request)
        if "apply" in request.POST and form.is_valid():
            items = list(self.for_moderation(queryset).order_by("pk"))
            try:
                count = moderation.run(items, request.user.get_username(), form.cleaned_data)
            except ReportError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                self.message_user(
                    request,
                    ngettext(
                        "%(action)s: done for %(count)d item.", "%(action)s: done for %(count)d items.", count
                    ) % {"action": moderation.title, "count": count},
                    messages.SUCCESS,
                )
                return None
        total = queryset.count()
        context = {
            **self.admin_site.each_context(request),
            "title": moderation.title,
            "opts": self.opts,
            "moderation_name": name,
            "moderation": moderation,
            "form": form,
            "media": self.media + form.media,
            "preview": [(obj.pk, self.preview_line(obj)) for obj in self.for_moderation(queryset)[:PREVIEW_ROWS]],
            "total": total,
            # One name for both plural forms, so that every language's singular can name the thing too.
            "what": self.opts.verbose_name if total == 1 else self.opts.verbose_name_plural,
            "more": max(0, total - PREVIEW_ROWS),
            "single": single,
            # Carried through the page so that the admin routes the submission back to this action.
            "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across", "0"),
            "action_name": self.action_of_moderation[name],
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "searched": "_search" in request.POST,
            "search_count": getattr(form, "search_count", None),
        }
        return TemplateResponse(request, "admin/reports/moderate.html", context)

    def for_moderation(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        """The rows as the services need them (related rows joined)."""
        return queryset




class ReportUpdateInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ReportUpdate
    fields = ("update_link", "status", "effect", "by_reporter", "contributor_name", "created_at")
    readonly_fields = fields
    extra = 0
    show_change_link = False

    @admin.display(description=_("update"))
    def update_link(self, obj: ReportUpdate) -> SafeString:
        return format_html('<a href="{}">{}</a>', reverse("admin:reports_reportupdate_change", args=[obj.pk]),
                           obj.text[:80])


@admin.register(Report)
class ReportAdmin(QueueAdminMixin, EditableAdmin, PhotoModerationMixin, ModeratedAdmin):
    list_display = (
        "thumbnails", "title", "status", "state", "report_type", "project_link", "created_at", "reviewed_at",
        "map_link", "affected_count",
    )
    list_display_links = ("title",)
    list_filter = (ReviewFilter, "status", "state", "report_type", RemovalAskedFilter)
    search_fields = ("title", "description", "address", "contributor_name", "=project__external_id")
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    list_select_related = ("project", "project__municipality")
    show_full_result_count = False
    list_per_page = 100
    actions = ("flag_reports", "unflag_reports", "spam_reports", "link_reports", "note_reports", "state_reports",
               "duplicate_reports", "ban_report_senders", "remove_illegal_reports")
    moderations = MODERATIONS
    action_of_moderation = {
        "flag": "flag_reports", "unflag": "unflag_reports", "spam": "spam_reports", "link_project": "link_reports",
        "note": "note_reports", "set_state": "state_reports", "mark_duplicate": "duplicate_reports",
        "ban_sender": "ban_report_senders",
        "remove": "remove_illegal_reports",
    }
    fieldsets = (
        (None, {"fields": ("title", "description", "report_type", "status", "project_link", "address")}),
        (_("State"), {"fields": ("state", "state_set_by", "state_changed_at", "duplicate_of", "questionnaire_answer",
                                 "questionnaire_answered_at", "removal_requested_at")}),
        (_("Where"), {"fields": ("location_map",)}),
        (_("Who sent it (moderators only)"), {"fields": ("contributor_name", "contributor", "contributor_email",
                                                         "sender_key")}),
        (_("Moderation"), {"fields": ("reviewed_at", "admin_notes", "affected_count", "created_at")}),
    )
    readonly_fields = flatten_fieldsets(fieldsets)
    inlines = (ReportPhotoInline, ReportUpdateInline)

    def preview_line(self, obj: Report) -> str:
        project = f", {obj.project.name}" if obj.project is not None else ""
        return f"{obj.title} ({obj.get_status_display()}, {obj.get_state_display()}{project})"

    def for_moderation(self, queryset: QuerySet[Report]) -> QuerySet[Report]:
        return queryset.select_related("project__municipality", "duplicate_of")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Report]:
        # One query for the thumbnails of a whole page, whatever the number of reports.
        return super().get_queryset(request).prefetch_related(
            Prefetch("photos", queryset=ReportPhoto.objects.order_by("pk"))
        )

    # Reports come from residents (report_submit) and change only through the moderation actions.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Report | None = None) -> bool:
        return False

    # --- columns ---

    @admin.display(description=_("photos"))
    def thumbnails(self, obj: Report) -> SafeString | str:
        photos = list(obj.photos.all())
        if not photos:
            return "-"
        more = format_html(" +{}", len(photos) - 1) if len(photos) > 1 else ""
        return format_html("{}{}", photo_thumbnail(photos[0]), more)

    @admin.display(description=_("project"), ordering="project__name")
    def project_link(self, obj: Report) -> SafeString | str:
        project = obj.project
        if project is None:
            return "-"
        url = reverse("admin:projects_project_change", args=[project.pk])
        return format_html('<a href="{}">{}</a> {}', url, project.name, project.municipality_code)

    @admin.display(description=_("map"))
    def map_link(self, obj: Report) -> SafeString:
        # A link to the map on the report's page rather than one map per row: a page of 100 maps would be heavy.
        url = reverse("admin:reports_report_change", args=[obj.pk]) + "#report-map"
        coordinates = f"{obj.location.y:.4f}, {obj.location.x:.4f}"
        return format_html('<a href="{}" title="{}">{}</a>', url, _("Show on the map"), coordinates)

    # --- change page ---

    @admin.display(description=_("location"))
    def location_map(self, obj: Report) -> SafeString | str:
        label = _("Where report %(id)s was made: latitude %(lat).5f, longitude %(lng).5f") % {
            "id": obj.pk, "lat": obj.location.y, "lng": obj.location.x,
        }
        return format_html('<div id="report-map">{}</div>', readonly_map(obj.location, label=label))

    @admin.display(description=_("contributor's email"))
    def contributor_email(self, obj: Report) -> str:
        contributor = obj.contributor
        return contributor.email if contributor is not None and contributor.email else "-"

    def changeform_view(
        self, request: HttpRequest, object_id: str | None = None, form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        if request.method == "POST":
            raise PermissionDenied(_("Reports change only through the moderation actions, which ask for a reason."))
        return super().changeform_view(request, object_id, form_url, extra_context)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        extra_context = {
            **(extra_context or {}),
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
            "show_delete": False,
            "moderation_links": self.moderation_links(request, object_id),
            "audit_actions": AdminAction.objects.filter(target_type="report", target_id=object_id)[:HISTORY_ROWS],
            "audit_changes": DataChangeLog.objects.for_entity(EntityType.REPORT, object_id)[:HISTORY_ROWS],
            "audit_entity_type": EntityType.REPORT,
            "audit_entity_id": object_id,
        }
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description=_("Flag (hide from the public)…"), permissions=["change"])
    def flag_reports(self, request: HttpRequest, queryset: QuerySet[Report]) -> HttpResponse | None:
        return self._moderate(request, queryset, "flag")

    @admin.action(description=_("Unflag (publish again)…"), permissions=["change"])
    def unflag_reports(self, request: HttpRequest, queryset: QuerySet[Report]) -> HttpResponse | None:
        return self._moderate(request, queryset, "unflag")

    @admin.action(description=_("Mark as spam…"), permissions=["change"])
    def spam_reports(self, request: HttpRequest, queryset: QuerySet[Report]) -> HttpResponse | None:
        return self._moderate(request, queryset, "spam")

    @admin.action(description=_("Link to a project…"), permissions=["change"])
    def link_reports(self, request: HttpRequest, queryset: QuerySet[Report]) -> HttpResponse | None:
        return self._moderate(request, queryset, "link_project")

    @admin.action(description=_("Add an internal note…"), permissions=["change"])
    def note_reports(self, request: HttpRequest, queryset: QuerySet[Report]) -> HttpResponse | None:
        return self._moderate(request, queryset, "note")

    @admin.action(description=_("Set the state…"), permissions=["change"])
    def state_reports(self, request: HttpRequest, queryset: QuerySet[Report]) -> HttpResponse | None:
        return self._moderate(request, queryset, "set_state")

    @admin.action(description=_("Mark as a duplicate…"), permissions=["change"])
    def duplicate_reports(self, request: HttpRequest, queryset: QuerySet[Report]) -> HttpResponse | None:
        return self._moderate(request, queryset, "mark_duplicate")

    @admin.action(description=_("Ban the senders…"), permissions=["change"])
    def ban_report_senders(self, request: HttpRequest, queryset: QuerySet[Report]) -> HttpResponse | None:
        return self._moderate(request, queryset, "ban_sender")

    @admin.action(description=_("Remove for illegal content…"), permissions=["change"])
    def remove_illegal_reports(self, request: HttpRequest, queryset: QuerySet[Report]) -> HttpResponse | None:
        return self._moderate(request, queryset, "remove")


# --- Updates ----------------------------------------------------------------------------------------------


class UpdatePhotoInline(PhotoLinksInlineMixin, ReadOnlyAdminMixin, admin.TabularInline):
    model = UpdatePhoto
    owner_permission = "reports.change_reportupdate"
    fields = ("preview", "alt_text", "width", "height", "created_at")
    readonly_fields = fields
    extra = 0

    @admin.display(description=_("photo"))
    def preview(self, obj: UpdatePhoto) -> SafeString:
        return format_html('<a href="{}">{}</a>', obj.image.url, photo_thumbnail(obj, size=240))


@admin.register(ReportUpdate)
class ReportUpdateAdmin(QueueAdminMixin, EditableAdmin, PhotoModerationMixin, ModeratedAdmin):
    """Updates are moderated like reports: hidden or published again, or edited (reports.admin_edits), with a
    reason; never through this read-only form."""

    list_display = ("text_start", "report", "status", "effect", "by_reporter", "contributor_name", "created_at")
    list_filter = (ReviewFilter, "status", "effect")
    search_fields = ("text", "contributor_name", "report__title")
    list_select_related = ("report",)
    date_hierarchy = "created_at"
    # Newest first by id, the order they were written in: updates have no index on created_at, and sorting them
    # all by it took 0.5 s of the page with 20,000 updates on SQLite (20 ms this way).
    ordering = ("-pk",)
    show_full_result_count = False
    list_per_page = 100
    actions = ("flag_updates", "unflag_updates", "spam_updates", "ban_update_senders", "remove_illegal_updates")
    moderations = UPDATE_MODERATIONS
    action_of_moderation = {"flag": "flag_updates", "unflag": "unflag_updates", "spam": "spam_updates",
                            "ban_sender": "ban_update_senders", "remove": "remove_illegal_updates"}
    photo_model = UpdatePhoto  # PhotoModerationMixin: the photo pages of this update's photos
    photo_owner_field = "update"
    fields = ("report", "text", "status", "effect", "previous_state", "by_reporter", "contributor_name",
              "contributor_email", "sender_key", "created_at", "reviewed_at")
    readonly_fields = fields
    inlines = (UpdatePhotoInline,)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ReportUpdate | None = None) -> bool:
        return False

    @admin.display(description=_("update"))
    def text_start(self, obj: ReportUpdate) -> str:
        return obj.text[:80]

    @admin.display(description=_("contributor's email"))
    def contributor_email(self, obj: ReportUpdate) -> str:
        contributor = obj.contributor
        return contributor.email if contributor is not None and contributor.email else "-"

    def preview_line(self, obj: ReportUpdate) -> str:
        return f"{obj.text[:80]} ({obj.get_status_display()}, {obj.report.title})"

    def for_moderation(self, queryset: QuerySet[ReportUpdate]) -> QuerySet[ReportUpdate]:
        return queryset.select_related("report")

    def changeform_view(
        self, request: HttpRequest, object_id: str | None = None, form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        if request.method == "POST":
            raise PermissionDenied(_("Updates change only through the moderation actions, which ask for a reason."))
        return super().changeform_view(request, object_id, form_url, extra_context)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        extra_context = {
            **(extra_context or {}),
            "show_save": False, "show_save_and_continue": False, "show_save_and_add_another": False,
            "show_delete": False,
            "moderation_links": self.moderation_links(request, object_id),
            "audit_actions": AdminAction.objects.filter(target_type="report_update",
                                                        target_id=object_id)[:HISTORY_ROWS],
        }
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description=_("Flag (hide from the public)…"), permissions=["change"])
    def flag_updates(self, request: HttpRequest, queryset: QuerySet[ReportUpdate]) -> HttpResponse | None:
        return self._moderate(request, queryset, "flag")

    @admin.action(description=_("Unflag (publish again)…"), permissions=["change"])
    def unflag_updates(self, request: HttpRequest, queryset: QuerySet[ReportUpdate]) -> HttpResponse | None:
        return self._moderate(request, queryset, "unflag")

    @admin.action(description=_("Mark as spam…"), permissions=["change"])
    def spam_updates(self, request: HttpRequest, queryset: QuerySet[ReportUpdate]) -> HttpResponse | None:
        return self._moderate(request, queryset, "spam")

    @admin.action(description=_("Ban the senders…"), permissions=["change"])
    def ban_update_senders(self, request: HttpRequest, queryset: QuerySet[ReportUpdate]) -> HttpResponse | None:
        return self._moderate(request, queryset, "ban_sender")

    @admin.action(description=_("Remove for illegal content…"), permissions=["change"])
    def remove_illegal_updates(self, request: HttpRequest, queryset: QuerySet[ReportUpdate]) -> HttpResponse | None:
        return self._moderate(request, queryset, "remove")



# --- The rest of the reports app: read-only -----------------------------------------------------------------


@admin.register(Contributor)
class ContributorAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Staff only (the whole admin is): the email is for contacting a contributor and never leaves the admin."""

    list_display = ("__str__", "email", "organisation", "created_at")
    search_fields = ("name", "=email", "organisation")
    date_hierarchy = "created_at"
    show_full_result_count = False


@admin.register(ReportPhoto)
class ReportPhotoAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("thumbnail", "report", "alt_text", "width", "height", "created_at")
    search_fields = ("report__title", "alt_text")
    list_select_related = ("report",)
    date_hierarchy = "created_at"
    show_full_result_count = False
    fields = ("preview", "report", "alt_text", "width", "height", "created_at")
    readonly_fields = fields

    @admin.display(description=_("photo"))
    def thumbnail(self, obj: ReportPhoto) -> SafeString:
        return photo_thumbnail(obj)

    @admin.display(description=_("photo"))
    def preview(self, obj: ReportPhoto) -> SafeString:
        return format_html('<a href="{}">{}</a>', obj.image.url, photo_thumbnail(obj, size=480))


@admin.register(Flag)
class FlagAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Residents' "report abuse" flags (keyed hashes only, never a session or an address)."""

    list_display = ("reason", "report", "update", "text", "created_at", "cleared_at")
    list_filter = ("reason", ("cleared_at", admin.EmptyFieldListFilter))
    list_select_related = ("report", "update")
    # No date hierarchy: its links read every flag (on SQLite a Python call per row: 1.5 s with 300,000 flags);
    # the list is newest first, and the moderation queue is the way in.
    ordering = ("-pk",)
    show_full_result_count = False


@admin.register(Affected)
class AffectedAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Who said "this affects me too": keyed hashes only, never a session or an address."""

    list_display = ("report", "project", "day", "created_at")
    list_select_related = ("report", "project")
    date_hierarchy = "created_at"
    show_full_result_count = False


# The ban list's admin (BanAdmin) builds on ModeratedAdmin above, so it is loaded last.
import reports.admin_bans  # noqa: E402, F401
