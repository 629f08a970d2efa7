"""Writes to municipalities: the reference list, their points and their running totals.

Each write records a DataChangeLog row in the same transaction (source etl_pipeline for reference data), and
a second load of unchanged data writes nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.contrib.gis.geos import Point
from django.db import transaction
from django.db.models import Count, Sum

from changelog.models import ChangeSource, ChangeType, EntityType
from changelog.services import change_log_record
from municipalities import gazetteer
from municipalities.models import CapitalSpend, Category, Municipality, PointMethod, Province

REFERENCE_CSV = Path(__file__).resolve().parent / "data" / "municipalities.csv"
REFERENCE_FIELDS = ("name", "province", "category", "seat", "website")


@dataclass
class LoadResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)


def _log(municipality: Municipality, change_type: str, old: dict, new: dict, source: str) -> None:
    change_log_record(
        entity_type=EntityType.MUNICIPALITY,
        entity_id=municipality.pk,
        change_type=change_type,
        source=source,
        old_values=old,
        new_values=new,
        municipality_code=municipality.code,
    )


def read_reference_rows(path: Path = REFERENCE_CSV) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@transaction.atomic
def municipality_load_reference(*, rows: Iterable[dict[str, str]] | None = None) -> LoadResult:
    """Upsert the reference municipalities by MDB code; codes are never reused or deleted."""
    result = LoadResult()
    rows = list(rows if rows is not None else read_reference_rows())
    existing = {m.code: m for m in Municipality.objects.all()}
    for row in rows:  # districts are listed first, so a local's district exists when it is reached
        code = row["code"].strip().upper()
        wanted = {name: row[name].strip() for name in REFERENCE_FIELDS}
        if wanted["category"] not in Category.values:
            result.errors.append(f"{code}: unknown category {wanted['category']!r}")
            continue
        district_code = row.get("district", "").strip().upper()
        district = existing.get(district_code) if district_code else None
        if district_code and district is None:
            result.errors.append(f"{code}: district {district_code} is not in the list")
            continue
        municipality = existing.get(code)
        if municipality is None:
            municipality = Municipality.objects.create(code=code, district=district, **wanted)
            existing[code] = municipality
            _log(municipality, ChangeType.CREATED, {}, {**wanted, "district": district_code},
                 ChangeSource.ETL_PIPELINE)
            result.created += 1
            continue
        # The list seeds names; after that the live source (Treasury's geography) keeps them current, so a
        # reference load never renames a municipality back. Structure (province, category, district) and the
        # seat used for its point follow the list.
        wanted.pop("name")
        old = {name: getattr(municipality, name) for name in wanted}
        old["district"] = municipality.district.code if municipality.district is not None else ""
        new = {**wanted, "district": district_code}
        if old == new:
            result.unchanged += 1
            continue
        for name, value in wanted.items():
            setattr(municipality, name, value)
        municipality.district = district
        municipality.save()
        _log(municipality, ChangeType.UPDATED, old, new, ChangeSource.ETL_PIPELINE)
        result.updated += 1
    return result


@dataclass
class LocateResult:
    by_gazetteer: int = 0
    by_projects: int = 0
    without_point: list[str] = field(default_factory=list)


@transaction.atomic
def municipality_locate_points(*, overwrite: bool = False) -> LocateResult:
    """Give each municipality a point from a documented place, never an invented one.

    First the seat town in the GeoNames gazetteer; failing that, the median of its projects' locations;
    failing both, no point (and the municipality is listed in the result). Points set by a moderator or a
    source are kept unless `overwrite` is asked for.
    """
    result = LocateResult()
    keep = {PointMethod.MANUAL, PointMethod.SOURCE}
    for municipality in Municipality.objects.current():
        if municipality.point is not None and municipality.point_method in keep and not overwrite:
            continue
        point, method, reference = _locate(municipality)
        if point is None:
            result.without_point.append(municipality.code)
            continue
        if method == PointMethod.GAZETTEER_SEAT:
            result.by_gazetteer += 1
        else:
            result.by_projects += 1
        if municipality.point is not None and municipality.point.equals_exact(point, 1e-7) and (
            municipality.point_method == method
        ):
            continue
        old = {"point": municipality.point, "point_method": municipality.point_method}
        municipality.point, municipality.point_method, municipality.point_reference = point, method, reference
        municipality.save(update_fields=["point", "point_method", "point_reference", "updated_at"])
        _log(municipality, ChangeType.UPDATED, old, {"point": point, "point_method": method},
             ChangeSource.ETL_PIPELINE)
    return result


def _locate(municipality: Municipality) -> tuple[Point | None, str, str]:
    place = gazetteer.find_seat(municipality.seat, municipality.province)
    if place is not None:
        return (
            Point(place.longitude, place.latitude, srid=4326),
            PointMethod.GAZETTEER_SEAT,
            f"GeoNames {place.geonameid} ({place.name})",
        )
    located = municipality.projects.filter(location__isnull=False, is_demo=False).values_list("location", flat=True)
    # The query already leaves out empty locations; the `is not None` only tells the type checker so.
    locations = [point for point in located if point is not None]
    if locations:
        lng = statistics.median(p.x for p in locations)
        lat = statistics.median(p.y for p in locations)
        return Point(lng, lat, srid=4326), PointMethod.PROJECT_MEDIAN, f"median of {len(locations)} projects"
    return None, PointMethod.NONE, ""


def municipality_refresh_totals(*, codes: Iterable[str] | None = None) -> int:
    """Recompute `project_count` and `total_value` (sum of allocated budgets) for the given municipalities."""
    queryset = Municipality.objects.all()
    if codes is not None:
        queryset = queryset.filter(code__in=list(codes))
    # Through the reverse relation (`projects`), so that this module does not import the projects app, which
    # sits above municipalities.
    totals = {
        pk: (count, value)
        for pk, count, value in queryset.annotate(n=Count("projects"), value=Sum("projects__budget_allocated"))
        .values_list("pk", "n", "value")
    }
    changed = 0
    for municipality in queryset:
        count, value = totals[municipality.pk]
        value = value or Decimal("0")
        if municipality.project_count != count or municipality.total_value != value:
            municipality.project_count, municipality.total_value = count, value
            municipality.save(update_fields=["project_count", "total_value", "updated_at"])
            changed += 1
    return changed


# --------------------------------------------------------------------------------------------------------------
# What the sources say about municipalities (Treasury's geography and capital spending, the DWS summaries)
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MunicipalityFacts:
    """A source's record of one municipality; `district_code` is its district's code for a local one."""

    code: str
    name: str
    long_name: str
    province: str
    category: str
    district_code: str = ""
    disestablished: bool = False


@dataclass
class SyncResult:
    counts: dict[str, int] = field(default_factory=dict)
    unmatched: list[dict[str, str]] = field(default_factory=list)


def municipality_sync_from_source(*, facts: Iterable[MunicipalityFacts]) -> SyncResult:
    """Names refreshed, disestablished ones marked, new ones created; codes are never deleted or given to another.
    Each change is one change-log row, in one transaction."""
    result = SyncResult(counts={"renamed": 0, "disestablished": 0, "created": 0})
    with transaction.atomic():
        existing = {m.code.upper(): m for m in Municipality.objects.select_for_update()}
        for fact in facts:
            code = fact.code.upper()
            municipality = existing.get(code)
            if municipality is None:
                _create_from_source(fact, existing, result)
                continue
            old: dict[str, object] = {}
            new: dict[str, object] = {}
            for name, value in (("name", fact.name[:200]), ("long_name", fact.long_name[:250]),
                                ("disestablished", fact.disestablished)):
                if getattr(municipality, name) != value:
                    old[name], new[name] = getattr(municipality, name), value
                    setattr(municipality, name, value)
            if not new:
                continue
            result.counts["renamed"] += "name" in new
            result.counts["disestablished"] += bool(new.get("disestablished"))
            municipality.save(update_fields=[*new, "updated_at"])
            _log(municipality, ChangeType.UPDATED, old, new, ChangeSource.ETL_PIPELINE)
    return result


def _create_from_source(fact: MunicipalityFacts, existing: dict[str, Municipality], result: SyncResult) -> None:
    if fact.disestablished:
        return  # a code retired before our reference list: nothing to show under it
    if fact.category not in Category.values or fact.province not in Province.values:
        result.unmatched.append({"kind": "municipality", "code": fact.code, "name": fact.name,
                                 "reason": "unknown category or province"})
        return
    municipality = Municipality.objects.create(
        code=fact.code.upper(), name=fact.name[:200], long_name=fact.long_name[:250], province=fact.province,
        category=fact.category, district=existing.get(fact.district_code.upper()) if fact.district_code else None,
    )
    existing[municipality.code] = municipality
    result.counts["created"] += 1
    _log(municipality, ChangeType.CREATED, {}, {"code": municipality.code, "name": municipality.name},
         ChangeSource.ETL_PIPELINE)


@dataclass(frozen=True)
class CapitalAmount:
    municipality_code: str
    financial_year: str
    amount_type: str
    amount: Decimal


def capital_spend_sync(*, amounts: Iterable[CapitalAmount], source: str, fetched_at: dt.datetime) -> SyncResult:
    """One row per municipality, financial year and amount type, as the source reports it (never summed); a
    changed amount is one change-log row per municipality."""
    by_code = {m.code.upper(): m for m in Municipality.objects.all()}
    wanted: dict[tuple[str, str, str], tuple[Municipality, Decimal]] = {}
    result = SyncResult()
    for amount in amounts:
        municipality = by_code.get(amount.municipality_code.upper())
        if municipality is None:
            result.unmatched.append({"kind": "capital_spend", "municipality_code": amount.municipality_code})
            continue
        wanted[(municipality.pk.hex, amount.financial_year, amount.amount_type)] = (municipality, amount.amount)
    with transaction.atomic():
        current = {
            (row.municipality_id.hex, row.financial_year, row.amount_type): row
            for row in CapitalSpend.objects.filter(municipality_id__in={m.pk for m, _ in wanted.values()})
        }
        new_rows, changed_rows = [], []
        changes: dict[str, tuple[Municipality, dict[str, object], dict[str, object]]] = {}
        for key, (municipality, value) in wanted.items():
            label = f"capital_spend {key[1]} {key[2]}"
            row = current.get(key)
            if row is None:
                new_rows.append(CapitalSpend(municipality=municipality, financial_year=key[1], amount_type=key[2],
                                             amount=value, source=source, fetched_at=fetched_at))
            elif row.amount != value:
                changes.setdefault(municipality.code, (municipality, {}, {}))[1][label] = row.amount
                row.amount, row.fetched_at = value, fetched_at
                changed_rows.append(row)
            else:
                continue
            changes.setdefault(municipality.code, (municipality, {}, {}))[2][label] = value
        CapitalSpend.objects.bulk_create(new_rows)
        CapitalSpend.objects.bulk_update(changed_rows, ["amount", "fetched_at"])
        for municipality, old, new in changes.values():
            _log(municipality, ChangeType.UPDATED, old, new, ChangeSource.ETL_PIPELINE)
    result.counts = {"created": len(new_rows), "updated": len(changed_rows)}
    return result


@dataclass(frozen=True)
class DashboardSummary:
    """The DWS dashboard's own line for a municipality: how many projects it lists and their total value."""

    municipality: Municipality
    project_count: int | None
    total_value: Decimal | None
    dashboard_url: str


def municipality_record_dashboard_summaries(*, summaries: Iterable[DashboardSummary], fetched_at: dt.datetime) -> int:
    """Store each changed summary beside our own figures; returns how many municipalities changed."""
    changed = 0
    with transaction.atomic():
        for summary in summaries:
            municipality = summary.municipality
            wanted = {
                "dws_project_count": summary.project_count,
                "dws_total_value": summary.total_value,
                "dashboard_url": summary.dashboard_url[:1000],
            }
            old = {name: getattr(municipality, name) for name in wanted if getattr(municipality, name) != wanted[name]}
            if not old:
                continue
            new = {name: wanted[name] for name in old}
            for name, value in new.items():
                setattr(municipality, name, value)
            municipality.dws_fetched_at = fetched_at
            municipality.save(update_fields=[*new, "dws_fetched_at", "updated_at"])
            _log(municipality, ChangeType.UPDATED, old, new, ChangeSource.ETL_PIPELINE)
            changed += 1
    return changed
