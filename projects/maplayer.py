"""The map layer: GeoJSON points, or clusters when a viewport holds too many projects.

Spatial indexes: on PostGIS the bbox filter is the `&&` operator (`filters.index_box_q`), answered by the GiST
index, then an exact check of the plain coordinates (`filters.inside_box`). On SpatiaLite functions never consult
the R*Tree, so `indexed()` adds a `rowid IN (SELECT pkid FROM idx_projects_project_location WHERE <box overlaps>)`
pre-filter, which SQLite answers from the R*Tree; the exact checks then run only on the rows the index found.

Clusters are cells of a grid whose cell shrinks as the zoom grows (about 64 screen pixels a cell): count, demo
count, centroid (mean of the points) and bounds per cell. The grid for a zoom and a set of filters is one
aggregate over every matching project, computed in the database once per data version and kept in the process
(`ClusterGrids`); a viewport then takes the cells whose points' bounds overlap it, as tile-based clustering
does (Mapbox's supercluster keeps a precomputed index per zoom for the same reason). So clusters stay put while
the map pans, and a request in cluster mode costs a cache look-up instead of aggregating thousands of rows: that
aggregate was 27 ms of database time a request on 50,000 projects, and under 16 concurrent clients on two
shared cores it queued every other request behind it. A cluster at the viewport's edge counts all its points,
including the few just outside (so `total` is the projects in the returned clusters).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.gis.geos import Polygon
from django.db import connection

from bukaamanzi.apitools import dumps
from bukaamanzi.lib.sources import real_source_names
from bukaamanzi.lib.spatial import X, Y, is_spatialite, rtree_prefilter
from projects.attribution import attribution_summary
from projects.filters import ProjectFilterForm, _box_around
from projects.models import Project, ProjectQuerySet, Source

# Cells per 256-pixel tile width: 4 cells of about 64 px each.
CELLS_PER_TILE = 4
MAX_ZOOM = 22
# Grids are kept for zooms up to 10 (cells of about 0.09 degrees: at most a few thousand cells hold South Africa's
# projects); the last GRID_CACHE_SIZE grids (zoom x filters x data version) stay in each process.
GRID_MAX_ZOOM = 10
GRID_CACHE_SIZE = 32
Box = tuple[float, float, float, float]  # min_lng, min_lat, max_lng, max_lat


def with_lng_lat(queryset: ProjectQuerySet) -> ProjectQuerySet:
    """Longitude and latitude as plain floats, so rows need no geometry decoding in Python."""
    return queryset.annotate(lng=X("location"), lat=Y("location"))


def index_prefilter(queryset: ProjectQuerySet, box: Polygon) -> ProjectQuerySet:
    """On SpatiaLite, narrow by the R*Tree first (see the module docstring); a no-op on PostGIS."""
    return rtree_prefilter(queryset, "location", box)


def indexed(queryset: ProjectQuerySet, form: ProjectFilterForm, *, bbox: bool = True) -> ProjectQuerySet:
    """Add the spatial-index pre-filter for the form's bbox and centre filters (apply the form as well)."""
    data = form.cleaned_data
    if bbox and data.get("bbox") is not None:
        queryset = index_prefilter(queryset, data["bbox"])
    if data.get("center") is not None:
        point, radius_km = data["center"]
        queryset = index_prefilter(queryset, _box_around(point, radius_km))
    return queryset


def cell_size(zoom: int) -> float:
    """Degrees per cluster cell at this zoom (Web Mercator tiles are 360/2^zoom degrees wide)."""
    return 360.0 / (2**zoom) / CELLS_PER_TILE


# One GeoJSON point feature per row, written by the database (C code) rather than built as dicts and encoded in
# Python: 2,000 features cost about 20 ms of Python a request, and the map's points mode is most of its traffic.
# Columns of the inner values() query: id, name, status, is_demo, lng, lat. UUIDs are 32 hex digits on SQLite.
_POINT_FEATURE_SQL = {
    # Concatenated rather than json_build_object, whose output puts spaces around every ":" and ",", 10 % more
    # bytes; to_json() escapes the text values. Coordinates are rounded to 6 decimals in float8 (a third of the
    # query's time went on rounding through numeric), and float8 prints the shortest form that reads back exactly.
    "postgresql": (
        """'{"type":"Feature","id":"' || p.id::text || '","geometry":{"type":"Point","coordinates":[' """
        """|| (round(p.lng * 1e6) / 1e6)::text || ',' || (round(p.lat * 1e6) / 1e6)::text """
        """|| ']},"properties":{"id":"' || p.id::text || '","name":' || to_json(p.name::text)::text """
        """|| ',"status":' || to_json(p.status::text)::text """
        """|| ',"is_demo":' || CASE WHEN p.is_demo THEN 'true' ELSE 'false' END || '}}'"""
    ),
    "sqlite": (
        "json_object('type', 'Feature', 'id', p.uid, 'geometry', json_object('type', 'Point', "
        "'coordinates', json_array(round(p.lng, 6), round(p.lat, 6))), 'properties', json_object('id', p.uid, "
        "'name', p.name, 'status', p.status, 'is_demo', json(CASE WHEN p.is_demo THEN 'true' ELSE 'false' END)))"
    ),
}
_SQLITE_UUID = ("lower(substr(id, 1, 8) || '-' || substr(id, 9, 4) || '-' || substr(id, 13, 4) || '-' "
                "|| substr(id, 17, 4) || '-' || substr(id, 21))")


def _points_sql(queryset: ProjectQuerySet, limit: int) -> tuple[str, tuple[Any, ...]]:
    """One row: (count, any demo, the features as the inside of a JSON array) for up to `limit` located projects."""
    columns = ("id", "name", "status", "is_demo", "lng", "lat")  # lng/lat are annotations (see _cluster_sql)
    inner = with_lng_lat(queryset.filter(location__isnull=False)).order_by().values(*columns)[:limit]
    inner_sql, params = inner.query.sql_with_params()
    if is_spatialite():
        rows = f"(SELECT *, {_SQLITE_UUID} AS uid FROM ({inner_sql}) AS q)"  # noqa: S608
        aggregate = "COALESCE(MAX(is_demo), 0), COALESCE(group_concat(feature, ','), '')"
    else:
        rows = f"({inner_sql})"
        aggregate = "COALESCE(bool_or(is_demo), false), COALESCE(string_agg(feature, ','), '')"
    feature = _POINT_FEATURE_SQL[connection.vendor]
    sql = f"SELECT COUNT(*), {aggregate} FROM (SELECT {feature} AS feature, p.is_demo FROM {rows} AS p) AS f"  # noqa: S608
    return sql, tuple(params)


def _points_json(queryset: ProjectQuerySet, limit: int) -> tuple[int, bool, str]:
    sql, params = _points_sql(queryset, limit)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        count, has_demo, features = cursor.fetchone()
    return count, bool(has_demo), features


def _cluster_sql(queryset: ProjectQuerySet, zoom: int) -> tuple[str, tuple[Any, ...]]:
    """Count, demo count, mean position and bounds per grid cell, snapping each point once.

    The filtered rows' coordinates come from an inner query (Django's own SQL for the filters, so the index use
    above is kept); the outer query snaps them to the grid as ST_SnapToGrid does (the nearest multiple of the
    cell size) and aggregates plain numbers, where the ORM form called ST_X/ST_Y eight times a row.
    """
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


@dataclass(frozen=True, slots=True)
class Cell:
    """One cluster: its points' bounds (to match viewports), counts, and its GeoJSON feature, built once."""

    min_lng: float
    min_lat: float
    max_lng: float
    max_lat: float
    count: int
    demo_count: int
    feature: str  # GeoJSON, encoded once

    def overlaps(self, box: Box | None) -> bool:
        return box is None or (self.min_lng <= box[2] and self.max_lng >= box[0]
                               and self.min_lat <= box[3] and self.max_lat >= box[1])

    def inside(self, box: Box | None) -> bool:
        return box is None or (box[0] <= self.min_lng and self.max_lng <= box[2]
                               and box[1] <= self.min_lat and self.max_lat <= box[3])


def _cells(queryset: ProjectQuerySet, zoom: int) -> list[Cell]:
    """The cluster cells of the queryset's located projects, largest first."""
    sql, params = _cluster_sql(queryset, zoom)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    cells = []
    for gx, gy, count, demo_count, lng, lat, min_lng, min_lat, max_lng, max_lat in rows:
        bounds = [round(value, 6) for value in (min_lng, min_lat, max_lng, max_lat)]
        feature = {
            "type": "Feature",
            "id": f"cluster:{gx:.6f}:{gy:.6f}",
            "geometry": {"type": "Point", "coordinates": [round(lng, 6), round(lat, 6)]},
            "properties": {"cluster": True, "count": count, "demo_count": demo_count, "bounds": bounds},
        }
        cells.append(Cell(min_lng, min_lat, max_lng, max_lat, count, demo_count, dumps(feature).decode()))
    return cells


class ClusterGrids:
    """The last few grids this process computed, keyed by data version, zoom and filters (least recent dropped).

    Plain objects in a dict rather than Django's cache: a grid holds up to a few thousand cells, and a pickling
    cache would copy them on every read. The lock is for daphne's thread pool; two threads that miss at once both
    compute the grid, and one result is kept.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._grids: OrderedDict[Hashable, list[Cell]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> list[Cell] | None:
        with self._lock:
            cells = self._grids.get(key)
            if cells is not None:
                self._grids.move_to_end(key)
            return cells

    def put(self, key: Hashable, cells: list[Cell]) -> None:
        with self._lock:
            self._grids[key] = cells
            self._grids.move_to_end(key)
            while len(self._grids) > self.size:
                self._grids.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._grids.clear()


GRIDS = ClusterGrids(GRID_CACHE_SIZE)


def _filters_key(form: ProjectFilterForm) -> tuple[tuple[str, str], ...]:
    """The form's filters other than the map area, as a hashable key (model instances by primary key)."""
    key = []
    for name, value in sorted(form.cleaned_data.items()):
        if name == "bbox" or value in (None, "", []):
            continue
        if name == "municipality":
            value = value.pk
        elif name == "center":
            point, radius_km = value
            value = (point.x, point.y, radius_km)
        key.append((name, repr(value)))
    return tuple(key)


def _collection(mode: str, total: int, features: str, has_demo: bool) -> bytes:
    """The FeatureCollection body around features already encoded (the inside of the JSON array)."""
    head = dumps({
        "type": "FeatureCollection",
        "mode": mode,
        "total": total,
        "attribution": attribution_summary([*real_source_names(), *([Source.DEMO] if has_demo else [])]),
    })
    return head[:-1] + b',"features":[' + features.encode() + b"]}"


def _overlapping(cells: list[Cell], box: Box | None) -> list[Cell]:
    return [cell for cell in cells if cell.overlaps(box)]


def _cluster_layer(cells: list[Cell]) -> bytes:
    return _collection("clusters", sum(cell.count for cell in cells), ",".join(cell.feature for cell in cells),
                       any(cell.demo_count for cell in cells))


def map_layer(form: ProjectFilterForm, *, zoom: int, version: str, threshold: int | None = None) -> bytes:
    """GeoJSON (the response body) for the form's viewport and filters: up to `threshold` points, or clusters
    when there are more.

    `version` is the data version (`projects.dataversion.data_version`): grids computed for an older one are never used.
    With the zoom's grid in memory, the cells wholly inside the viewport bound its count from below: above the
    threshold it is clusters with no query. Otherwise one query reads up to threshold+1 points: at most
    threshold, they are the answer; more, it is clusters from the grid (computed now if it is not in memory).
    Above GRID_MAX_ZOOM a country-wide grid would have too many cells to keep, and the viewport's own rows are
    aggregated instead (a dense town at street level is the only case).
    """
    threshold = settings.MAP_CLUSTER_THRESHOLD if threshold is None else threshold
    bbox = form.cleaned_data.get("bbox")
    box: Box | None = bbox.extent if bbox is not None else None
    viewport = indexed(form.apply(Project.objects.all()), form)
    key = (version, zoom, _filters_key(form)) if zoom <= GRID_MAX_ZOOM else None
    cells = GRIDS.get(key) if key is not None else None
    if cells is not None:
        overlapping = _overlapping(cells, box)
        if sum(cell.count for cell in overlapping if cell.inside(box)) > threshold:
            return _cluster_layer(overlapping)
    # Up to threshold+1 points in one query: that many means clusters (and the features are dropped), fewer are
    # the answer. Cheaper than a separate count, since most viewports have fewer.
    count, has_demo, features = _points_json(viewport, threshold + 1)
    if count <= threshold:
        return _collection("points", count, features, has_demo)
    if key is None:
        return _cluster_layer(_cells(viewport, zoom))
    if cells is None:
        cells = _cells(indexed(form.apply(Project.objects.all(), bbox=False), form, bbox=False), zoom)
        GRIDS.put(key, cells)
    return _cluster_layer(_overlapping(cells, box))


def explain_map_query(queryset: ProjectQuerySet, *, zoom: int, threshold: int | None = None) -> str:
    """The query plans of a viewport's two queries: the points (every request the grid does not answer) and the
    viewport's own cluster aggregate (zooms above GRID_MAX_ZOOM). For the benchmark, the docs and the tests."""
    threshold = settings.MAP_CLUSTER_THRESHOLD if threshold is None else threshold
    prefix = "EXPLAIN QUERY PLAN " if is_spatialite() else "EXPLAIN "
    plans = []
    for sql, params in (_points_sql(queryset, threshold + 1), _cluster_sql(queryset, zoom)):
        with connection.cursor() as cursor:
            cursor.execute(prefix + sql, params)
            plans.append("\n".join(" ".join(str(part) for part in row) for row in cursor.fetchall()))
    return "\n\n".join(plans)
