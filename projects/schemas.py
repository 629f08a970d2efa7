"""API shapes for projects, the map layer and exports.

The list endpoints build plain dicts from `.values()` rows (see `project_item`) and these schemas document them
for OpenAPI; money is a decimal string (exact), dates are ISO 8601, locations are WGS 84 longitude/latitude.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any, Literal

from ninja import Field, Schema

from projects.models import Project, RedFlag


class LngLat(Schema):
    lng: float
    lat: float


class MunicipalityRef(Schema):
    id: uuid.UUID
    code: str
    name: str
    province: str


class SourceCredit(Schema):
    source: str
    credit: str
    url: str = ""
    licence: str = ""


class AttributionSummary(Schema):
    sources: list[SourceCredit]
    note: str = Field("", description="Says so when the response includes demo (made-up) projects.")


class Attribution(Schema):
    source: str
    credit: str
    url: str
    licence: str
    fetched_at: dt.datetime | None = Field(None, description="When the data was last fetched from the source.")
    is_demo: bool


class ProjectItem(Schema):
    id: uuid.UUID
    name: str
    status: str
    project_type: str
    source: str
    is_demo: bool = Field(description="True for demo data: made-up examples, not real projects.")
    municipality: MunicipalityRef | None
    budget_allocated: str | None = Field(description="ZAR, decimal string")
    budget_spent: str | None = Field(description="ZAR, decimal string")
    progress_percentage: str | None
    start_date: dt.date | None
    end_date: dt.date | None
    location: LngLat | None
    red_flags: list[str]
    last_scraped_at: dt.datetime | None
    updated_at: dt.datetime
    affected_count: int = Field(description="Residents who said “this project affects me too”")


class ProjectPage(Schema):
    items: list[ProjectItem]
    count: int
    page: int
    limit: int
    pages: int
    attribution: AttributionSummary


class BudgetPhase(Schema):
    budget_type: str
    amount: str = Field(description="decimal string")
    currency: str
    quarter: int | None
    source: str


class BudgetYear(Schema):
    financial_year: str
    phases: list[BudgetPhase]


class HistoryEntry(Schema):
    id: int
    change_type: str
    source: str
    field_changes: list[Any]
    old_values: dict[str, Any]
    new_values: dict[str, Any]
    created_at: dt.datetime


class ReportSummary(Schema):
    id: int
    title: str
    report_type: str
    state: str
    created_at: dt.datetime
    affected_count: int


class ProjectDetail(ProjectItem):
    external_id: str
    description: str
    function: str
    asset_class: str
    source_status: str
    address: str
    ward: str
    contractor: str
    progress_changed_at: dt.datetime | None
    budgets: list[BudgetYear]
    attribution: Attribution
    history: list[HistoryEntry]
    reports_count: int
    reports: list[ReportSummary]


# --- Map layer (GeoJSON) --------------------------------------------------------------------------------


class PointGeometry(Schema):
    type: Literal["Point"]
    coordinates: list[float]


class MapFeature(Schema):
    type: Literal["Feature"]
    id: str
    geometry: PointGeometry
    properties: dict[str, Any] = Field(
        description="Points: id, name, status, is_demo. Clusters: cluster=true, count, demo_count, bounds "
        "[minlng, minlat, maxlng, maxlat]."
    )


class MapLayer(Schema):
    type: Literal["FeatureCollection"]
    mode: Literal["points", "clusters"]
    total: int = Field(description="Projects (with a location) in the viewport that match the filters")
    features: list[MapFeature]
    attribution: AttributionSummary


# --- Building items from `.values()` rows (no per-row validation) -------------------------------------------

ITEM_FIELDS = (
    "id", "name", "status", "project_type", "source", "is_demo", "municipality_id", "municipality__code",
    "municipality__name", "municipality__province", "budget_allocated", "budget_spent", "progress_percentage",
    "progress_changed_at", "start_date", "end_date", "lng", "lat", "last_scraped_at", "updated_at", "affected_count",
)

# The model's one definition, applied to a row; read from the class dict, as the stubs type Project.red_flags
# (a property read on the class) as a plain callable.
_red_flags: Callable[[Any], list[RedFlag]] = vars(Project)["red_flags"].fget


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def project_item(row: dict[str, Any]) -> dict[str, Any]:
    """One list item from a `.values(*ITEM_FIELDS)` row of `maplayer.with_lng_lat(queryset)`."""
    return {
        "id": row["id"],
        "name": row["name"],
        "status": row["status"],
        "project_type": row["project_type"],
        "source": row["source"],
        "is_demo": row["is_demo"],
        "municipality": (
            {"id": row["municipality_id"], "code": row["municipality__code"], "name": row["municipality__name"],
             "province": row["municipality__province"]}
            if row["municipality_id"] else None
        ),
        "budget_allocated": _text(row["budget_allocated"]),
        "budget_spent": _text(row["budget_spent"]),
        "progress_percentage": _text(row["progress_percentage"]),
        "start_date": row["start_date"],
        "end_date": row["end_date"],
        "location": {"lng": row["lng"], "lat": row["lat"]} if row["lng"] is not None else None,
        "red_flags": [str(flag) for flag in _red_flags(SimpleNamespace(**row))],
        "last_scraped_at": row["last_scraped_at"],
        "updated_at": row["updated_at"],
        "affected_count": row["affected_count"],
    }


# --- Query-string filters ---------------------------------------------------------------------------------
# They document the project filters in the OpenAPI schema; the values themselves are read and validated by
# projects.filters.ProjectFilterForm (shared with the pages), so every endpoint takes them the same way.


class MunicipalityProjectFilters(Schema):
    q: str | None = Field(None, description="Words in the name, description, contractor or municipality name.")
    status: list[str] | None = Field(
        None, description="One or more of identification, preparation, implementation, completed, cancelled, "
        "on_hold, unknown: repeated (status=a&status=b) or comma separated.")
    project_type: str | None = Field(None, description="Project type as the source names it (case-insensitive, "
                                     "exact).")
    flag: str | None = Field(None, description="Red flag: over_budget, overdue or stalled.")
    bbox: str | None = Field(None, description="minlng,minlat,maxlng,maxlat (WGS 84 degrees).")
    center: str | None = Field(None, description="lng,lat,radius_km (radius above 0 and at most 500 km).")


class ProjectFilters(MunicipalityProjectFilters):
    province: str | None = Field(None, description="Province code: EC, FS, GT, KZN, LIM, MP, NW, NC, WC.")
    municipality_id: str | None = Field(
        None, description="Municipality MDB code (e.g. CPT) or id; a district includes its local municipalities.")
