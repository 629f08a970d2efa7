"""Resident pages for community reports: the report form, one report with its updates, adding an update, and
"this affects me too" (on reports and projects)."""

from __future__ import annotations

import math
from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from bukaamanzi.apitools import client_address, whole_number
from bukaamanzi.http import HtmxHttpRequest
from projects.models import Project
from projects.views import map_config
from reports.affected import AlreadyAffected, affected_add
from reports.flags import AlreadyFlagged, flag_add
from reports.forms import Location, RemovalForm, ReporterUpdateForm, ReportForm, UpdateForm
from reports.lifecycle import update_add, update_effect
from reports.models import (
    FlagReason,
    QuestionnaireAnswer,
    Report,
    ReportPhoto,
    ReportStatus,
    ReportUpdate,
    UpdateEffect,
    UpdatePhoto,
    public_photos,
)
from reports.nearby import open_reports_near
from reports.photos import photo_position
from reports.ratelimit import affected_throttle, flag_throttle, report_throttle, update_throttle
from reports.reporter import questionnaire_answer, report_hide_name, report_request_removal
from reports.services import PhotoUpload, ReportError, in_south_africa, report_publish_draft, report_submit
from reports.states import PROBLEM_TYPES, can_mark_fixed
from reports.tokens import BadToken, draft_token, read_answer, read_draft, read_reporter

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
    if not report_throttle.allow_request(request):  # the API's limit (REPORT_RATE_LIMIT), for the page too
        form.is_valid()
        form.add_error(None, _("Too many reports were sent from this connection. Please try again later."))
        return _render_form(request, form, project, status=429)
    if not form.is_valid():
        photo_place = _photo_place(form)
        if photo_place is None:
            return _render_form(request, form, project, status=400)
        # No place given, but a photo says where it was taken: offer that place (as a draft, to confirm).
        form.location = photo_place
    data = form.cleaned_data
    location = form.location
    if location is None:  # clean() leaves a location or an error, so this is not reached; a 400 rather than a 500
        return _render_form(request, form, project, status=400)
    title = data["title"]
    uploads = _photo_uploads(data["photos"], data["photo_description"],
                             lambda n: _("Photo %(number)d of the report “%(title)s”") % {"number": n, "title": title})
    # Open problems near the place, unless the sender has seen them (the form lists them as they choose the place,
    # with JavaScript): then the report waits as a draft on a confirmation step that offers "affected too". So
    # does a report placed where its photo was taken, until the sender says that place is right.
    nearby = []
    if data["report_type"] in PROBLEM_TYPES and not request.POST.get("seen_nearby"):
        nearby = open_reports_near(lng=location.lng, lat=location.lat)
    to_confirm = bool(nearby) or location.how == "photo"
    try:
        report = report_submit(
            title=title, description=data["description"], report_type=data["report_type"],
            lng=location.lng, lat=location.lat, project=project, address=data["address"],
            name=data["name"], email=data["email"], photos=uploads, language=get_language() or "",
            rough_location=data.get("rough_location", False), draft=to_confirm,
            client_address=client_address(request),
        )
    except ReportError as exc:
        form.add_error(ERROR_FIELDS.get(exc.field), exc.message)
        return _render_form(request, form, project, status=400)
    if to_confirm:
        return render(request, "reports/confirm.html", {
            "report": report, "nearby": nearby, "draft_token": draft_token(report.pk), "placed": _placed(location),
            "from_photo": location.how == "photo", "back_url": request.get_full_path()})
    return _published(request, report, placed=_placed(location))


def _photo_place(form: ReportForm) -> Location | None:
    """Where the first photo with a usable GPS position was taken, when the only thing wrong with the form is
    that it has no place (and the position is in South Africa); the bytes are read again for the report."""
    if form.is_bot or set(form.errors) - {"latitude", "address"} or form.data.get("latitude"):
        return None
    for upload in form.cleaned_data.get("photos", []):
        position = photo_position(upload.read())
        upload.seek(0)
        if position is not None and in_south_africa(*position):
            return Location(lng=position[0], lat=position[1], how="photo")
    return None


def _placed(location: Location) -> str:
    """How the place was found, when the sender did not choose a point themselves."""
    if location.how == "address":
        return _("It is placed at %(place)s, the town named in your address.") % {"place": location.place}
    if location.how == "project":
        return _("It is placed at the project's location.")
    if location.how == "photo":
        return _("It is placed where your photo was taken.")
    return ""


def _published(request: HttpRequest, report: Report, *, placed: str = "") -> HttpResponse:
    """The thank-you, on the report's project page or its own. A sender on the ban list (reports.bans) gets the
    same words and, where the report's own page would be "not found", the home page instead: nothing tells them
    that their report is hidden."""
    messages.success(request, " ".join(filter(None, [_("Thank you. Your report is published and shown below."),
                                                      placed])))
    if report.project_id is not None:
        return redirect(reverse("projects:detail", args=[report.project_id]) + f"#report-{report.pk}")
    if report.status != ReportStatus.PUBLISHED:
        return redirect("projects:home")
    return redirect("reports:detail", pk=report.pk)


@require_POST
def report_publish_draft_view(request: HttpRequest, token: str) -> HttpResponse:
    """"Publish my report" on the confirmation step: the draft as it was written (photos included)."""
    try:
        pk = read_draft(token)
    except BadToken:
        return render(request, "reports/bad_link.html", status=404)
    # Spam too: a sender on the ban list who presses the button twice sees the thank-you twice, as others do.
    report = Report.objects.filter(
        pk=pk, status__in=[ReportStatus.DRAFT, ReportStatus.PUBLISHED, ReportStatus.SPAM]).first()
    if report is None:
        return render(request, "reports/bad_link.html", status=404)
    return _published(request, report_publish_draft(report=report))


def nearby_fragment(request: HttpRequest) -> HttpResponse:
    """The open problems near the place being chosen in the report form (HTMX, as the place changes)."""
    try:
        lat, lng = float(request.GET.get("latitude", "")), float(request.GET.get("longitude", ""))
    except ValueError:
        return HttpResponse("")  # no place yet: nothing to suggest
    if not (math.isfinite(lat) and math.isfinite(lng) and in_south_africa(lng, lat)):
        return HttpResponse("")
    return render(request, "reports/fragments/nearby.html", {"nearby": open_reports_near(lng=lng, lat=lat)})


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
            public_photos(ReportPhoto),
            Prefetch("updates", to_attr="public_updates",
                     queryset=ReportUpdate.objects.published().order_by("created_at", "pk")
                     .prefetch_related(public_photos(UpdatePhoto))),
            Prefetch("duplicates", to_attr="public_duplicates",
                     queryset=Report.objects.published().order_by("pk").only("pk", "title", "duplicate_of_id")),
        ),
        pk=pk)


def _render_detail(request: HttpRequest, report: Report, form: UpdateForm | None = None,
                   status: int = 200) -> HttpResponse:
    form = form or UpdateForm(can_mark_fixed=can_mark_fixed(report.state))
    return render(request, "reports/detail.html", {
        "report": report, "update_form": form, "photos_lost": bool(request.FILES) and bool(form.errors),
        "flag_reasons": FlagReason.choices,
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
                            email=data["email"], photos=uploads, address=client_address(request),
                            language=get_language() or "")
    except ReportError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return _render_detail(request, report, form, status=400)
    effect = UpdateEffect(update.effect)
    if update.status != ReportStatus.PUBLISHED:  # a sender on the ban list: thanked as if it were published
        effect = update_effect(report, fixed=data.get("fixed") or None)
    if effect == UpdateEffect.FIXED:
        messages.success(request, _("Thank you. Your update is published and the report is marked fixed."))
    else:
        messages.success(request, _("Thank you. Your update is published."))
    return redirect(reverse("reports:detail", args=[report.pk]) + f"#update-{update.pk}")


def count_affected(request: HttpRequest, *, report: Report | None = None,
                   project: Project | None = None) -> tuple[str, int]:
    """Count the visitor (its browser session, made if it has none, and its address); the notice to show.
    Rate-limited like the API (AFFECTED_RATE_LIMIT)."""
    if not affected_throttle.allow_request(request):
        return _("Too many taps from this connection. Please try again later."), 429
    try:
        affected_add(report=report, project=project, session_key=_session_key(request),
                     address=client_address(request))
    except AlreadyAffected:
        return _("You have already said this affects you."), 200
    return _("Thank you: you are counted as affected too."), 200


@require_POST
def report_affected_view(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """"This affects me too" on a report: HTMX swaps the report in place; without JavaScript, back to it."""
    report = get_object_or_404(Report.objects.published().select_related("project"), pk=pk)
    notice, status = count_affected(request, report=report)
    if request.htmx and request.GET.get("fragment") == "nearby":  # a suggestion in the report form
        # The item as counted, without a distance: the place it was measured from is the form's, not here.
        item = {"id": report.pk, "title": report.title, "created_at": report.created_at, "distance_m": None}
        return render(request, "reports/fragments/nearby_item.html", {"item": item, "affected_notice": notice},
                      status=status)
    if request.htmx:
        report = Report.objects.prefetch_related(public_photos(ReportPhoto)).get(pk=report.pk)
        return render(request, "reports/fragments/report.html", {"report": report, "affected_notice": notice},
                      status=status)
    messages.info(request, notice)
    if report.project_id and request.POST.get("back") == "project":
        return redirect(reverse("projects:detail", args=[report.project_id]) + f"#report-{report.pk}")
    return redirect(reverse("reports:detail", args=[report.pk]) + f"#report-{report.pk}")


@require_POST
def project_affected_view(request: HtmxHttpRequest, pk: str) -> HttpResponse:
    """"This affects me too" on a project page: HTMX swaps the count in place; without JavaScript, back to it."""
    project = get_object_or_404(Project.objects.select_related("municipality"), pk=pk)
    notice, status = count_affected(request, project=project)
    if request.htmx:
        project.refresh_from_db(fields=["affected_count"])
        return render(request, "projects/fragments/affected.html", {"project": project, "affected_notice": notice},
                      status=status)
    messages.info(request, notice)
    return redirect(reverse("projects:detail", args=[project.pk]) + "#project-affected")


@require_POST
def report_flag_view(request: HttpRequest, pk: int) -> HttpResponse:
    """"Report abuse" on a report or (with `update`) one of its updates, from the report's page."""
    report = get_object_or_404(Report.objects.published().select_related("project"), pk=pk)
    update = None
    if request.POST.get("update"):
        update = get_object_or_404(ReportUpdate.objects.published(), pk=_int_or_404(request.POST["update"]),
                                   report=report)
    here = reverse("reports:detail", args=[report.pk]) + (f"#update-{update.pk}" if update else "")
    if not flag_throttle.allow_request(request):
        messages.error(request, _("Too many flags were sent from this connection. Please try again later."))
        return redirect(here)
    try:
        result = flag_add(report=None if update else report, update=update, reason=request.POST.get("reason", ""),
                          text=request.POST.get("text", ""), session_key=_session_key(request),
                          address=client_address(request))
    except ReportError as exc:
        messages.error(request, _("The flag was not sent: %(reason)s") % {"reason": exc.message})
        return redirect(here)
    except AlreadyFlagged:
        messages.info(request, _("You have already flagged this. Moderators will look at it."))
        return redirect(here)
    messages.success(request, _("Thank you. Moderators will look at it."))
    if result.hidden and update is None:  # the report itself is now hidden: its page is gone
        return redirect(reverse("projects:detail", args=[report.project_id]) if report.project_id
                        else reverse("projects:home"))
    return redirect(here)


def _int_or_404(value: str) -> int:
    number = whole_number(value)
    if number is None:
        raise Http404
    return number


def _session_key(request: HttpRequest) -> str:
    """The browser's session key, made now if it has none: who taps or flags is one browser for good."""
    if not request.session.session_key:
        request.session.save()
    return request.session.session_key or ""


# --- The reporter's private pages (links in the emails to them: reports.tokens) -----------------------------


def _reporters_report(pk: int, token: str) -> Report | None:
    try:
        read_reporter(token, pk)
    except BadToken:
        return None
    return Report.objects.select_related("project", "contributor").filter(pk=pk).first()


def report_yours(request: HttpRequest, pk: int, token: str) -> HttpResponse:
    """The reporter's page for their report: add updates as the reporter, say fixed or not fixed, hide their
    name, ask for removal. The signed link is the proof; there is no account."""
    report = _reporters_report(pk, token)
    if report is None:
        return render(request, "reports/bad_link.html", status=404)
    update_form, removal_form = ReporterUpdateForm(), RemovalForm()
    status = 200
    if request.method == "POST" and report.status == ReportStatus.PUBLISHED:
        action = request.POST.get("action")
        here = reverse("reports:yours", args=[report.pk, token])
        if action == "hide_name":
            report_hide_name(report=report)
            messages.success(request, _("Your name is no longer shown with the report."))
            return redirect(here)
        if action == "removal":
            removal_form = RemovalForm(request.POST)
            if removal_form.is_valid():
                report_request_removal(report=report, reason=removal_form.cleaned_data["reason"])
                messages.success(request, _("Thank you. A moderator will look at your request."))
                return redirect(here)
            status = 400
        elif action == "update":
            update_form = ReporterUpdateForm(request.POST, request.FILES)
            if update_form.is_valid() and update_throttle.allow_request(request):
                data = update_form.cleaned_data
                try:
                    update_add(report=report, text=data["text"], fixed=update_form.says_fixed, by_reporter=True,
                               address=client_address(request),
                               photos=_photo_uploads(data["photos"], data["photo_description"], lambda n: _(
                                   "Photo %(number)d of an update to “%(title)s”") % {"number": n,
                                                                                      "title": report.title}))
                except ReportError as exc:
                    update_form.add_error(exc.field if exc.field in update_form.fields else None, exc.message)
                else:
                    messages.success(request, _("Thank you. Your update is published."))
                    return redirect(here)
            elif update_form.is_valid():
                update_form.add_error(None, _("Too many updates were sent from this connection. Please try again "
                                              "later."))
            status = 400
    return render(request, "reports/yours.html", {
        "report": report, "update_form": update_form, "removal_form": removal_form,
        "photos_lost": bool(request.FILES) and bool(update_form.errors),
    }, status=status)


def questionnaire_answer_view(request: HttpRequest, pk: int, token: str) -> HttpResponse:
    """An answer link from the "is it fixed?" email. Opening it shows the answer and one button; the POST
    records it (a mail scanner that opens every link answers nothing)."""
    try:
        answer = read_answer(token, pk)
        label = QuestionnaireAnswer(answer).label
    except (BadToken, ValueError):
        return render(request, "reports/bad_link.html", status=404)
    report = get_object_or_404(Report.objects.published().select_related("project"), pk=pk)
    if request.method == "POST":
        questionnaire_answer(report=report, answer=answer)
        messages.success(request, _("Thank you for your answer. It is shown on the report."))
        return redirect("reports:detail", pk=report.pk)
    return render(request, "reports/answer.html", {"report": report, "label": label})
