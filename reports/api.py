"""API endpoints for community reports: the public list and one report (published only), submitting, updates
("this is fixed", news, photos) and "affected too".

Submitting and voting are rate-limited per client address (reports/ratelimit.py). The body is read here rather
than by ninja so that a JSON body and a multipart form (with photos) go through the same checks and give the same
error shape; both are documented in the OpenAPI schema.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema

from bukaamanzi.apitools import (
    LIMIT,
    PAGE,
    ApiError,
    ErrorOut,
    client_address,
    json_object,
    json_response,
    not_found,
    paginate,
    parse_uuid,
    whole_number,
)
from bukaamanzi.lib.geo import SOUTH_AFRICA
from projects.filters import ProjectFilterForm
from projects.models import Project
from reports.affected import AlreadyAffected, affected_add
from reports.flags import AlreadyFlagged, flag_add
from reports.lifecycle import MAX_UPDATE_PHOTOS, update_add, update_effect
from reports.models import Report, ReportPhoto, ReportStatus, ReportType, ReportUpdate, UpdatePhoto
from reports.nearby import DEFAULT_RADIUS_M, MAX_RADIUS_M, NEARBY_LIMIT, NearbyReport, open_reports_near
from reports.photos import MAX_PHOTO_BYTES, MAX_PHOTOS
from reports.ratelimit import affected_throttle, flag_throttle, report_throttle, update_throttle
from reports.schemas import (
    AffectedOut,
    FlagIn,
    FlagOut,
    NearbyReports,
    ReportDetailOut,
    ReportIn,
    ReportOut,
    ReportPage,
    UpdateCreated,
    UpdateIn,
    VoteIn,
    check_report,
    check_update,
    check_vote,
)
from reports.services import PhotoUpload, ReportError, in_south_africa, report_submit

router = Router(tags=["Reports"])

REPORT_FIELDS = ("id", "project_id", "title", "description", "report_type", "status", "state", "state_set_by",
                 "state_changed_at", "duplicate_of_id", "public_location", "location_is_rough", "address",
                 "affected_count", "contributor_name", "created_at", "moderated_at")
UPDATE_FIELDS = ("id", "report_id", "text", "contributor_name", "by_reporter", "effect", "created_at",
                 "moderated_at")
PUBLIC_STATUSES = [ReportStatus.PUBLISHED]


def _photos_of(request: HttpRequest, model: type[ReportPhoto] | type[UpdatePhoto], owner: str,
               ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The photos of reports (owner "report_id") or of updates ("update_id"), by owner, in one query."""
    photos: dict[int, list[dict[str, Any]]] = defaultdict(list)
    storage = model.image.field.storage

    def url(name: str) -> str | None:
        # Photos stored before the derived sizes were made have none until `make_photo_sizes` runs.
        return request.build_absolute_uri(storage.url(name)) if name else None

    for photo in model.objects.public().filter(**{f"{owner}__in": ids}).order_by("pk").values(
        owner, "image", "width", "height", "alt_text", "thumbnail", "card"
    ):
        photos[photo[owner]].append({
            "url": url(photo["image"]),
            "width": photo["width"], "height": photo["height"], "alt_text": photo["alt_text"],
            "thumbnail_url": url(photo["thumbnail"]), "card_url": url(photo["card"]),
        })
    return photos


def _report_item(row: dict[str, Any], photos: list[dict[str, Any]]) -> dict[str, Any]:
    location = row.pop("public_location")  # never the exact point of a report shown "only roughly"
    return {**row, "location": {"lng": location.x, "lat": location.y}, "photos": photos}


def report_items(request: HttpRequest, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    photos = _photos_of(request, ReportPhoto, "report_id", [row["id"] for row in rows])
    return [_report_item(row, photos.get(row["id"], [])) for row in rows]


def update_items(request: HttpRequest, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    photos = _photos_of(request, UpdatePhoto, "update_id", [row["id"] for row in rows])
    return [{**row, "photos": photos.get(row["id"], [])} for row in rows]


def _report_id(value: str) -> int:
    number = whole_number(value)
    if number is None:
        raise ApiError("report_id", _("report_id must be a whole number."))
    return number


@router.get("", response={200: ReportPage, 422: ErrorOut}, summary="List published reports",
            operation_id="reports_list")
def list_reports(
    request: HttpRequest,
    project_id: str | None = Query(None, description="Only reports on this project (UUID)."),
    status: str | None = Query(None, description="Only 'published': other reports are not public."),
    report_type: str | None = Query(None, description="progress_update, issue, completion or quality_concern"),
    bbox: str | None = Query(None, description="minlng,minlat,maxlng,maxlat (WGS 84 degrees)."),
    page: int = PAGE,
    limit: int = LIMIT,
) -> HttpResponse:
    reports = Report.objects.published()
    errors: list[tuple[str | None, str]] = []
    if project_id:
        try:
            reports = reports.filter(project_id=parse_uuid(project_id, "project_id"))
        except ApiError as exc:
            errors += exc.errors
    if status and status not in PUBLIC_STATUSES:
        errors.append(("status", _("Only published reports are public: status can only be published.")))
    if report_type:
        if report_type not in ReportType.values:
            errors.append(("report_type", _("report_type must be one of: %(choices)s.")
                           % {"choices": ", ".join(ReportType.values)}))
        reports = reports.filter(report_type=report_type)
    if bbox:
        form = ProjectFilterForm({"bbox": bbox})
        if form.is_valid():
            if form.cleaned_data["bbox"] is not None:  # only blanks: no box
                reports = reports.filter(public_location__intersects=form.cleaned_data["bbox"])
        else:
            errors += [("bbox", message) for message in form.errors_by_field()["bbox"]]
    if errors:
        raise ApiError.of(errors)
    current, rows = paginate(reports, page, limit, REPORT_FIELDS, order_by=("-created_at", "-id"))
    return json_response(request, current.envelope(report_items(request, rows)), max_age=0)


def _nearby_errors(*, lng: float, lat: float, radius_m: int) -> list[tuple[str | None, str]]:
    """Every problem with the place and the radius at once, each naming its parameter."""
    errors: list[tuple[str | None, str]] = []
    finite = {name: math.isfinite(value) for name, value in (("lng", lng), ("lat", lat))}
    errors += [(name, _("%(field)s must be a finite number.") % {"field": name}) for name, ok in finite.items()
               if not ok]
    if all(finite.values()) and not in_south_africa(lng, lat):
        # The rule reports are placed by; the box's edges say which coordinate is off (both are named should the
        # rule ever be narrower than the box).
        outside = [name for name, value, low, high in (
            ("lng", lng, SOUTH_AFRICA.min_lng, SOUTH_AFRICA.max_lng),
            ("lat", lat, SOUTH_AFRICA.min_lat, SOUTH_AFRICA.max_lat)) if not low <= value <= high]
        errors += [(name, _("The point must be in South Africa: %(field)s is outside it.") % {"field": name})
                   for name in outside or ("lng", "lat")]
    if not 1 <= radius_m <= MAX_RADIUS_M:
        errors.append(("radius_m", _("radius_m must be between 1 and %(max)d metres.") % {"max": MAX_RADIUS_M}))
    return errors


def _nearby_item(request: HttpRequest, report: NearbyReport) -> dict[str, Any]:
    photo = report.photo
    return {
        "id": report.id, "title": report.title, "report_type": report.report_type, "state": report.state,
        "created_at": report.created_at, "distance_m": round(report.distance_m),
        "location": {"lng": report.lng, "lat": report.lat},
        "photo": None if photo is None else {"url": request.build_absolute_uri(photo.url), "width": photo.width,
                                             "height": photo.height, "alt_text": photo.alt_text,
                                             "thumbnail_url": request.build_absolute_uri(photo.thumbnail_url)},
    }


# Declared before "/{report_id}", which would otherwise take "nearby" for an id.
@router.get("/nearby", response={200: NearbyReports, 422: ErrorOut},
            summary="Open problems near a place (duplicate suggestions)", operation_id="reports_nearby",
            description=f"Published problems still waiting for a fix (open, acknowledged or in progress) within "
                        f"radius_m metres of the point, nearest first, at most {NEARBY_LIMIT}.")
def nearby_reports(
    request: HttpRequest,
    lat: float = Query(..., description="Latitude (WGS 84); must be in South Africa."),
    lng: float = Query(..., description="Longitude (WGS 84); must be in South Africa."),
    radius_m: int = Query(DEFAULT_RADIUS_M, description=f"1 to {MAX_RADIUS_M} metres."),
) -> HttpResponse:
    errors = _nearby_errors(lng=lng, lat=lat, radius_m=radius_m)
    if errors:
        raise ApiError.of(errors)
    reports = open_reports_near(lng=lng, lat=lat, radius_m=radius_m)
    body = {"items": [_nearby_item(request, report) for report in reports], "radius_m": radius_m}
    return json_response(request, body, max_age=0)


@router.get("/{report_id}", response={200: ReportDetailOut, 404: ErrorOut, 422: ErrorOut},
            summary="One published report with its updates", operation_id="reports_detail")
def report_detail(request: HttpRequest, report_id: str) -> HttpResponse:
    pk = _report_id(report_id)
    row = Report.objects.published().filter(pk=pk).values(*REPORT_FIELDS).first()
    if row is None:
        raise not_found("report_id", _("No published report has this id."))
    body = report_items(request, [row])[0]
    updates = list(ReportUpdate.objects.published().filter(report_id=pk).order_by("created_at", "pk")
                   .values(*UPDATE_FIELDS))
    body["updates"] = update_items(request, updates)
    body["duplicate_ids"] = list(Report.objects.published().filter(duplicate_of_id=pk).order_by("pk")
                                 .values_list("pk", flat=True))
    return json_response(request, body, max_age=0)


def _read_body(request: HttpRequest) -> tuple[dict[str, Any], list[Any], list[str]]:
    """The submitted fields, the photo files and their alt texts, from a JSON body or a multipart form."""
    content_type = request.content_type or ""
    if content_type == "application/json":
        return json_object(request), [], []
    if content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        data = {key: request.POST.get(key) for key in request.POST}
        return data, request.FILES.getlist("photos"), request.POST.getlist("photo_alt")
    raise ApiError(None, _("Send the report as application/json or multipart/form-data."), status=415)


def _photo_errors(files: list[Any], limit: int, too_many: str) -> list[tuple[str, str]]:
    if len(files) > limit:
        return [("photos", too_many % {"max": limit})]
    if any(upload.size > MAX_PHOTO_BYTES for upload in files):
        return [("photos", _("Each photo must be at most 5 MB."))]
    return []


def _uploads(files: list[Any], alt_texts: list[str], default_alt: Callable[[int], str]) -> list[PhotoUpload]:
    """The files as the services take them; a photo sent without a description gets a plain one."""
    return [PhotoUpload(data=upload.read(), name=upload.name or f"photo {index + 1}",
                        alt_text=(alt_texts[index] if index < len(alt_texts) else "") or default_alt(index + 1))
            for index, upload in enumerate(files)]


def _body_schema(schema: type[Schema], max_photos: int) -> dict[str, Any]:
    """The OpenAPI request body of a post that comes as JSON or as a multipart form with photos."""
    json_schema = schema.model_json_schema()
    return {
        "required": True,
        "content": {
            "application/json": {"schema": json_schema},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": json_schema.get("required", []),
                    "properties": {
                        **json_schema["properties"],
                        "photos": {"type": "array", "maxItems": max_photos,
                                   "items": {"type": "string", "format": "binary"},
                                   "description": "JPEG, PNG or WebP, at most 5 MB each; EXIF is removed."},
                        "photo_alt": {"type": "array", "items": {"type": "string"},
                                      "description": "A description of each photo, in the same order."},
                    },
                }
            },
        },
    }


REPORT_BODY = _body_schema(ReportIn, MAX_PHOTOS)


@router.post("", response={201: ReportOut, 404: ErrorOut, 415: ErrorOut, 422: ErrorOut, 429: ErrorOut},
             summary="Submit a report", operation_id="reports_create", throttle=[report_throttle],
             openapi_extra={"requestBody": REPORT_BODY})
def create_report(request: HttpRequest) -> HttpResponse:
    data, files, alt_texts = _read_body(request)
    checked = check_report(data)
    checked.errors += _photo_errors(files, MAX_PHOTOS, _("At most %(max)d photos can be added to a report."))
    if checked.errors:
        raise ApiError.of(checked.errors)
    values = checked.values
    project = None
    if values.get("project_id"):
        project = Project.objects.filter(pk=values["project_id"]).select_related("municipality").first()
        if project is None:
            raise ApiError("project_id", _("No project has this id."))
    photos = _uploads(files, alt_texts, lambda n: _("Photo %(number)d of the report “%(title)s”") % {
        "number": n, "title": values["title"]})
    try:
        report = report_submit(
            title=values["title"], description=values["description"], report_type=values["report_type"],
            lng=values["lng"], lat=values["lat"], project=project, address=values["address"],
            name=values["name"], email=values["email"], organisation=values["organisation"], photos=photos,
            language=get_language() or "", rough_location=values["rough_location"],
            client_address=client_address(request),
        )
    except ReportError as exc:
        raise ApiError(exc.field, exc.message) from exc
    except ValidationError as exc:
        raise ApiError.from_fields({name: list(messages) for name, messages in exc.message_dict.items()}) from exc
    row = Report.objects.filter(pk=report.pk).values(*REPORT_FIELDS).get()
    # A sender on the ban list (reports.bans) is answered as anyone else: the report is stored as spam.
    row["status"] = ReportStatus.PUBLISHED
    return json_response(request, report_items(request, [row])[0], status=201)


def _affected_report(report_id: str) -> Report:
    report = Report.objects.published().filter(pk=_report_id(report_id)).select_related(
        "project__municipality").first()
    if report is None:
        raise not_found("report_id", _("No published report has this id."))
    return report


def affected_response(request: HttpRequest, *, report: Report | None = None,
                      project: Project | None = None) -> HttpResponse:
    """Count the caller as affected (its session when it has one, and its address); 409 when already counted."""
    try:
        result = affected_add(report=report, project=project, session_key=request.session.session_key or "",
                              address=client_address(request))
    except AlreadyAffected as exc:
        raise ApiError(None, _("You have already said this affects you."), status=409) from exc
    target = result.report or result.project
    assert target is not None
    return json_response(request, {"id": target.pk, "affected_count": result.count})


@router.post("/{report_id}/affected", response={200: AffectedOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut,
                                                429: ErrorOut},
             summary="“This affects me too” (once per person; a duplicate counts on its original)",
             operation_id="reports_affected", throttle=[affected_throttle])
def report_affected(request: HttpRequest, report_id: str) -> HttpResponse:
    return affected_response(request, report=_affected_report(report_id))


@router.post("/{report_id}/flags", response={201: FlagOut, 404: ErrorOut, 409: ErrorOut, 415: ErrorOut, 422: ErrorOut,
                                             429: ErrorOut},
             summary="Report abuse on a report or one of its updates (once per person)", operation_id="reports_flag",
             throttle=[flag_throttle],
             openapi_extra={"requestBody": {"required": True,
                                            "content": {"application/json": {"schema": FlagIn.model_json_schema()}}}})
def report_flag(request: HttpRequest, report_id: str) -> HttpResponse:
    report = Report.objects.published().filter(pk=_report_id(report_id)).first()
    if report is None:
        raise not_found("report_id", _("No published report has this id."))
    data, _files, _alts = _read_body(request)
    update = None
    if data.get("update_id") not in (None, ""):
        update_id = whole_number(data["update_id"])
        if update_id is None:
            raise ApiError("update_id", _("update_id must be a whole number."))
        update = ReportUpdate.objects.published().filter(pk=update_id, report=report).first()
        if update is None:
            raise not_found("update_id", _("This report has no published update with this id."))
    for name in ("reason", "text"):
        if data.get(name) is not None and not isinstance(data.get(name), str):
            raise ApiError(name, _("%(field)s must be text.") % {"field": name})
    try:
        flag_add(report=None if update else report, update=update, reason=data.get("reason") or "",
                 text=data.get("text") or "", session_key=request.session.session_key or "",
                 address=client_address(request))
    except ReportError as exc:
        raise ApiError(exc.field, exc.message) from exc
    except AlreadyFlagged as exc:
        raise ApiError(None, _("You have already flagged this."), status=409) from exc
    return json_response(request, {"received": True}, status=201)


@router.post("/{report_id}/vote", response={200: AffectedOut, 404: ErrorOut, 409: ErrorOut, 410: ErrorOut,
                                            415: ErrorOut, 422: ErrorOut, 429: ErrorOut},
             summary="Retired: an up vote now counts as “affected too”; down votes are gone",
             operation_id="reports_vote", throttle=[affected_throttle], deprecated=True,
             openapi_extra={"requestBody": {"required": True,
                                            "content": {"application/json": {"schema": VoteIn.model_json_schema()}}}})
def vote(request: HttpRequest, report_id: str) -> HttpResponse:
    data, _files, _alts = _read_body(request)
    try:
        direction = check_vote(data)
    except ValueError as exc:
        raise ApiError("direction", str(exc)) from exc
    if direction != "up":
        raise ApiError("direction", _("Down votes were retired. Say “affected too” instead, or nothing."),
                       status=410)
    return affected_response(request, report=_affected_report(report_id))


UPDATE_BODY = _body_schema(UpdateIn, MAX_UPDATE_PHOTOS)


@router.post("/{report_id}/updates", response={201: UpdateCreated, 404: ErrorOut, 415: ErrorOut, 422: ErrorOut,
                                               429: ErrorOut},
             summary="Add an update to a report (\"this is fixed\", news, photos)", operation_id="reports_update",
             throttle=[update_throttle], openapi_extra={"requestBody": UPDATE_BODY})
def create_update(request: HttpRequest, report_id: str) -> HttpResponse:
    pk = _report_id(report_id)
    data, files, alt_texts = _read_body(request)
    checked = check_update(data)
    checked.errors += _photo_errors(files, MAX_UPDATE_PHOTOS, _("At most %(max)d photos can be added to an update."))
    if checked.errors:
        raise ApiError.of(checked.errors)
    report = Report.objects.published().filter(pk=pk).first()
    if report is None:
        raise not_found("report_id", _("No published report has this id."))
    values = checked.values
    try:
        update = update_add(report=report, text=values["text"], fixed=values["fixed"], name=values["name"],
                            email=values["email"], address=client_address(request), language=get_language() or "",
                            photos=_uploads(files, alt_texts, lambda n: _(
                                "Photo %(number)d of an update to “%(title)s”") % {"number": n,
                                                                                   "title": report.title}))
    except ReportError as exc:
        raise ApiError(exc.field, exc.message) from exc
    row = ReportUpdate.objects.filter(pk=update.pk).values(*UPDATE_FIELDS).get()
    body = {**update_items(request, [row])[0], "report_state": update.report.state}
    if update.status != ReportStatus.PUBLISHED:  # a sender on the ban list: answered as if it were published
        effect = update_effect(report, fixed=values["fixed"])
        body["effect"] = effect.value
        body["report_state"] = ReportUpdate(effect=effect).state_set_to or report.state
    return json_response(request, body, status=201)
