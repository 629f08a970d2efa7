"""Open311 input read into plain values (pure: no database). Every refusal is an Open311Error with a 400 and a
description naming the parameter and the reason; all of a request's problems are reported at once."""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from bukaamanzi.lib.geo import SOUTH_AFRICA
from open311.errors import Open311Error
from open311.mapping import ATTRIBUTE_CODES
from reports.models import ReportType

DEFAULT_DAYS = 90  # as FixMyStreet: without dates, the last 90 days
MAX_REQUESTS = 1000  # the most one GET requests answers (newest first)
MAX_IDS = MAX_REQUESTS
STATUSES = ("open", "closed")
# The report's own limits (reports.models.Report), named here so a refusal can say them.
MAX_DESCRIPTION = 5000
MAX_TITLE = 200
MAX_ADDRESS = 500
MAX_NAME = 100
MAX_MEDIA_URL = 1000


def _refuse(errors: list[str]) -> None:
    if errors:
        raise Open311Error(400, *errors)


def parse_request_id(value: str) -> int | None:
    """A request id is a positive whole number of at most 18 digits (a database bigint)."""
    text = value.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 18 or int(text) < 1:
        return None
    return int(text)


def parse_when(value: str, name: str, errors: list[str]) -> dt.datetime | None:
    """A W3C date-time (2010-01-01T00:00:00Z, or with an offset) or a date (its midnight); a time without a zone
    is South African time."""
    text = value.strip()
    try:
        moment = parse_datetime(text)
        if moment is None and (day := parse_date(text)) is not None:
            moment = dt.datetime.combine(day, dt.time())
    except ValueError:
        moment = None
    if moment is None:
        errors.append(_("%(name)s: “%(value)s” is not a W3C date-time such as 2026-01-31T00:00:00Z.")
                      % {"name": name, "value": text[:40]})
        return None
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


def _codes(value: str, name: str, choices: tuple[str, ...] | list[str], errors: list[str]) -> list[str]:
    codes = [code.strip() for code in value.split(",") if code.strip()]
    unknown = [code for code in codes if code not in choices]
    if unknown:
        errors.append(_("%(name)s: “%(value)s” is not known; use %(choices)s.")
                      % {"name": name, "value": unknown[0][:40], "choices": ", ".join(choices)})
    return codes


@dataclass(frozen=True)
class RequestFilters:
    ids: list[int] = field(default_factory=list)  # when given, the other filters are ignored (the specification)
    service_codes: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    start: dt.datetime | None = None
    end: dt.datetime | None = None


def parse_filters(query: Mapping[str, str], now: dt.datetime) -> RequestFilters:
    """GET requests' filters. Without dates, the last DEFAULT_DAYS days; with only an end date, the DEFAULT_DAYS
    before it; with only a start date, everything since."""
    errors: list[str] = []
    ids: list[int] = []
    if query.get("service_request_id", "").strip():
        parts = [part for part in query["service_request_id"].split(",") if part.strip()]
        bad = [part for part in parts if parse_request_id(part) is None]
        if bad:
            errors.append(_("service_request_id: “%(value)s” is not a request id (a whole number).")
                          % {"value": bad[0].strip()[:40]})
        elif len(parts) > MAX_IDS:
            errors.append(_("service_request_id: ask for at most %(max)d requests at once.") % {"max": MAX_IDS})
        ids = [number for part in parts if (number := parse_request_id(part)) is not None]
    codes = _codes(query.get("service_code", ""), "service_code", ReportType.values, errors)
    statuses = _codes(query.get("status", ""), "status", STATUSES, errors)
    start = parse_when(query["start_date"], "start_date", errors) if query.get("start_date", "").strip() else None
    end = parse_when(query["end_date"], "end_date", errors) if query.get("end_date", "").strip() else None
    if start is not None and end is not None and start > end:
        errors.append(_("start_date: it is after end_date."))
    _refuse(errors)
    if start is None:
        start = (end or now) - dt.timedelta(days=DEFAULT_DAYS)
    return RequestFilters(ids=ids, service_codes=codes, statuses=statuses, start=start, end=end)


@dataclass(frozen=True)
class Submission:
    """A POST requests, checked: what `open311.services.open311_request_submit` takes."""

    service_code: str
    description: str
    title: str
    lng: float | None
    lat: float | None
    address: str
    name: str
    email: str
    media_url: str
    project_id: uuid.UUID | None
    rough_location: bool


def _coordinate(value: str, name: str, errors: list[str]) -> float | None:
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        errors.append(_("%(name)s: “%(value)s” is not a number of degrees.") % {"name": name, "value": value[:40]})
        return None
    return number


def _too_long(value: str, name: str, limit: int, errors: list[str]) -> None:
    if len(value) > limit:
        errors.append(_("%(name)s: at most %(max)d characters.") % {"name": name, "max": limit})


def _attributes(data: Mapping[str, str], errors: list[str]) -> dict[str, str]:
    values = {}
    for key, value in data.items():
        if key.startswith("attribute[") and key.endswith("]"):
            code = key[len("attribute["):-1]
            if code not in ATTRIBUTE_CODES:
                errors.append(_("%(name)s: no service has this attribute; they are %(codes)s.")
                              % {"name": key[:60], "codes": ", ".join(ATTRIBUTE_CODES)})
            values[code] = value.strip()
    return values


def _location(data: Mapping[str, str], errors: list[str]) -> tuple[float | None, float | None]:
    lat_text, long_text = data.get("lat", "").strip(), data.get("long", "").strip()
    if not lat_text and not long_text:
        if not data.get("address_string", "").strip():
            errors.append(_("lat: send lat and long, or address_string: a report needs a place."))
        return None, None
    if not (lat_text and long_text):
        errors.append(_("%(name)s: send lat and long together.") % {"name": "long" if lat_text else "lat"})
        return None, None
    lat, lng = _coordinate(lat_text, "lat", errors), _coordinate(long_text, "long", errors)
    if lat is None or lng is None:
        return None, None
    if not SOUTH_AFRICA.contains(lng=lng, lat=lat):
        outside = [name for name, value, low, high in (
            ("lat", lat, SOUTH_AFRICA.min_lat, SOUTH_AFRICA.max_lat),
            ("long", lng, SOUTH_AFRICA.min_lng, SOUTH_AFRICA.max_lng)) if not low <= value <= high]
        errors.append(_("%(name)s: the place must be in South Africa, and this is outside it.")
                      % {"name": " and ".join(outside)})
        return None, None
    return lng, lat


def parse_submission(data: Mapping[str, str]) -> Submission:
    """POST requests' fields (the form body; `api_key` is checked before)."""
    errors: list[str] = []
    service_code = data.get("service_code", "").strip()
    if not service_code:
        errors.append(_("service_code: required; GET services lists them."))
    elif service_code not in ReportType.values:
        errors.append(_("service_code: “%(value)s” is not a service; GET services lists them.")
                      % {"value": service_code[:40]})
    lng, lat = _location(data, errors)
    description = data.get("description", "").strip()
    if not description:
        errors.append(_("description: required: say what you see."))
    _too_long(description, "description", MAX_DESCRIPTION, errors)
    address = data.get("address_string", "").strip()
    _too_long(address, "address_string", MAX_ADDRESS, errors)
    email = data.get("email", "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors.append(_("email: “%(value)s” is not an email address.") % {"value": email[:60]})
    name = " ".join(part for part in (data.get("first_name", "").strip(), data.get("last_name", "").strip()) if part)
    _too_long(name, "first_name and last_name", MAX_NAME, errors)
    media_url = data.get("media_url", "").strip()
    if media_url:
        try:
            URLValidator(schemes=["http", "https"])(media_url)
        except ValidationError:
            errors.append(_("media_url: not an http or https URL."))
        _too_long(media_url, "media_url", MAX_MEDIA_URL, errors)
    attributes = _attributes(data, errors)
    project_id = None
    if attributes.get("project"):
        try:
            project_id = uuid.UUID(attributes["project"])
        except ValueError:
            errors.append(_("attribute[project]: “%(value)s” is not a project id (a UUID).")
                          % {"value": attributes["project"][:40]})
    rough = attributes.get("rough_location", "false").lower() or "false"
    if rough not in ("true", "false"):
        errors.append(_("attribute[rough_location]: use true or false."))
    title = attributes.get("title", "")
    _too_long(title, "attribute[title]", MAX_TITLE, errors)
    _refuse(errors)
    return Submission(service_code=service_code, description=description, title=title, lng=lng, lat=lat,
                      address=address, name=name, email=email, media_url=media_url, project_id=project_id,
                      rough_location=rough == "true")
