"""Open311 GeoReport v2 endpoints (docs/open311.md): thin views that parse (open311.parsers), read or call the
service (open311.services), and render (open311.formats). Every error, including an unknown format or path, is
in the specification's shape with its HTTP status."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from apikeys.auth import RATE_LIMIT_MESSAGE, KeyRateThrottle, api_key_from_request
from apikeys.models import Scope
from apikeys.services import api_key_check
from bukaamanzi.apitools import client_address
from bukaamanzi.lib.spatial import X, Y
from open311 import mapping
from open311.errors import Open311Error
from open311.formats import CONTENT_TYPES, error_of, error_response, render
from open311.models import Open311Request
from open311.parsers import MAX_REQUESTS, parse_filters, parse_request_id, parse_submission
from open311.services import open311_request_submit, request_public_id
from reports.errors import ReportError
from reports.models import Report, ReportPhoto
from reports.photos import MAX_PHOTO_BYTES, MAX_PHOTOS
from reports.services import PhotoUpload
from reports.states import UNRESOLVED

View = Callable[..., HttpResponse]
key_throttle = KeyRateThrottle(Scope.OPEN311_POST)
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# Our field names in the errors report_submit raises -> the parameter an Open311 client sent.
FIELD_NAMES = {"location": "lat/long", "photos": "media", "title": "attribute[title]", "address": "address_string",
               "project": "attribute[project]"}
ROW_FIELDS = ("id", "report_type", "state", "state_set_by", "duplicate_of_id", "title", "description", "address",
              "created_at", "state_changed_at", "moderated_at", "project__municipality__name")


def open311_view(*methods: str) -> Callable[[View], View]:
    """Checks the format suffix (unknown: 404) and the method (405), and renders Open311Error in the format."""
    allowed = {*methods, "HEAD"} if "GET" in methods else set(methods)

    def decorate(view: View) -> View:
        @csrf_exempt  # clients authenticate with api_key, not with a session
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, fmt: str, **kwargs: Any) -> HttpResponse:
            if fmt not in CONTENT_TYPES:
                return error_response("json", 404, [_("Unknown format “%(format)s”: use .json or .xml.")
                                                    % {"format": fmt[:20]}])
            if request.method not in allowed:
                response = error_response(fmt, 405, [_("Use %(methods)s here.") % {"methods": " or ".join(methods)}])
                response["Allow"] = ", ".join(sorted(allowed))
                return response
            try:
                return view(request, *args, fmt=fmt, **kwargs)
            except Open311Error as exc:
                return error_of(exc, fmt)
        return wrapped
    return decorate


@csrf_exempt
def not_found(request: HttpRequest, path: str = "") -> HttpResponse:
    """Anything else under /open311/v2/, including a path without a format suffix."""
    fmt = path.rsplit(".", 1)[-1] if "." in path else "json"
    return error_response(fmt, 404, [_("Nothing here: see %(url)s for the endpoints.")
                                     % {"url": reverse("open311:discovery", kwargs={"fmt": "json"})}])


@open311_view("GET")
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    contact = settings.MODERATION_REPLY_TO
    body = {
        "changeset": mapping.CHANGESET,
        "contact": _("Buka Amanzi's moderators: %(email)s") % {"email": contact},
        "key_service": _("Reading needs no key. To post requests, ask the moderators for an API key "
                         "(%(email)s), saying what it is for.") % {"email": contact},
        "endpoints": [{
            "specification": mapping.SPECIFICATION,
            "url": request.build_absolute_uri(reverse("open311:root")).rstrip("/"),
            "changeset": mapping.CHANGESET,
            "type": "production",
            "formats": [CONTENT_TYPES["xml"].split(";")[0], CONTENT_TYPES["json"]],
        }],
    }
    return render(body, fmt, root="discovery", cache=True)


@open311_view("GET")
def services(request: HttpRequest, fmt: str) -> HttpResponse:
    return render(mapping.services(), fmt, root="services", cache=True)


@open311_view("GET")
def service_definition(request: HttpRequest, service_code: str, fmt: str) -> HttpResponse:
    definition = mapping.service_definition(service_code)
    if definition is None:
        raise Open311Error(404, _("service_code: “%(value)s” is not a service; GET services lists them.")
                           % {"value": service_code[:40]})
    return render(definition, fmt, root="service_definition", cache=True)


def _photo_urls(request: HttpRequest, report_ids: Iterable[int]) -> dict[int, str]:
    """Each report's first public photo, as an absolute URL, in one query."""
    storage = ReportPhoto.image.field.storage
    site = request.build_absolute_uri("/").rstrip("/")  # once: per photo it cost a tenth of a 1,000-request list
    urls: dict[int, str] = {}
    for report_id, image in ReportPhoto.objects.public().filter(report_id__in=list(report_ids)).order_by(
            "report_id", "pk").values_list("report_id", "image"):
        if report_id not in urls:
            url = storage.url(image)
            urls[report_id] = url if "://" in url else site + url  # MEDIA_URL may be a CDN's absolute URL
    return urls


def _items(request: HttpRequest, reports: QuerySet[Report]) -> list[dict[str, Any]]:
    # The public point's coordinates from the database: building a GEOS point per row cost more than the query.
    rows = list(reports.annotate(lng=X("public_location"), lat=Y("public_location")).values(*ROW_FIELDS, "lng", "lat"))
    photos = _photo_urls(request, (row["id"] for row in rows))
    return mapping.request_items(mapping.RequestRow(
        id=row["id"], report_type=row["report_type"], state=row["state"], state_set_by=row["state_set_by"],
        duplicate_of_id=row["duplicate_of_id"], title=row["title"], description=row["description"],
        address=row["address"], lng=row["lng"], lat=row["lat"],
        created_at=row["created_at"],
        updated_at=max(moment for moment in (row["created_at"], row["state_changed_at"], row["moderated_at"])
                       if moment is not None),
        agency=row["project__municipality__name"] or "", media_url=photos.get(row["id"]),
    ) for row in rows)


@open311_view("GET", "POST")
def requests(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _post(request, fmt)
    filters = parse_filters(request.GET, timezone.now())
    reports = Report.objects.published()
    if filters.ids:
        reports = reports.filter(pk__in=filters.ids)  # the specification: ids override every other filter
    else:
        if filters.service_codes:
            reports = reports.filter(report_type__in=filters.service_codes)
        if filters.statuses == ["open"]:
            reports = reports.filter(state__in=UNRESOLVED)
        elif filters.statuses == ["closed"]:
            reports = reports.exclude(state__in=UNRESOLVED)
        if filters.start is not None:
            reports = reports.filter(created_at__gte=filters.start)
        if filters.end is not None:
            reports = reports.filter(created_at__lte=filters.end)
    reports = reports.select_related(None).order_by("-created_at", "-id")[:MAX_REQUESTS]
    return render(_items(request, reports), fmt, root="service_requests")


@open311_view("GET")
def request_detail(request: HttpRequest, request_id: str, fmt: str) -> HttpResponse:
    pk = parse_request_id(request_id)
    if pk is None:
        raise Open311Error(400, _("service_request_id: “%(value)s” is not a request id (a whole number).")
                           % {"value": request_id[:40]})
    items = _items(request, Report.objects.published().filter(pk=pk))
    if not items:
        raise Open311Error(404, _("service_request_id: no public request has this id."))
    return render(items, fmt, root="service_requests")


@open311_view("GET")
def token(request: HttpRequest, token: str, fmt: str) -> HttpResponse:
    record = Open311Request.objects.filter(token=token[:64]).first()
    if record is None:
        raise Open311Error(404, _("token: no request has this token."))
    public_id = request_public_id(record)
    body = [{"service_request_id": None if public_id is None else str(public_id), "token": record.token}]
    return render(body, fmt, root="service_requests")


def _form(request: HttpRequest) -> dict[str, str]:
    """The form body, refused whole (413) past the size limits: the site's for form fields, plus the photos'."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE + MAX_PHOTOS * MAX_PHOTO_BYTES
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    too_big = Open311Error(413, _("The request body is too large: at most %(mb)d MB, photos included.")
                           % {"mb": limit // 1_000_000})
    if length > limit:
        raise too_big
    if request.content_type not in FORM_TYPES:
        raise Open311Error(415, _("Send the request as application/x-www-form-urlencoded or multipart/form-data."))
    try:
        return {name: request.POST.get(name, "") for name in request.POST}
    except RequestDataTooBig as exc:
        raise too_big from exc
    except TooManyFieldsSent as exc:
        raise Open311Error(400, _("The request has too many fields.")) from exc


def _photos(request: HttpRequest) -> list[PhotoUpload]:
    files = request.FILES.getlist("media")
    if len(files) > MAX_PHOTOS:
        raise Open311Error(400, _("media: at most %(max)d photos.") % {"max": MAX_PHOTOS})
    if any((upload.size or 0) > MAX_PHOTO_BYTES for upload in files):
        raise Open311Error(413, _("media: each photo must be at most 5 MB."))
    return [PhotoUpload(data=upload.read(), name=upload.name or f"photo {index}",
                        alt_text=_("Photo %(number)d sent with a report") % {"number": index})
            for index, upload in enumerate(files, start=1)]


def _throttled(request: HttpRequest, throttle: Any, message: str) -> None:
    if not throttle.allow_request(request):
        wait = throttle.wait()
        raise Open311Error(429, getattr(request, RATE_LIMIT_MESSAGE, message),
                           retry_after=math.ceil(wait) if wait is not None else None)


def _post(request: HttpRequest, fmt: str) -> HttpResponse:
    data = _form(request)
    secret = api_key_from_request(request)
    if not secret:
        raise Open311Error(400, _("api_key: required to post a request; see discovery's key_service."))
    key = api_key_check(secret, Scope.OPEN311_POST)
    if key is None:
        raise Open311Error(403, _("api_key: not accepted: unknown, revoked, or not allowed to post requests."))
    request.auth = key  # type: ignore[attr-defined]  # what KeyRateThrottle counts against
    # A key raises its owner's limit (issue 16): an app posting for many residents from one server is limited by
    # its key's rate, not by the page's per-address REPORT_RATE_LIMIT. Bans, cleaning and moderation still apply.
    _throttled(request, key_throttle, _("Too many requests with this API key."))
    submission = parse_submission(data)
    photos = _photos(request)
    try:
        posted = open311_request_submit(submission=submission, key=key, client_address=client_address(request),
                                        photos=photos, language=get_language() or "")
    except ReportError as exc:
        raise Open311Error(400, f"{FIELD_NAMES.get(exc.field, exc.field)}: {exc.message}") from exc
    item: dict[str, Any]
    if posted.service_request_id is None:
        item = {"token": posted.request.token,
                "service_notice": _("Thank you. A moderator looks at a first report before it counts: ask "
                                    "tokens/%(token)s for its id later.") % {"token": posted.request.token}}
    else:
        item = {"service_request_id": str(posted.service_request_id), "service_notice": ""}
    item["account_id"] = None
    return render([item], fmt, root="service_requests", status=201)
