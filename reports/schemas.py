"""API shapes for community reports, updates and "affected too", and the checks of report and update input shared
by JSON and multipart bodies.

A contributor's email may be sent with a report (for moderators) but no response shape has a field for it.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from ninja import Field, Schema

from reports.models import ReportType

TITLE_MAX = 200
DESCRIPTION_MAX = 5000
TEXT_LIMITS = {"address": 500, "name": 100, "organisation": 200, "email": 254}


class ReportIn(Schema):
    """JSON body, or the same names as multipart form fields with up to 5 files named `photos`."""

    title: str = Field(description=f"1 to {TITLE_MAX} characters")
    description: str = Field(description=f"1 to {DESCRIPTION_MAX} characters")
    report_type: str = Field(description="progress_update, issue, completion or quality_concern")
    lng: float = Field(description="Longitude (WGS 84); must be in South Africa")
    lat: float = Field(description="Latitude (WGS 84); must be in South Africa")
    project_id: uuid.UUID | None = None
    address: str = ""
    name: str = Field("", description="Shown with the report; leave empty to stay anonymous")
    email: str = Field("", description="For moderators only: never shown or returned")
    organisation: str = ""
    rough_location: bool = Field(False, description="Show the place only roughly: the public sees the centre of "
                                                    "its ~500 m grid cell, moderators the point")


class UpdateIn(Schema):
    """JSON body, or the same names as multipart form fields with up to 3 files named `photos`."""

    text: str = Field(description="1 to 5,000 characters: what happened")
    fixed: bool | None = Field(None, description="true: the problem is fixed (open problems only). false or "
                                                 "absent: no change of state")
    name: str = Field("", description="Shown with the update; leave empty to stay anonymous")
    email: str = Field("", description="For moderators only: never shown or returned")


class FlagIn(Schema):
    reason: str = Field(description="spam, offensive, personal_information, off_topic or other")
    text: str = Field("", description="Details; required when the reason is other (at most 1,000 characters)")
    update_id: int | None = Field(None, description="Flag this update of the report instead of the report")


class FlagOut(Schema):
    received: bool


class VoteIn(Schema):
    direction: str = Field(description="up or down")


class LngLat(Schema):
    lng: float
    lat: float


class PhotoOut(Schema):
    url: str
    width: int
    height: int
    alt_text: str
    thumbnail_url: str | None = Field(None, description="JPEG 100 px high, width by aspect ratio (for lists); "
                                                        "null for a photo whose sizes are not made yet")
    card_url: str | None = Field(None, description="JPEG 1200x630, cropped to the centre (for link previews); "
                                                   "null for a photo whose sizes are not made yet")


MODERATED_AT = ("When a moderator last edited what the sender wrote (the text shown is then the moderator's); "
                "null when it is as sent")


class ReportOut(Schema):
    id: int
    project_id: uuid.UUID | None
    title: str
    description: str
    report_type: str
    status: str
    state: str = Field(description="open, acknowledged, in_progress, fixed, not_fixed, duplicate or noted")
    state_set_by: str = Field(description="'' (as sent), resident, reporter or moderator")
    state_changed_at: dt.datetime | None
    duplicate_of_id: int | None
    location: LngLat = Field(description="Where the public sees it: the centre of a ~500 m cell when "
                                         "location_is_rough")
    location_is_rough: bool
    address: str
    affected_count: int = Field(description="Residents who said “this affects me too” (with its duplicates')")
    contributor_name: str
    created_at: dt.datetime
    moderated_at: dt.datetime | None = Field(description=MODERATED_AT)
    photos: list[PhotoOut]


class UpdateOut(Schema):
    id: int
    report_id: int
    text: str
    contributor_name: str
    by_reporter: bool
    effect: str = Field(description="'' (none), fixed or reopened")
    created_at: dt.datetime
    moderated_at: dt.datetime | None = Field(description=MODERATED_AT)
    photos: list[PhotoOut]


class ReportDetailOut(ReportOut):
    updates: list[UpdateOut]
    duplicate_ids: list[int]


class UpdateCreated(UpdateOut):
    report_state: str


class ReportPage(Schema):
    items: list[ReportOut]
    count: int
    page: int
    limit: int
    pages: int


class AffectedOut(Schema):
    id: int | uuid.UUID = Field(description="The report (a number) or the project (a UUID) that was counted; a "
                                            "duplicate report's original")
    affected_count: int


# --- Checking input -------------------------------------------------------------------------------------


@dataclass
class CheckedReport:
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)


def _text(data: Mapping[str, Any], name: str, result: CheckedReport) -> str:
    value = data.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        result.errors.append((name, _("%(field)s must be text.") % {"field": name}))
        return ""
    return value.strip()


def _number(data: Mapping[str, Any], name: str, result: CheckedReport) -> float | None:
    value = data.get(name)
    if value is None or value == "":
        result.errors.append((name, _("%(field)s is required.") % {"field": name}))
        return None
    if isinstance(value, bool):
        value = "not a number"
    try:
        number = float(value)
    except (TypeError, ValueError):
        result.errors.append((name, _("%(field)s must be a number.") % {"field": name}))
        return None
    if not math.isfinite(number):
        result.errors.append((name, _("%(field)s must be a finite number.") % {"field": name}))
        return None
    return number


def _contact(data: Mapping[str, Any], names: tuple[str, ...], result: CheckedReport) -> dict[str, str]:
    """The sender's optional texts (name, email, ...), each within its length, the email a valid address."""
    values = {name: _text(data, name, result) for name in names}
    for name, value in values.items():
        if len(value) > TEXT_LIMITS[name]:
            result.errors.append((name, _("%(field)s must be at most %(max)d characters.")
                                  % {"field": name, "max": TEXT_LIMITS[name]}))
    if values.get("email"):
        try:
            validate_email(values["email"])
        except ValidationError:
            result.errors.append(("email", _("This email address is not valid.")))
    return values


def _boolean(data: Mapping[str, Any], name: str, result: CheckedReport, refusal: str) -> bool | None:
    """true/false from JSON, or what a form sends ("on", "1", "false"...); None when not given."""
    value = data.get(name)
    if isinstance(value, str):  # a multipart form's text
        value = value.strip().lower()
    if not isinstance(value, bool | str | None) or value not in BOOLEAN_WORDS:
        result.errors.append((name, refusal))
        return None
    return BOOLEAN_WORDS[value]


def _required_text(data: Mapping[str, Any], name: str, limit: int, result: CheckedReport, *, missing: str,
                   too_long: str) -> str:
    """A text that must be given, within `limit` characters; the messages say what to fix (one error at most)."""
    value = _text(data, name, result)
    if not value and not any(field == name for field, _message in result.errors):
        result.errors.append((name, missing))
    elif len(value) > limit:
        result.errors.append((name, too_long % {"max": limit}))
    return value


def check_report(data: Mapping[str, Any]) -> CheckedReport:
    """Every problem with the report's fields at once, each naming its field."""
    result = CheckedReport()
    title = _required_text(data, "title", TITLE_MAX, result, missing=_("A title is required."),
                           too_long=_("The title must be at most %(max)d characters."))
    description = _required_text(data, "description", DESCRIPTION_MAX, result,
                                 missing=_("A description is required."),
                                 too_long=_("The description must be at most %(max)d characters."))
    report_type = _text(data, "report_type", result)
    if report_type not in ReportType.values:
        result.errors.append(("report_type", _("report_type must be one of: %(choices)s.")
                              % {"choices": ", ".join(ReportType.values)}))
    lng, lat = _number(data, "lng", result), _number(data, "lat", result)
    if lng is not None and not -180 <= lng <= 180:
        result.errors.append(("lng", _("Longitude must be between -180 and 180.")))
    if lat is not None and not -90 <= lat <= 90:
        result.errors.append(("lat", _("Latitude must be between -90 and 90.")))
    project_id = _text(data, "project_id", result)
    if project_id:
        try:
            result.values["project_id"] = uuid.UUID(project_id)
        except ValueError:
            result.errors.append(("project_id", _("project_id must be a UUID.")))
    extras = _contact(data, tuple(TEXT_LIMITS), result)
    rough = _boolean(data, "rough_location", result, _("rough_location must be true or false."))
    result.values.update(title=title, description=description, report_type=report_type, lng=lng, lat=lat,
                         rough_location=rough is True, **extras)
    return result


# JSON booleans and what forms send for them ("" is "not given").
BOOLEAN_WORDS = {True: True, False: False, "true": True, "false": False, "1": True, "0": False, "on": True, "": None,
               None: None}


def check_update(data: Mapping[str, Any]) -> CheckedReport:
    """An update's fields (JSON or multipart), every problem at once, each naming its field."""
    result = CheckedReport()
    text = _required_text(data, "text", DESCRIPTION_MAX, result,
                          missing=_("Say what happened: the update's text is required."),
                          too_long=_("The text must be at most %(max)d characters."))
    fixed = _boolean(data, "fixed", result, _("fixed must be true or false."))
    result.values.update(text=text, fixed=fixed, **_contact(data, ("name", "email"), result))
    return result


def check_vote(data: Mapping[str, Any]) -> str:
    """The retired vote endpoint's body: "up" (now "affected too") or "down" (refused)."""
    direction = data.get("direction")
    if direction not in ("up", "down"):
        raise ValueError(_("direction must be up or down."))
    return str(direction)


# --- Open reports near a place (duplicate suggestions) ------------------------------------------------------


class NearbyReportOut(Schema):
    id: int
    title: str
    report_type: str
    state: str = Field(description="open, acknowledged or in_progress")
    created_at: dt.datetime
    distance_m: int = Field(description="Great-circle distance from the point asked about, in whole metres")
    location: LngLat
    photo: PhotoOut | None = Field(description="The report's first photo, if it has one")


class NearbyReports(Schema):
    items: list[NearbyReportOut] = Field(description="Nearest first")
    radius_m: int
