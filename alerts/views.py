"""Resident pages for email alerts: sign up, confirm, unsubscribe, and manage an address's alerts.

The links in emails carry signed tokens (alerts.tokens): no account and no password. Following a link shows a
page with one button, and the button's POST does the work, so a mail scanner that opens links confirms or
cancels nothing. The unsubscribe URL also takes the RFC 8058 one-click POST a mail program sends, which has no
CSRF token: the signed token is the proof there.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from alerts import tokens
from alerts.api import alert_signup_throttle
from alerts.emails import describe
from alerts.forms import ERROR_FIELDS, AlertForm
from alerts.models import Alert, AlertKind, Subscriber
from alerts.reporters import questionnaire_opt_out
from alerts.services import AlertError, TooManyConfirmations, alert_confirm, alert_subscribe, alert_unsubscribe
from municipalities.models import Municipality
from projects.models import Project
from projects.views import map_config, municipality_groups


def _initial(request: HttpRequest) -> tuple[dict[str, object], Project | None, Municipality | None]:
    """What a "Follow" link asked for: ?project=<id>, ?municipality=<code> or ?lat=&lng= (a report's place)."""
    query = request.GET
    project = municipality = None
    initial: dict[str, object] = {}
    if query.get("project"):
        project = _project(query["project"])
        if project is not None:
            initial |= {"kind": AlertKind.PROJECT, "project": str(project.pk)}
    elif query.get("municipality"):
        municipality = Municipality.objects.filter(code=query["municipality"].upper()).first()
        if municipality is not None:
            initial |= {"kind": AlertKind.MUNICIPALITY, "municipality": municipality.code}
    elif query.get("lat") and query.get("lng"):
        initial |= {"kind": AlertKind.AREA, "latitude": query["lat"], "longitude": query["lng"],
                    "place": query.get("place", "")}
    return initial, project, municipality


def alert_new(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        initial, project, municipality = _initial(request)
        return _render_form(request, AlertForm(initial=initial), project, municipality)
    form = AlertForm(request.POST)
    project = _project(form.data.get("project"))
    if not form.is_valid() or form.target is None:
        if form.is_bot:
            form.add_error(None, _("This sign-up could not be accepted."))
        return _render_form(request, form, project, None, status=400)
    if not alert_signup_throttle.allow_request(request):
        form.add_error(None, _("Too many sign-ups from your connection. Please wait an hour and try again."))
        return _render_form(request, form, project, None, status=429)
    try:
        alert_subscribe(email=form.cleaned_data["email"], target=form.target,
                        frequency=form.cleaned_data["frequency"], language=get_language() or "en")
    except AlertError as exc:
        form.add_error(ERROR_FIELDS.get(exc.field), exc.message)
        return _render_form(request, form, project, None, status=400)
    except TooManyConfirmations:
        form.add_error("email", _("We have sent this address as many confirmation emails as we may today. "
                                  "Please look for them in your mailbox, or try again tomorrow."))
        return _render_form(request, form, project, None, status=429)
    return redirect("alerts:sent")


def _project(value: object) -> Project | None:
    """The project a link or the form names; not a UUID: none (the form then starts empty rather than fail)."""
    try:
        return Project.objects.filter(pk=uuid.UUID(str(value))).first() if value else None
    except ValueError:
        return None


def _render_form(request: HttpRequest, form: AlertForm, project: Project | None, municipality: Municipality | None,
                 status: int = 200) -> HttpResponse:
    return render(request, "alerts/new.html", {
        "form": form, "project": project, "municipality": municipality, "map_config": map_config(),
        "municipality_groups": municipality_groups(),
    }, status=status)


def alert_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "alerts/sent.html", {"days": settings.ALERT_CONFIRM_DAYS})


def _bad_link(request: HttpRequest) -> HttpResponse:
    return render(request, "alerts/bad_link.html", {"days": settings.ALERT_CONFIRM_DAYS}, status=400)


def alert_confirm_view(request: HttpRequest, token: str) -> HttpResponse:
    try:
        alert = Alert.objects.select_related("project", "municipality").get(pk=tokens.read_id(tokens.CONFIRM, token))
    except (tokens.BadToken, Alert.DoesNotExist):
        return _bad_link(request)
    manage_url = reverse("alerts:manage", args=[tokens.make(tokens.MANAGE, alert.subscriber_id)])
    context = {"alert": alert, "target": describe(alert), "manage_url": manage_url}
    if request.method != "POST":
        return render(request, "alerts/confirm.html", context)
    try:
        alert_confirm(alert=alert)
    except AlertError as exc:
        return render(request, "alerts/confirm.html", {**context, "error": exc.message}, status=400)
    return render(request, "alerts/confirmed.html", context)


@csrf_exempt  # RFC 8058: mail programs POST "List-Unsubscribe=One-Click" without a CSRF token; the token is proof
def alert_unsubscribe_view(request: HttpRequest, token: str) -> HttpResponse:
    try:
        ids = tokens.read_ids(tokens.UNSUBSCRIBE, token)
    except tokens.BadToken:
        return _bad_link(request)
    alerts = list(Alert.objects.filter(pk__in=ids).select_related("project", "municipality"))
    if not alerts:
        return _bad_link(request)
    context = {"targets": [describe(alert) for alert in alerts],
               "manage_url": reverse("alerts:manage", args=[tokens.make(tokens.MANAGE, alerts[0].subscriber_id)])}
    if request.method != "POST":
        return render(request, "alerts/unsubscribe.html", context)
    alert_unsubscribe(alerts=alerts)
    return render(request, "alerts/unsubscribed.html", context)


def alert_manage(request: HttpRequest, token: str) -> HttpResponse:
    try:
        subscriber = Subscriber.objects.get(pk=tokens.read_id(tokens.MANAGE, token))
    except (tokens.BadToken, Subscriber.DoesNotExist):
        return _bad_link(request)
    alerts = Alert.objects.filter(subscriber=subscriber, unsubscribed_at__isnull=True).select_related(
        "project", "municipality").order_by("pk")
    stopped = 0
    if request.method == "POST":
        chosen = alerts if request.POST.get("all") else alerts.filter(pk__in=[
            int(pk) for pk in request.POST.getlist("alert") if pk.isdigit()])
        stopped = alert_unsubscribe(alerts=list(chosen))
    rows = [{"alert": alert, "target": describe(alert)} for alert in alerts.all()]
    return render(request, "alerts/manage.html", {"rows": rows, "stopped": stopped})


@csrf_exempt  # RFC 8058 one-click, as for unsubscribing: the signed token is the proof
def no_questionnaire_view(request: HttpRequest, token: str) -> HttpResponse:
    """"Do not ask me 'is it fixed?' again": a page with one button (a scanner opening the link changes nothing)."""
    try:
        subscriber = Subscriber.objects.get(pk=tokens.read_id(tokens.NO_QUESTIONNAIRE, token))
    except (tokens.BadToken, Subscriber.DoesNotExist):
        return _bad_link(request)
    done = subscriber.no_questionnaire_at is not None
    if request.method == "POST":
        questionnaire_opt_out(subscriber)
        done = True
    return render(request, "alerts/no_questionnaire.html", {"done": done})
