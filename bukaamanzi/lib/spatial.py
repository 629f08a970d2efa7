"""Spatial-index pre-filters and plain coordinates, the same way for every model with a point column.

PostGIS answers a bare `&&` (bounding boxes overlap) from its GiST index. SpatiaLite has no operator that uses
its R*Tree: the index is a table of boxes (`idx_<table>_<column>`) that a query must read itself, so rows are
narrowed by rowid from it before any per-row geometry function runs. Table and column names come from the
model's metadata, never from input; the box's numbers are parameters.
"""

from __future__ import annotations

from typing import TypeVar

from django.contrib.gis.geos import Polygon
from django.db import connection
from django.db.models import Field, FloatField, Func, IntegerField, Model, QuerySet
from django.db.models.expressions import RawSQL

Q = TypeVar("Q", bound=QuerySet)  # type: ignore[type-arg]


class X(Func):
    """A point's longitude as a plain float (no geometry decoding in Python)."""

    function = "ST_X"
    output_field = FloatField()


class Y(Func):
    """A point's latitude as a plain float."""

    function = "ST_Y"
    output_field = FloatField()


def is_spatialite() -> bool:
    return connection.vendor == "sqlite"


def rtree_table(model: type[Model], column: str) -> str:
    """The name of the R*Tree SpatiaLite keeps for this model's geometry column."""
    field = model._meta.get_field(column)
    if not isinstance(field, Field):
        raise TypeError(f"{model.__name__}.{column} is not a column")
    return f"idx_{model._meta.db_table}_{field.column}"


def box_overlaps(queryset: Q, column: str, box: Polygon | tuple[float, float, float, float]) -> Q:
    """Rows whose geometry's box may overlap `box`, as the spatial index sees it: a superset, so check
    exactly after (a distance, ST_Intersects or the plain coordinates)."""
    polygon = box if isinstance(box, Polygon) else Polygon.from_bbox(box)
    if not is_spatialite():
        return queryset.filter(**{f"{column}__bboverlaps": polygon})
    return rtree_prefilter(queryset, column, polygon)


def rtree_prefilter(queryset: Q, column: str, box: Polygon) -> Q:
    """On SpatiaLite, keep only the rowids the R*Tree finds in the box; a no-op on PostGIS."""
    if not is_spatialite():
        return queryset
    model = queryset.model
    min_x, min_y, max_x, max_y = box.extent
    sql = (f'SELECT pkid FROM "{rtree_table(model, column)}" '  # noqa: S608 (names from model metadata)
           "WHERE xmin <= %s AND xmax >= %s AND ymin <= %s AND ymax >= %s")
    rowid = RawSQL(f'"{model._meta.db_table}"."rowid"', (), output_field=IntegerField())  # noqa: S611
    return queryset.alias(_rowid=rowid).filter(_rowid__in=RawSQL(sql, (max_x, min_x, max_y, min_y)))  # noqa: S611
