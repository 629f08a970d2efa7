"""API shapes for municipalities (documentation of the dicts the endpoints build from `.values()` rows)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from ninja import Field, Schema


class LngLat(Schema):
    lng: float
    lat: float


class MunicipalityItem(Schema):
    id: uuid.UUID
    code: str = Field(description="Municipal Demarcation Board code, e.g. CPT, EC101, DC10")
    name: str
    long_name: str
    province: str
    category: str = Field(description="A metropolitan, B local, C district")
    district_code: str | None
    seat: str
    website: str
    point: LngLat | None = Field(description="Seat town (or median of project locations); see point_method")
    project_count: int
    total_value: str = Field(description="Sum of projects' allocated budgets, ZAR decimal string")


class MunicipalityPage(Schema):
    items: list[MunicipalityItem]
    count: int
    page: int
    limit: int
    pages: int


class CapitalSpendOut(Schema):
    financial_year: str
    amount_type: str
    amount: str
    source: str
    fetched_at: dt.datetime


class MunicipalityDetail(MunicipalityItem):
    point_method: str
    dashboard_url: str
    dws_project_count: int | None
    dws_total_value: str | None
    dws_fetched_at: dt.datetime | None
    projects_by_status: dict[str, int]
    demo_project_count: int = Field(description="Demo (made-up) projects counted in the totals")
    capital_spending: list[CapitalSpendOut]
    attribution: dict[str, Any]


ITEM_FIELDS = ("id", "code", "name", "long_name", "province", "category", "district__code", "seat", "website",
               "point", "project_count", "total_value")


def municipality_item(row: dict[str, Any]) -> dict[str, Any]:
    point = row.pop("point")
    row["district_code"] = row.pop("district__code")
    row["point"] = {"lng": point.x, "lat": point.y} if point is not None else None
    row["total_value"] = str(row["total_value"])
    return row
