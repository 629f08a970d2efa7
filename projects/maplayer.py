"""The map layer: GeoJSON points, or clusters computed in the database when a viewport holds too many projects.

Spatial indexes: on PostGIS, Django's `location__intersects` becomes `ST_Intersects`, which uses the GiST index
by itself. On SpatiaLite it does not: SpatiaLite functions never consult the R*Tree, so `indexed()` adds a
`rowid IN (SELECT pkid FROM idx_projects_project_location WHERE <box overlaps>)` pre-filter, which SQLite answers
from the R*Tree; the exact `ST_Intersects`/distance checks then run only on the rows the index found.

Clusters snap each point to a grid whose cell shrinks as the zoom grows (about 64 screen pixels a cell) and
group by the snapped cell: one aggregate query on either database, returning count, centroid (mean of the
points) and bounds per cell.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.gis.db.models.functions import SnapToGrid
from django.contrib.gis.geos import Polygon
from django.db import connection
from django.db.models import Avg, Count, F, FloatField, Func, IntegerField, Max, Min, Q
from django.db.models.expressions import RawSQL

from projects.attribution import attribution_summary
from projects.filters import ProjectFilterForm, _box_around
from projects.models import ProjectQuerySet, Source

# Cells per 256-pixel tile width: 4 cells of about 64 px each.
CELLS_PER_TILE = 4
MAX_ZOOM = 22
SPATIALITE_INDEX_TABLE = "idx_projects_project_location"
# The R*Tree's own columns: boxes that overlap the query box. A constant table name; the numbers are parameters.
INDEX_SQL = (
    f"SELECT pkid FROM {SPATIALITE_INDEX_TABLE} "  # noqa: S608
    "WHERE xmin <= %s AND xmax >= %s AND ymin <= %s AND ymax >= %s"
)


class X(Func):
    function = "ST_X"
    output_field = FloatField()


class Y(Func):
    function = "ST_Y"
    output_field = FloatField()


def with_lng_lat(queryset: ProjectQuerySet) -> ProjectQuerySet:
    """Longitude and latitude as plain floats, so rows need no geometry decoding in Python."""
    return queryset.annotate(lng=X("location"), lat=Y("location"))


def is_spatialite() -> bool:
    return connection.vendor == "sqlite"


def index_prefilter(queryset: ProjectQuerySet, box: Polygon) -> ProjectQuerySet:
    """On SpatiaLite, narrow by the R*Tree first (see the module docstring); a no-op on PostGIS."""
    if not is_spatialite():
        return queryset
    min_x, min_y, max_x, max_y = box.extent
    candidates = RawSQL(INDEX_SQL, (max_x, min_x, max_y, min_y))  # noqa: S611
    rowid = RawSQL('"projects_project"."rowid"', (), output_field=IntegerField())  # noqa: S611
    return queryset.alias(_rowid=rowid).filter(_rowid__in=candidates)


def indexed(queryset: ProjectQuerySet, form: ProjectFilterForm) -> ProjectQuerySet:
    """Add the spatial-index pre-filter for the form's bbox and centre filters (apply the form as well)."""
    data = form.cleaned_data
    if data.get("bbox") is not None:
        queryset = index_prefilter(queryset, data["bbox"])
    if data.get("center") is not None:
        point, radius_km = data["center"]
        queryset = index_prefilter(queryset, _box_around(point, radius_km))
    return queryset


def cell_size(zoom: int) -> float:
    """Degrees per cluster cell at this zoom (Web Mercator tiles are 360/2^zoom degrees wide)."""
    return 360.0 / (2**zoom) / CELLS_PER_TILE


def _points(queryset: ProjectQuerySet, limit: int) -> list[dict[str, Any]]:
    rows = with_lng_lat(queryset.filter(location__isnull=False)).order_by().values(
        "id", "name", "status", "is_demo", "lng", "lat"
    )
    return list(rows[:limit])


def _clusters(queryset: ProjectQuerySet, zoom: int) -> list[dict[str, Any]]:
    size = cell_size(zoom)
    snapped = SnapToGrid("location", size)
    rows = (
        queryset.filter(location__isnull=False)
        .order_by()
        .annotate(gx=X(snapped), gy=Y(snapped))
        .values("gx", "gy")
        .annotate(
            count=Count("id"),
            demo_count=Count("id", filter=Q(is_demo=True)),
            lng=Avg(X("location")),
            lat=Avg(Y("location")),
            min_lng=Min(X("location")),
            min_lat=Min(Y("location")),
            max_lng=Max(X("location")),
            max_lat=Max(Y("location")),
        )
        .order_by(F("count").desc())
    )
    return list(rows)


def _point_feature(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": str(row["id"]),
        "geometry": {"type": "Point", "coordinates": [round(row["lng"], 6), round(row["lat"], 6)]},
        "properties": {"id": str(row["id"]), "name": row["name"], "status": row["status"],
                       "is_demo": row["is_demo"]},
    }


def _cluster_feature(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": f"cluster:{row['gx']:.6f}:{row['gy']:.6f}",
        "geometry": {"type": "Point", "coordinates": [round(row["lng"], 6), round(row["lat"], 6)]},
        "properties": {
            "cluster": True,
            "count": row["count"],
            "demo_count": row["demo_count"],
            "bounds": [round(row[k], 6) for k in ("min_lng", "min_lat", "max_lng", "max_lat")],
        },
    }


def map_layer(queryset: ProjectQuerySet, *, zoom: int, threshold: int | None = None) -> dict[str, Any]:
    """GeoJSON for the viewport: up to `threshold` points, or clusters when there are more.

    The queryset is already filtered (bbox and the other filters). Points are fetched with LIMIT threshold+1, so a
    sparse viewport costs one query and a dense one two (the probe and the aggregate).
    """
    threshold = settings.MAP_CLUSTER_THRESHOLD if threshold is None else threshold
    points = _points(queryset, threshold + 1)
    real_sources = [Source.MUNICIPAL_MONEY, Source.DWS]
    if len(points) <= threshold:
        has_demo = any(row["is_demo"] for row in points)
        return {
            "type": "FeatureCollection",
            "mode": "points",
            "total": len(points),
            "features": [_point_feature(row) for row in points],
            "attribution": attribution_summary([*real_sources, *([Source.DEMO] if has_demo else [])]),
        }
    clusters = _clusters(queryset, zoom)
    has_demo = any(row["demo_count"] for row in clusters)
    return {
        "type": "FeatureCollection",
        "mode": "clusters",
        "total": sum(row["count"] for row in clusters),
        "features": [_cluster_feature(row) for row in clusters],
        "attribution": attribution_summary([*real_sources, *([Source.DEMO] if has_demo else [])]),
    }


def explain_map_query(queryset: ProjectQuerySet, *, zoom: int) -> str:
    """The query plan of the cluster aggregate (for the benchmark and the docs)."""
    size = cell_size(zoom)
    snapped = SnapToGrid("location", size)
    query = (
        queryset.filter(location__isnull=False).order_by().annotate(gx=X(snapped), gy=Y(snapped))
        .values("gx", "gy").annotate(count=Count("id"))
    )
    return query.explain()
