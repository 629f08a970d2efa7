"""Resident pages for community reports: the report form, one report with its updates, adding an update, votes."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from bukaamanzi.http import HtmxHttpRequest
from projects.models import Project
from projects.views import map_config
from reports.forms import ReportForm, UpdateForm
from reports.lifecycle import update_add
from reports.models import Report, ReportUpdate, UpdateEffect, VoteDirection
from reports.ratelimit import update_throttle
from reports.services import DuplicateVote, PhotoUpload, ReportError, report_submit, report_vote
from reports.states import can_mark_fixed

# Where a service error is shown on the form.
ERROR_FIELDS = {"location": "latitude", "photos": "photos", "title": "title", "description": "description",
                "report_type": "report_type", "address": "address"}


def _project_from(value: str | None) -> Project | None:
    if not value:
        return None
    try:
        return Project.objects.select_related("municipality").filter(pk=value).first()
    except (ValueError, TypeError, ValidationError):  # not a UUID: report without a project rather than fail
        return None


def report_create(request: HttpRequest) -> HttpResponse:
    project = _project_from(request.POST.get("project") if request.method == "POST" else request.GET.get("project"))
    if request.method != "POST":
        form = ReportForm(initial={"project": project.pk if project else None}, project=project)
        return _render_form(request, form, project)
    form = ReportForm(request.POST, request.FILES, project=project)
    if not form.is_valid():
        return _render_form(request, form, project, status=400)
    data = form.cleaned_data
    location = form.location
    if location is None:  # clean() leaves a location or an error, so this is not reached; a 400 rather than a 500
        return _render_form(request, form, project, status=400)
    title = data["title"]
    uploads = _photo_uploads(data["photos"], data["photo_description"],
                             lambda n: _("Photo %(number)d of the report “%(title)s”") % {"number": n, "title": title})
    try:
        report = report_submit(
            title=title, description=data["description"], report_type=data["report_type"],
            lng=location.lng, lat=location.lat, project=project, address=data["address"],
            name=data["name"], email=data["email"], photos=uploads,
        )
    except ReportError as exc:
        form.add_error(ERROR_FIELDS.get(exc.field), exc.message)
        return _render_form(request, form, project, status=400)
    placed = ""
    if location.how == "address":
        placed = " " + _("It is placed at %(place)s, the town named in your address.") % {"place": location.place}
    elif location.how == "project":
        placed = " " + _("It is placed at the project's location.")
    messages.success(request, _("Thank you. Your report is published and shown below.") + placed)
    if project is not None:
        return redirect(reverse("projects:detail", args=[project.pk]) + f"#report-{report.pk}")
    return redirect("reports:detail", pk=report.pk)


def _photo_uploads(files: list[UploadedFile], description: str, default: Callable[[int], str]) -> list[PhotoUpload]:
    """The uploaded files as the services take them, each described by the typed text or a default."""
    return [PhotoUpload(data=upload.read(), name=upload.name or "photo", alt_text=description or default(n))
            for n, upload in enumerate(files, start=1)]


def _render_form(request: HttpRequest, form: ReportForm, project: Project | None, status: int = 200) -> HttpResponse:
    return render(request, "reports/new.html", {
        "form": form, "project": project, "map_config": map_config(),
        "photos_lost": bool(request.FILES) and bool(form.errors),
    }, status=status)


def _published_report(pk: int) -> Report:
    """A public report with what its page shows, in a fixed number of queries whatever its number of updates."""
    return get_object_or_404(
        Report.objects.published().select_related("project", "project__municipality", "duplicate_of")
        .prefetch_related(
            "photos",
            Prefetch("updates", to_attr="public_updates",
                     queryset=ReportUpdate.objects.published().order_by("created_at", "pk").prefetch_related("photos")),
            Prefetch("duplicates", to_attr="public_duplicates",
                     queryset=Report.objects.published().order_by("pk").only("pk", "title", "duplicate_of_id")),
        ),
        pk=pk)


def _render_detail(request: HttpRequest, report: Report, form: UpdateForm | None = None,
                   status: int = 200) -> HttpResponse:
    form = form or UpdateForm(can_mark_fixed=can_mark_fixed(report.state))
    return render(request, "reports/detail.html", {
        "report": report, "update_form": form, "photos_lost": bool(request.FILES) and bool(form.errors),
    }, status=status)


def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_detail(request, _published_report(pk))


@require_POST
def report_update_create(request: HttpRequest, pk: int) -> HttpResponse:
    """An update from the form on the report's page; errors show on that page, beside their fields."""
    report = _published_report(pk)
    form = UpdateForm(request.POST, request.FILES, can_mark_fixed=can_mark_fixed(report.state))
    if not form.is_valid():
        return _render_detail(request, report, form, status=400)
    if not update_throttle.allow_request(request):
        form.add_error(None, _("Too many updates were sent from this connection. Please try again later."))
        return _render_detail(request, report, form, status=429)
    data = form.cleaned_data
    uploads = _photo_uploads(data["photos"], data["photo_description"],
                             lambda n: _("Photo %(number)d of an update to “%(title)s”") % {"number": n,
                                                                                            "title": report.title})
    try:
        update = update_add(report=report, text=data["text"], fixed=data.get("fixed") or None, name=data["name"],
                            email=data["email"], photos=uploads)
    except ReportError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return _render_detail(request, report, form, status=400)
    if update.effect == UpdateEffect.FIXED:
        messages.success(request, _("Thank you. Your update is published and the report is marked fixed."))
    else:
        messages.success(request, _("Thank you. Your update is published."))
    return redirect(reverse("reports:detail", args=[report.pk]) + f"#update-{update.pk}")


@require_POST
def report_vote_view(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """One vote per person: the browser session identifies the voter (stored only as a salted hash)."""
    report = get_object_or_404(Report.objects.published().select_related("project"), pk=pk)
    direction = request.POST.get("direction", "")
    if direction not in VoteDirection.values:
        return HttpResponseBadRequest(_("direction must be “up” or “down”."))
    if not request.session.session_key:
        request.session.save()
    try:
        report = report_vote(report=report, direction=direction, voter=request.session.session_key or "")
        notice = _("Thank you, your vote is counted.")
    except DuplicateVote:
        notice = _("You have already voted on this report.")
    if request.htmx:
        report = Report.objects.prefetch_related("photos").get(pk=report.pk)
        return render(request, "reports/fragments/report.html", {"report": report, "vote_notice": notice})
    messages.info(request, notice)
    if report.project_id:
        return redirect(reverse("projects:detail", args=[report.project_id]) + f"#report-{report.pk}")
    return redirect("reports:detail", pk=report.pk)
