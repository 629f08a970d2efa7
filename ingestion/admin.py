"""Ingestion runs in the admin: a read-only history, and a "run now" page to queue a run of one source.

Queuing goes through `ingestion.services.ingestion_queue_run`, as the schedules do, so a run started here is
refused (and recorded as refused) like any other when one of the same source is under way. Schedules and failed
tasks are django-q2's own admin pages.
"""

from __future__ import annotations

import logging
from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext_lazy as _

from changelog.admin import ReadOnlyAdminMixin, pretty_json
from ingestion.models import IngestionRun, RunStatus, SourceCircuit
from ingestion.services import ingestion_queue_run
from ingestion.sources.base import KIND_FULL, UnknownSource, registered_sources

# Queuing a run adds an IngestionRun row, so it asks for that permission (superusers have it; the Moderator
# group does not: running the sources is operating the site, not moderating it).
RUN_NOW_PERMISSION = "ingestion.add_ingestionrun"

logger = logging.getLogger(__name__)


_KIND_LABELS = {"full": _("Full sync"), "change_check": _("Change check (only what changed at the source)")}


class RunNowForm(forms.Form):
    source = forms.ChoiceField(label=_("Source"), widget=forms.RadioSelect)
    kind = forms.ChoiceField(label=_("Kind of run"), widget=forms.RadioSelect, initial=KIND_FULL)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The sources the pipeline knows, named as residents see them.
        # self.fields holds copies typed as plain Field; both are the ChoiceFields declared above.
        source_field = cast(forms.ChoiceField, self.fields["source"])
        kind_field = cast(forms.ChoiceField, self.fields["kind"])
        sources = list(registered_sources())
        source_field.choices = [(source.name, source.title) for source in sources]
        kinds = sorted({kind for source in sources for kind in source.kinds})
        kind_field.choices = [(kind, _KIND_LABELS.get(kind, kind)) for kind in kinds]


@admin.register(IngestionRun)
class IngestionRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "created_at", "source", "kind", "status", "started_at", "finished_at", "created_count", "updated_count",
        "unchanged_count", "failed_count", "triggered_by",
    )
    list_filter = ("source", "status", "kind")
    search_fields = ("triggered_by", "error")
    date_hierarchy = "created_at"
    show_full_result_count = False
    fields = (
        "source", "kind", "status", "triggered_by", "created_at", "started_at", "finished_at", "duration",
        "created_count", "updated_count", "unchanged_count", "failed_count", "fetched_hash", "error", "report_pretty",
    )
    readonly_fields = fields

    @admin.display(description=_("duration (seconds)"))
    def duration(self, obj: IngestionRun) -> str:
        seconds = obj.duration_seconds
        return "-" if seconds is None else f"{seconds:.1f}"

    @admin.display(description=_("report"))
    def report_pretty(self, obj: IngestionRun) -> str:
        return pretty_json(obj.report)

    def get_urls(self) -> list[URLPattern]:
        return [
            path("run-now/", self.admin_site.admin_view(self.run_now_view), name="ingestion_ingestionrun_run_now"),
            *super().get_urls(),
        ]

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        extra_context = {**(extra_context or {}), "can_run_now": request.user.has_perm(RUN_NOW_PERMISSION)}
        return super().changelist_view(request, extra_context)

    def run_now_view(self, request: HttpRequest) -> HttpResponse:
        if not request.user.has_perm(RUN_NOW_PERMISSION):
            raise PermissionDenied
        form = RunNowForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            source, kind = form.cleaned_data["source"], form.cleaned_data["kind"]
            try:
                run = ingestion_queue_run(source=source, kind=kind, triggered_by=request.user.get_username())
            except UnknownSource as exc:  # a kind this source does not have
                form.add_error(exc.field if exc.field in form.fields else None, str(exc))
                return self._run_now_page(request, form)
            except Exception as exc:  # noqa: BLE001 - a broker or database failure is shown, not a 500
                logger.exception("Queuing a run of %s from the admin failed", source)
                self.message_user(request, _("The run was not queued: %(error)s") % {"error": exc}, messages.ERROR)
            else:
                if run.status == RunStatus.REFUSED:
                    self.message_user(request, run.error or _("Refused: a run of this source is under way."),
                                      messages.WARNING)
                else:
                    self.message_user(
                        request, _("Run %(id)s of %(source)s is queued.") % {"id": run.pk, "source": run.source},
                        messages.SUCCESS,
                    )
            return HttpResponseRedirect(reverse("admin:ingestion_ingestionrun_changelist"))
        return self._run_now_page(request, form)

    def _run_now_page(self, request: HttpRequest, form: RunNowForm) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": _("Run a source now"),
            "opts": self.opts,
            "form": form,
            "active_runs": IngestionRun.objects.active(),
        }
        return TemplateResponse(request, "admin/ingestion/ingestionrun/run_now.html", context)


@admin.register(SourceCircuit)
class SourceCircuitAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The circuit breakers are driven by the ingestion runs; the admin shows them, it does not trip them."""

    list_display = ("source", "state", "fail_counter", "opened_at", "updated_at")
    list_filter = ("state",)
    fields = ("source", "state", "fail_counter", "success_counter", "opened_at", "last_error", "updated_at")
    readonly_fields = fields
