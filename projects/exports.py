"""Project exports: CSV, GeoJSON and OC4IDS project packages, streamed, each carrying the sources' attribution.

Rows are read in keyset chunks (`id > last`, 1,000 at a time), so memory stays flat however many projects match.
Under daphne (ASGI) the body is an async iterator that fetches each chunk in the ORM thread; under WSGI (tests,
other servers) a plain iterator: Django would otherwise buffer the whole body to adapt one kind to the other.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator, Mapping
from decimal import Decimal
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone

from projects.attribution import attribution_summary, credit_text
from projects.maplayer import with_lng_lat
from projects.models import Budget, ProjectQuerySet, Status
from projects.schemas import ITEM_FIELDS, project_item

CHUNK = 1000
EXPORT_FIELDS = (*ITEM_FIELDS, "external_id", "description", "function", "asset_class", "source_status",
                 "address", "ward", "contractor")

# --- OC4IDS codelists (https://standard.open-contracting.org/infrastructure/, projectStatus and projectType) ---
OC4IDS_STATUS = {
    Status.IDENTIFICATION: "identification",
    Status.PREPARATION: "preparation",
    Status.IMPLEMENTATION: "implementation",
    # 'completion' covers hand-over and close-out; the older 'completed' code is deprecated in the codelist.
    Status.COMPLETED: "completion",
    Status.CANCELLED: "cancelled",
    # on_hold and unknown have no code: the status is left out rather than guessed.
}
# Checked in order against the project type, then the name; the first match wins.
OC4IDS_TYPE_PATTERNS = (
    (re.compile(r"replac", re.I), "replacement"),
    (re.compile(r"renew|rehabilit|refurbish|repair|upgrad|refurb", re.I), "rehabilitation"),
    (re.compile(r"\bnew\b|construct|build|install|extension|expansion", re.I), "construction"),
)
OC4IDS_VERSION = "0.9"


def oc4ids_type(project_type: str, name: str) -> str | None:
    for text in (project_type, name):
        for pattern, code in OC4IDS_TYPE_PATTERNS:
            if text and pattern.search(text):
                return code
    return None


def financial_year_period(financial_year: str) -> dict[str, str] | None:
    """'2023/2024' -> 1 July 2023 to 30 June 2024 (the municipal financial year)."""
    match = re.fullmatch(r"(\d{4})/(\d{4})", financial_year or "")
    if not match:
        return None
    return {"startDate": f"{match[1]}-07-01", "endDate": f"{match[2]}-06-30"}


def _amount(value: Decimal) -> float | int:
    # OC4IDS amounts are JSON numbers. At most 15 significant digits (the model's max_digits) survive the float
    # exactly, and Python prints the shortest form that round-trips, so "1234567.89" stays "1234567.89".
    return int(value) if value == value.to_integral_value() else float(value)


# --- Reading rows in chunks -------------------------------------------------------------------------------


def _chunk(queryset: ProjectQuerySet, after: Any, with_budgets: bool) -> list[dict[str, Any]]:
    page = with_lng_lat(queryset).order_by("id")
    if after is not None:
        page = page.filter(id__gt=after)
    rows = list(page.values(*EXPORT_FIELDS)[:CHUNK])
    if with_budgets and rows:
        by_project: dict[Any, list[Mapping[str, Any]]] = defaultdict(list)
        budgets = Budget.objects.filter(project_id__in=[row["id"] for row in rows]).order_by(
            "project_id", "financial_year", "budget_type", "quarter"
        )
        for budget in budgets.values("project_id", "financial_year", "budget_type", "quarter", "amount", "currency"):
            by_project[budget["project_id"]].append(budget)
        for row in rows:
            row["budgets"] = by_project.get(row["id"], [])
    return rows


def chunks(queryset: ProjectQuerySet, *, with_budgets: bool = False) -> Iterator[list[dict[str, Any]]]:
    after = None
    while rows := _chunk(queryset, after, with_budgets):
        yield rows
        after = rows[-1]["id"]


async def achunks(queryset: ProjectQuerySet, *, with_budgets: bool = False) -> AsyncIterator[list[dict[str, Any]]]:
    after = None
    while rows := await sync_to_async(_chunk)(queryset, after, with_budgets):
        yield rows
        after = rows[-1]["id"]


# --- Encoders: header, one chunk, footer ----------------------------------------------------------------

CSV_COLUMNS = (
    "id", "name", "status", "project_type", "municipality_code", "municipality_name", "province",
    "budget_allocated", "budget_spent", "progress_percentage", "start_date", "end_date", "longitude", "latitude",
    "red_flags", "contractor", "address", "ward", "source", "external_id", "fetched_at", "is_demo", "attribution",
    "affected_count",
)


class CsvEncoder:
    """Python's csv module; one header row, and each row names its source and fetch date (its attribution)."""

    def __init__(self) -> None:
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer)

    def _take(self) -> str:
        text = self.buffer.getvalue()
        self.buffer.seek(0)
        self.buffer.truncate()
        return text

    def header(self) -> str:
        self.writer.writerow(CSV_COLUMNS)
        return self._take()

    def rows(self, rows: list[dict[str, Any]]) -> str:
        for row in rows:
            item = project_item(row)
            municipality = item["municipality"] or {}
            location = item["location"] or {}
            fetched = row["last_scraped_at"]
            self.writer.writerow([
                row["id"], _safe_cell(row["name"]), row["status"], _safe_cell(row["project_type"]),
                municipality.get("code", ""), municipality.get("name", ""), municipality.get("province", ""),
                item["budget_allocated"] or "", item["budget_spent"] or "", item["progress_percentage"] or "",
                row["start_date"] or "", row["end_date"] or "", location.get("lng", ""), location.get("lat", ""),
                " ".join(item["red_flags"]), _safe_cell(row["contractor"]), _safe_cell(row["address"]),
                _safe_cell(row["ward"]), row["source"], _safe_cell(row["external_id"]),
                fetched.isoformat() if fetched else "", "true" if row["is_demo"] else "false",
                credit_text(row["source"], fetched), row["affected_count"],
            ])
        return self._take()

    def footer(self) -> str:
        return ""


def _safe_cell(value: str) -> str:
    # A cell starting with = + - @ runs as a formula in spreadsheets; source text is not trusted that far.
    return "'" + value if value and value[0] in "=+-@\t\r" else value


def _dumps(value: Any) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":"))


class GeoJsonEncoder:
    def __init__(self, attribution: dict[str, Any]) -> None:
        self.attribution = attribution
        self.first = True

    def header(self) -> str:
        return '{"type":"FeatureCollection","attribution":' + _dumps(self.attribution) + ',"features":['

    def rows(self, rows: list[dict[str, Any]]) -> str:
        parts = []
        for row in rows:
            item = project_item(row)
            location = item.pop("location")
            item.update(description=row["description"], contractor=row["contractor"],
                        source_status=row["source_status"], attribution=credit_text(row["source"],
                                                                                     row["last_scraped_at"]))
            feature = {
                "type": "Feature",
                "id": str(row["id"]),
                "geometry": {"type": "Point", "coordinates": [location["lng"], location["lat"]]} if location else None,
                "properties": item,
            }
            parts.append(("" if self.first else ",") + _dumps(feature))
            self.first = False
        return "".join(parts)

    def footer(self) -> str:
        return "]}"


class Oc4idsEncoder:
    """An OC4IDS project package (https://standard.open-contracting.org/infrastructure/)."""

    def __init__(self, *, uri: str, attribution: dict[str, Any]) -> None:
        self.uri = uri
        self.attribution = attribution
        self.first = True

    def header(self) -> str:
        package: dict[str, Any] = {
            "uri": self.uri,
            "publishedDate": timezone.now().isoformat(),
            "publisher": {"name": "Buka Amanzi", "uri": settings.SITE_URL},
            "version": OC4IDS_VERSION,
        }
        if settings.OC4IDS_LICENSE_URL:
            package["license"] = settings.OC4IDS_LICENSE_URL
        package["publicationPolicy"] = settings.SITE_URL.rstrip("/") + "/api/v1/docs"
        package["attribution"] = self.attribution
        return _dumps(package)[:-1] + ',"projects":['

    def rows(self, rows: list[dict[str, Any]]) -> str:
        parts = []
        for row in rows:
            parts.append(("" if self.first else ",") + _dumps(oc4ids_project(row)))
            self.first = False
        return "".join(parts)

    def footer(self) -> str:
        return "]}"


def oc4ids_project(row: dict[str, Any]) -> dict[str, Any]:
    project: dict[str, Any] = {"id": str(row["id"]), "title": row["name"]}
    if row["description"]:
        project["description"] = row["description"]
    status = OC4IDS_STATUS.get(row["status"])
    if status:
        project["status"] = status
    kind = oc4ids_type(row["project_type"], row["name"])
    if kind:
        project["type"] = kind
    project["sector"] = ["waterAndWaste"]
    period = {k: v.isoformat() for k, v in (("startDate", row["start_date"]), ("endDate", row["end_date"])) if v}
    if period:
        project["period"] = period
    budget: dict[str, Any] = {}
    if row["budget_allocated"] is not None:
        budget["amount"] = {"amount": _amount(row["budget_allocated"]), "currency": "ZAR"}
    breakdown = []
    for line in row.get("budgets", []):
        entry: dict[str, Any] = {
            "id": f"{line['financial_year']}/{line['budget_type']}"
                  + (f"/Q{line['quarter']}" if line["quarter"] else ""),
            "description": line["budget_type"],
            "amount": {"amount": _amount(line["amount"]), "currency": line["currency"]},
        }
        period_fy = financial_year_period(line["financial_year"])
        if period_fy:
            entry["period"] = period_fy
        breakdown.append(entry)
    if breakdown:
        budget["budgetBreakdown"] = [{"id": "1", "budgetBreakdown": breakdown}]
    if budget:
        project["budget"] = budget
    if row["municipality_id"]:
        authority = {"id": row["municipality__code"], "name": row["municipality__name"]}
        project["publicAuthority"] = authority
        project["parties"] = [{**authority, "roles": ["publicAuthority"],
                               "address": {"region": row["municipality__province"], "countryName": "South Africa"}}]
    if row["lng"] is not None:
        location: dict[str, Any] = {"id": "1", "geometry": {"type": "Point", "coordinates": [row["lng"], row["lat"]]}}
        if row["address"]:
            location["address"] = {"streetAddress": row["address"], "countryName": "South Africa"}
        project["locations"] = [location]
    project["updated"] = row["updated_at"].isoformat()
    # Not OC4IDS fields, kept with a prefix-free name readers can ignore: where the data came from.
    project["source"] = {"id": row["source"], "credit": credit_text(row["source"], row["last_scraped_at"]),
                         "isDemo": row["is_demo"]}
    return project


# --- Responses ------------------------------------------------------------------------------------------


def _stream(
    request: HttpRequest, queryset: ProjectQuerySet, encoder: Any, *, with_budgets: bool = False
) -> Iterator[str] | AsyncIterator[str]:
    if isinstance(request, ASGIRequest):
        async def body() -> AsyncIterator[str]:
            yield encoder.header()
            async for rows in achunks(queryset, with_budgets=with_budgets):
                yield encoder.rows(rows)
            yield encoder.footer()

        return body()

    def sync_body() -> Iterator[str]:
        yield encoder.header()
        for rows in chunks(queryset, with_budgets=with_budgets):
            yield encoder.rows(rows)
        yield encoder.footer()

    return sync_body()


def _response(content: Iterator[str] | AsyncIterator[str], content_type: str, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(content, content_type=content_type)
    stamp = timezone.localtime().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="bukaamanzi-projects-{stamp}.{filename}"'
    response["Cache-Control"] = "no-cache"
    return response


def _sources(queryset: ProjectQuerySet) -> list[str]:
    return list(queryset.order_by().values_list("source", flat=True).distinct())


def export_csv(request: HttpRequest, queryset: ProjectQuerySet) -> StreamingHttpResponse:
    return _response(_stream(request, queryset, CsvEncoder()), "text/csv; charset=utf-8", "csv")


def export_geojson(request: HttpRequest, queryset: ProjectQuerySet) -> StreamingHttpResponse:
    encoder = GeoJsonEncoder(attribution_summary(_sources(queryset)))
    return _response(_stream(request, queryset, encoder), "application/geo+json", "geojson")


def export_oc4ids(request: HttpRequest, queryset: ProjectQuerySet) -> StreamingHttpResponse:
    encoder = Oc4idsEncoder(uri=request.build_absolute_uri(), attribution=attribution_summary(_sources(queryset)))
    return _response(_stream(request, queryset, encoder, with_budgets=True), "application/json", "oc4ids.json")
