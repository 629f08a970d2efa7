"""Projects in the admin: moderators correct fields the sources got wrong, which locks them against ingestion.

Saving the change form never writes the row directly: changed fields go through `project_correct` and lifted
locks through `project_unlock_fields`, which record one AdminAction (who, why, old and new values) and one
change-log row each, so live pages and the project history see a correction as they see any other change.
Projects are created and removed only by ingestion, so there is no add or delete here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Field, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from leaflet.admin import LeafletGeoAdmin

from changelog.admin import ReadOnlyAdminMixin, pretty_json
from changelog.models import AdminAction, DataChangeLog, EntityType
from projects.models import LOCKABLE_FIELDS, Budget, Project
from projects.services import CorrectionError, project_correct, project_unlock_fields

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise, StrPromise

# How many change-log rows a change page shows; the full history is one link away (the DataChangeLog list).
HISTORY_ROWS = 50


class ProjectCorrectionForm(forms.ModelForm):
    reason = forms.CharField(
        label=_("Reason for the correction"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Required when you change a field or lift a lock. Changed fields are locked: ingestion will no "
            "longer overwrite them. Recorded in the moderation log, not shown to the public."
        ),
    )
    unlock_fields = forms.MultipleChoiceField(
        label=_("Lift these locks"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The next ingestion run sets these fields from the source again."),
    )

    class Meta:
        model = Project
        fields = LOCKABLE_FIELDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        locked = (self.instance.locked_fields or []) if self.instance.pk else []
        unlock_fields = cast(forms.MultipleChoiceField, self.fields["unlock_fields"])
        unlock_fields.choices = [(name, _verbose_name(name)) for name in locked]

    def corrected_fields(self) -> list[str]:
        return [name for name in self.changed_data if name in LOCKABLE_FIELDS]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        corrected, unlock = self.corrected_fields(), cleaned.get("unlock_fields") or []
        if (corrected or unlock) and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", _("Say why you make this change: the reason is recorded with it."))
        both = sorted(set(corrected) & set(unlock))
        if both:
            self.add_error(
                "unlock_fields",
                _("You cannot change a field and lift its lock at once: %(fields)s.") % {"fields": ", ".join(both)},
            )
        return cleaned


def _verbose_name(name: str) -> StrOrPromise:
    # Lockable names are concrete fields; anything else (not expected) shows its raw name.
    field = Project._meta.get_field(name)
    return field.verbose_name if isinstance(field, Field) else name


class BudgetInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Budget
    fields = ("financial_year", "budget_type", "quarter", "amount", "source", "updated_at")
    readonly_fields = fields
    extra = 0


class LockedFilter(admin.SimpleListFilter):
    title = _("corrected by a moderator")
    parameter_name = "locked"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, StrPromise]]:
        return [("yes", _("Has locked fields")), ("no", _("No locked fields"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Project]) -> QuerySet[Project]:
        # locked_fields is a JSON list; "[]" (and NULL) means nothing locked, on SpatiaLite and PostGIS alike.
        if self.value() == "yes":
            return queryset.exclude(locked_fields=[])
        if self.value() == "no":
            return queryset.filter(locked_fields=[])
        return queryset


@admin.register(Project)
class ProjectAdmin(LeafletGeoAdmin):
    form = ProjectCorrectionForm
    list_display = (
        "name", "municipality", "source", "status", "budget_allocated", "progress_percentage", "is_locked",
        "is_demo", "updated_at",
    )
    list_filter = ("status", "source", LockedFilter, "is_demo", "municipality__province")
    search_fields = ("name", "=external_id", "municipality__code", "municipality__name")
    list_select_related = ("municipality",)
    autocomplete_fields = ("municipality",)
    date_hierarchy = "updated_at"
    show_full_result_count = False
    list_per_page = 100
    readonly_fields = (
        "source", "external_id", "source_api_id", "function", "asset_class", "source_status", "locked_fields",
        "progress_changed_at", "last_scraped_at", "content_hash", "is_demo", "created_at", "updated_at",
        "raw_data_pretty",
    )
    fieldsets = (
        (None, {"fields": ("source", "external_id", "source_api_id", "is_demo", "locked_fields")}),
        (_("Fields a moderator may correct (a change locks the field)"), {"fields": LOCKABLE_FIELDS}),
        (_("Reason and locks"), {"fields": ("reason", "unlock_fields")}),
        (_("As the source gave it"), {
            "classes": ("collapse",),
            "fields": ("function", "asset_class", "source_status", "progress_changed_at", "last_scraped_at",
                       "content_hash", "created_at", "updated_at", "raw_data_pretty"),
        }),
    )
    inlines = (BudgetInline,)

    @admin.display(description=_("locked"), boolean=True)
    def is_locked(self, obj: Project) -> bool:
        return bool(obj.locked_fields)

    @admin.display(description=_("data as the source gave it"))
    def raw_data_pretty(self, obj: Project) -> str:
        return pretty_json(obj.raw_data)

    def get_fieldsets(self, request: HttpRequest, obj: Project | None = None) -> Any:
        # Someone who may only view projects gets no reason or unlock fields: there is nothing to submit.
        if obj is not None and not self.has_change_permission(request, obj):
            return [fieldset for fieldset in self.fieldsets if "reason" not in fieldset[1]["fields"]]
        return self.fieldsets

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Project | None = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Project, form: ProjectCorrectionForm, change: bool) -> None:
        # `obj` already carries the submitted values; the services need the stored row to record old values.
        stored = Project.objects.select_related("municipality").get(pk=obj.pk)
        moderator, reason = request.user.get_username(), form.cleaned_data.get("reason", "")
        corrected = form.corrected_fields()
        unlock = form.cleaned_data.get("unlock_fields") or []
        try:
            if corrected:
                project_correct(
                    project=stored, values={name: form.cleaned_data[name] for name in corrected},
                    moderator=moderator, reason=reason,
                )
            if unlock:
                project_unlock_fields(project=stored, field_names=unlock, moderator=moderator, reason=reason)
        except (CorrectionError, ValidationError) as exc:
            # The form validated the same rules, so this only happens on a race; say so rather than fail.
            self.message_user(request, _("The correction was not saved: %(error)s") % {"error": exc}, "error")
            return
        obj.refresh_from_db()

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        extra_context = {
            **(extra_context or {}),
            "audit_actions": AdminAction.objects.filter(target_type="project", target_id=object_id)[:HISTORY_ROWS],
            "audit_changes": DataChangeLog.objects.for_entity(EntityType.PROJECT, object_id)[:HISTORY_ROWS],
            "audit_entity_type": EntityType.PROJECT,
            "audit_entity_id": object_id,
        }
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(Budget)
class BudgetAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("project", "financial_year", "budget_type", "quarter", "amount", "source")
    list_filter = ("source", "financial_year", "budget_type")
    search_fields = ("project__name", "=project__external_id")
    list_select_related = ("project",)
    show_full_result_count = False
    list_per_page = 100
