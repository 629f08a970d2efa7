"""Resident pages for community reports: the report form, one report, and votes."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from bukaamanzi.http import HtmxHttpRequest
from projects.models import Project
from projects.views import map_config
from reports.forms import ReportForm
from reports.models import Report, VoteDirection
from reports.services import DuplicateVote, PhotoUpload, ReportError, report_submit, report_vote

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
    alt = data["photo_description"]
    uploads = [
        PhotoUpload(data=upload.read(), name=upload.name or "photo",
                    alt_text=alt or _("Photo %(number)d of the report “%(title)s”") % {"number": n, "title": title})
        for n, upload in enumerate(data["photos"], start=1)
    ]
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


def _render_form(request: HttpRequest, form: ReportForm, project: Project | None, status: int = 200) -> HttpResponse:
    return render(request, "reports/new.html", {
        "form": form, "project": project, "map_config": map_config(),
        "photos_lost": bool(request.FILES) and bool(form.errors),
    }, status=status)


def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = get_object_or_404(
        Report.objects.published().select_related("project", "project__municipality").prefetch_related("photos"),
        pk=pk)
    return render(request, "reports/detail.html", {"report": report})


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
