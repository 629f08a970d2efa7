"""Writes to municipalities: the reference list, their points and their running totals.

Each write records a DataChangeLog row in the same transaction (source etl_pipeline for reference data), and
a second load of unchanged data writes nothing.
"""

from __future__ import annotations

import csv
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
from municipalities.models import Category, Municipality, PointMethod

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
