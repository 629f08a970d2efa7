"""The map layer: GeoJSON points, or clusters computed in the database when a viewport holds too many projects.

Spatial indexes: on PostGIS the bbox filter is the `&&` operator (`filters.index_box_q`), answered by the GiST
index, then an exact check of the plain coordinates (`filters.inside_box`). On SpatiaLite functions never consult
the R*Tree, so `indexed()` adds a `rowid IN (SELECT pkid FROM idx_projects_project_location WHERE <box overlaps>)`
pre-filter, which SQLite answers from the R*Tree; the exact checks then run only on the rows the index found.

Clusters snap each point to a grid whose cell shrinks as the zoom grows (about 64 screen pixels a cell) and
group by the snapped cell: one aggregate query on either database, returning count, centroid (mean of the
points) and bounds per cell. The points are read once in an inner query, so each row is snapped once.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.gis.geos import Polygon
from django.db import connection
from django.db.models import FloatField, Func, IntegerField
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
    columns = ("id", "name", "status", "is_demo", "lng", "lat")  # lng/lat are annotations (see _cluster_sql)
    rows = with_lng_lat(queryset.filter(location__isnull=False)).order_by().values(*columns)
    return list(rows[:limit])


def _cluster_sql(queryset: ProjectQuerySet, zoom: int) -> tuple[str, tuple[Any, ...]]:
    size = cell_size(zoom)
    columns = ("lng", "lat", "is_demo")  # lng/lat are annotations, which django-stubs cannot see in values()
    inner = with_lng_lat(queryset.filter(location__isnull=False)).order_by().values(*columns)
    inner_sql, params = inner.query.sql_with_params()
    sql = (
        "SELECT ROUND(lng / %s) * %s AS gx, ROUND(lat / %s) * %s AS gy, COUNT(*) AS count, "  # noqa: S608
        "SUM(CASE WHEN is_demo THEN 1 ELSE 0 END) AS demo_count, AVG(lng), AVG(lat), MIN(lng), MIN(lat), "
        f"MAX(lng), MAX(lat) FROM ({inner_sql}) AS cells GROUP BY 1, 2 ORDER BY 3 DESC"
    )
    return sql, (size, size, size, size, *params)


def _clusters(queryset: ProjectQuerySet, zoom: int) -> list[dict[str, Any]]:
    """Count, demo count, mean position and bounds per grid cell, snapping each point once.

    The filtered rows' coordinates come from an inner query (Django's own SQL for the filters, so the index use
    above is kept); the outer query snaps them to the grid as ST_SnapToGrid does (the nearest multiple of the
    cell size) and aggregates plain numbers, where the ORM form called ST_X/ST_Y eight times a row.
    """
    sql, params = _cluster_sql(queryset, zoom)
    names = ("gx", "gy", "count", "demo_count", "lng", "lat", "min_lng", "min_lat", "max_lng", "max_lat")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


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

    The queryset is already filtered (bbox and the other filters). Two queries: a count that stops at threshold+1,
    then the points or the cluster aggregate.
    """
    threshold = settings.MAP_CLUSTER_THRESHOLD if threshold is None else threshold
    # COUNT over LIMIT threshold+1: stops early, and a dense viewport no longer fetches 2,001 rows to drop them.
    located = queryset.filter(location__isnull=False).order_by()
    real_sources = [Source.MUNICIPAL_MONEY, Source.DWS]
    if located[: threshold + 1].count() <= threshold:
        points = _points(queryset, threshold)
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
    sql, params = _cluster_sql(queryset, zoom)
    prefix = "EXPLAIN QUERY PLAN " if is_spatialite() else "EXPLAIN "
    with connection.cursor() as cursor:
        cursor.execute(prefix + sql, params)
        return "\n".join(" ".join(str(part) for part in row) for row in cursor.fetchall())
