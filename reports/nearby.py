"""Open problems near a place: the duplicate suggestions the report form offers once a location is chosen.

"Open" is a published problem still waiting for a fix (`reports.states.UNRESOLVED`: open, acknowledged, in
progress); news (noted), fixed, closed and duplicate reports are not worth suggesting. The spatial index
(GiST `&&` on PostGIS, the R*Tree on SpatiaLite: `bukaamanzi.lib.spatial.box_overlaps`) narrows the rows to a
box around the circle; then each candidate's status and state, and the great-circle distance of its plain
coordinates, decide, and the distance orders. That work is done here rather than in SQL: the box holds few
reports, any filter beside the box's lets SQLite's planner pick a worse index (`open_report_candidates`), and
one Python function gives the same distances on both databases (PostGIS and SpatiaLite each have their own
spherical distance).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

from django.db.models import Min, QuerySet

from bukaamanzi.lib.geo import box_around, distance_km
from bukaamanzi.lib.spatial import X, Y, box_overlaps
from reports.models import Report, ReportPhoto, ReportStatus
from reports.states import UNRESOLVED

DEFAULT_RADIUS_M = 250
MAX_RADIUS_M = 1000
NEARBY_LIMIT = 5

CANDIDATE_FIELDS = ("pk", "title", "report_type", "state", "status", "created_at")


@dataclass(frozen=True)
class NearbyPhoto:
    url: str  # as the storage gives it (relative to the site for local files); the API makes it absolute
    width: int
    height: int
    alt_text: str
    thumbnail_url: str  # what the suggestion list shows: the thumbnail, or the original where none is made yet


@dataclass(frozen=True)
class NearbyReport:
    id: int
    title: str
    report_type: str
    state: str
    created_at: dt.datetime
    distance_m: float  # great-circle, from the place asked about
    lng: float
    lat: float
    photo: NearbyPhoto | None  # the report's first photo


def open_report_candidates(*, lng: float, lat: float, radius_m: float) -> QuerySet[Report, tuple[Any, ...]]:
    """Every report the spatial index finds in a box around the circle, as (id, title, report_type, state,
    status, created_at, lng, lat) tuples: a superset of the open reports within `radius_m`, whatever their
    status and state. The query `open_reports_near` runs, for its plan in the tests and the benchmark.

    Status and state are checked in Python, not in SQL, so that the spatial index always drives the query:
    given `status = 'published'` as well, SQLite (without statistics, as a site's database is) walked the
    (status, created_at) index over every published report and looked each one up in the R*Tree's rowids: 25
    ms at 200,000 reports against 0.7 ms from the R*Tree (bench/reports/nearby.py). The box holds few reports,
    so reading the hidden and closed ones among them costs little on either database."""
    if not 0 < radius_m <= MAX_RADIUS_M:
        raise ValueError(f"radius_m must be more than 0 and at most {MAX_RADIUS_M}")
    box = box_around(lng=lng, lat=lat, radius_km=radius_m / 1000)
    # The public point: a report shown "only roughly" is found, and measured, where the public sees it.
    return box_overlaps(Report.objects.all(), "public_location", box).values_list(
        *CANDIDATE_FIELDS, X("public_location"), Y("public_location")).order_by()


def is_open(*, status: str, state: str) -> bool:
    """A problem the public sees (`Report.objects.published()`) that still waits for a fix."""
    return status == ReportStatus.PUBLISHED and state in UNRESOLVED


def open_reports_near(*, lng: float, lat: float, radius_m: float = DEFAULT_RADIUS_M,
                      limit: int = NEARBY_LIMIT) -> list[NearbyReport]:
    """Published, unresolved problems within `radius_m` metres of the point, nearest first (at equal distance
    the earlier report, the likelier original), at most `limit`: two queries, the second only when some are
    found."""
    within = []
    for pk, title, report_type, state, status, created_at, report_lng, report_lat in open_report_candidates(
            lng=lng, lat=lat, radius_m=radius_m):
        metres = distance_km(lng, lat, report_lng, report_lat) * 1000
        if is_open(status=status, state=state) and metres <= radius_m:
            within.append(NearbyReport(id=pk, title=title, report_type=report_type, state=state,
                                       created_at=created_at, distance_m=metres, lng=report_lng, lat=report_lat,
                                       photo=None))
    nearest = sorted(within, key=lambda report: (report.distance_m, report.id))[:limit]
    photos = first_photos([report.id for report in nearest])
    return [replace(report, photo=photos.get(report.id)) for report in nearest]


def first_photos(report_ids: list[int]) -> dict[int, NearbyPhoto]:
    """Each report's first public photo (the lowest id, the order they were added in), for all of them in one
    query; hidden photos are never suggested."""
    if not report_ids:
        return {}
    first_ids = (ReportPhoto.objects.public().filter(report_id__in=report_ids).order_by().values("report_id")
                 .annotate(first=Min("pk")).values("first"))
    storage = ReportPhoto.image.field.storage
    # Unordered: the model's ordering ("report", then the report's own) would join the reports for nothing.
    rows = ReportPhoto.objects.public().filter(pk__in=first_ids).order_by().values_list(
        "report_id", "image", "width", "height", "alt_text", "thumbnail")
    return {report_id: NearbyPhoto(url=storage.url(image), width=width, height=height, alt_text=alt_text,
                                   thumbnail_url=storage.url(thumbnail or image))
            for report_id, image, width, height, alt_text, thumbnail in rows}
