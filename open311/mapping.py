"""Our reports as Open311 GeoReport v2 services and requests (pure: no database, no request).

The mapping table, with the reasons, is docs/open311.md. In short: each report type is a service whose
`service_code` is the type's stored value (stable: it is what the database keeps); our states become `open` or
`closed` with `status_notes` saying which; the location is the public point (rough when the reporter asked);
`agency_responsible` is the municipality's name; `media_url` is the first public photo; no email ever leaves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from reports.models import ReportState, ReportType
from reports.states import UNRESOLVED, state_sentence

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When this interface last changed in a way a client may notice (discovery's `changeset`).
CHANGESET = "2026-12-07T00:00:00Z"
TITLE_LENGTH = 80


def service_group() -> str:
    return _("Water and sanitation")


def _service_descriptions() -> dict[str, str]:
    return {
        ReportType.ISSUE: _("Something is wrong: a leak, no water, a blocked sewer, a broken tap or toilet."),
        ReportType.QUALITY_CONCERN: _("Work that looks poorly done, or water that looks, smells or tastes wrong."),
        ReportType.PROGRESS_UPDATE: _("News from a project on the ground: what is being built and how far along."),
        ReportType.COMPLETION: _("A project that looks finished."),
    }


def _keywords() -> dict[str, str]:
    return {
        ReportType.ISSUE: _("leak, burst pipe, no water, sewage, blocked drain, broken tap, toilet"),
        ReportType.QUALITY_CONCERN: _("quality, poor workmanship, dirty water, smell, taste"),
        ReportType.PROGRESS_UPDATE: _("progress, construction, project"),
        ReportType.COMPLETION: _("completed, finished, project"),
    }


def services() -> list[dict[str, Any]]:
    """GET services: every report type, in the order the report form offers them."""
    descriptions, keywords = _service_descriptions(), _keywords()
    return [
        {"service_code": report_type.value, "service_name": str(report_type.label),
         "description": descriptions[report_type], "metadata": True, "type": "realtime",
         "keywords": keywords[report_type], "group": service_group()}
        for report_type in (ReportType.ISSUE, ReportType.QUALITY_CONCERN, ReportType.PROGRESS_UPDATE,
                            ReportType.COMPLETION)
    ]


def attributes() -> list[dict[str, Any]]:
    """The attributes every service takes (`attribute[code]` when posting); none is required."""
    return [
        {"variable": True, "code": "project", "datatype": "string", "required": False,
         "datatype_description": _("A project's id (a UUID), as /api/v1/projects gives it."),
         "order": 1, "description": _("The water or sanitation project this is about, if you know it.")},
        {"variable": True, "code": "title", "datatype": "string", "required": False,
         "datatype_description": _("At most 200 characters."),
         "order": 2, "description": _("A short title; without one, the start of the description is used.")},
        {"variable": True, "code": "rough_location", "datatype": "singlevaluelist", "required": False,
         "datatype_description": "",
         "order": 3, "description": _("Show the place to the public only roughly (within about 500 m)."),
         "values": [{"key": "false", "name": _("No, show the exact place")},
                    {"key": "true", "name": _("Yes, only roughly")}]},
    ]


ATTRIBUTE_CODES = ("project", "title", "rough_location")


def service_definition(service_code: str) -> dict[str, Any] | None:
    if service_code not in ReportType.values:
        return None
    return {"service_code": service_code, "attributes": attributes()}


def open311_status(state: str) -> str:
    """open: waiting for a fix (open, acknowledged, in progress); closed: everything else (fixed, closed not
    fixed, duplicate, and news that waits for no fix)."""
    return "open" if state in UNRESOLVED else "closed"


def status_notes(*, state: str, set_by: str, duplicate_of_id: int | None) -> str:
    if state == ReportState.DUPLICATE and duplicate_of_id is not None:
        return _("Duplicate of request %(id)s.") % {"id": duplicate_of_id}
    return state_sentence(state, set_by).capitalize()


def title_from(description: str) -> str:
    """A title when the client sent none: the description's first line, cut at a word near TITLE_LENGTH."""
    line = description.strip().splitlines()[0].strip() if description.strip() else ""
    if len(line) <= TITLE_LENGTH:
        return line
    cut = line[:TITLE_LENGTH].rsplit(" ", 1)[0] or line[:TITLE_LENGTH]
    return cut.rstrip(" ,.;:") + "…"


@dataclass(frozen=True)
class RequestRow:
    """What a request shows of a report: public fields only (the view reads them with `.values()`)."""

    id: int
    report_type: str
    state: str
    state_set_by: str
    duplicate_of_id: int | None
    title: str
    description: str
    address: str
    lng: float  # the public point
    lat: float
    created_at: dt.datetime
    updated_at: dt.datetime
    agency: str  # the municipality's name, "" when the report is on no project
    media_url: str | None  # absolute URL of the first public photo


def request_items(rows: Iterable[RequestRow]) -> list[dict[str, Any]]:
    """Requests, with the specification's fields in its order. Labels and notes are translated once per call, not
    once per row: a list of 1,000 spent a third of its time in gettext and time-zone look-ups
    (bench/open311/read.py)."""
    names: dict[str, str] = {}
    notes: dict[tuple[str, str, int | None], str] = {}
    zone = timezone.get_current_timezone()

    def when(moment: dt.datetime | None) -> str | None:
        return None if moment is None else moment.astimezone(zone).isoformat(timespec="seconds")

    items = []
    for row in rows:
        if row.report_type not in names:
            try:
                names[row.report_type] = str(ReportType(row.report_type).label)
            except ValueError:
                names[row.report_type] = row.report_type
        note_key = (row.state, row.state_set_by, row.duplicate_of_id if row.state == ReportState.DUPLICATE else None)
        if note_key not in notes:
            notes[note_key] = status_notes(state=row.state, set_by=row.state_set_by, duplicate_of_id=note_key[2])
        items.append({
            "service_request_id": str(row.id),
            "status": open311_status(row.state),
            "status_notes": notes[note_key],
            "service_name": names[row.report_type],
            "service_code": row.report_type,
            # The title leads the description: Open311 has no title, and it is what residents read first.
            "description": f"{row.title}\n\n{row.description}" if row.title and not row.description.startswith(
                row.title.rstrip("…")) else row.description,
            "agency_responsible": row.agency,
            "service_notice": "",
            "requested_datetime": when(row.created_at),
            "updated_datetime": when(row.updated_at),
            "expected_datetime": None,
            "address": row.address,
            "address_id": "",
            "zipcode": "",
            "lat": row.lat,
            "long": row.lng,
            "media_url": row.media_url or "",
        })
    return items
