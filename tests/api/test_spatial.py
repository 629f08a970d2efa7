"""Spatial filters return exactly the projects inside, and use the spatial index, on SpatiaLite and PostGIS."""

import re

import pytest
from django.contrib.gis.geos import Point
from django.db import connection

from projects.filters import ProjectFilterForm
from projects.maplayer import explain_map_query, indexed
from projects.models import Project
from tests.api.conftest import ids
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def grid() -> dict[tuple[int, int], Project]:
    """A 5 x 5 grid of projects one degree apart around Cape Town (18..22 E, -34..-30 S)."""
    return {(x, y): ProjectFactory(location=Point(18 + x, -34 + y, srid=4326)) for x in range(5) for y in range(5)}


def test_bbox_returns_exactly_the_projects_inside_including_its_edges(api, grid):
    expected = {str(grid[(x, y)].pk) for x in (1, 2) for y in (1, 2, 3)}
    assert ids(api.get("/api/v1/projects?bbox=18.5,-33.5,20.0,-31.0&limit=100")) == expected
    on_edges = {str(grid[(x, y)].pk) for x in (1, 2) for y in (0, 1)}
    assert ids(api.get("/api/v1/projects?bbox=19,-34,20,-33&limit=100")) == on_edges


def test_center_returns_exactly_the_projects_within_the_radius(api, grid):
    # One degree of longitude at 32 S is about 94 km, of latitude about 111 km.
    centre = grid[(2, 2)]
    inside_100 = {str(centre.pk), str(grid[(1, 2)].pk), str(grid[(3, 2)].pk)}
    assert ids(api.get("/api/v1/projects?center=20,-32,100&limit=100")) == inside_100
    inside_120 = inside_100 | {str(grid[(2, 1)].pk), str(grid[(2, 3)].pk)}
    assert ids(api.get("/api/v1/projects?center=20,-32,120&limit=100")) == inside_120


def test_bbox_on_the_map_and_the_exports_matches_the_list(api, grid):
    query = "bbox=18.5,-33.5,20.0,-31.0"
    listed = ids(api.get(f"/api/v1/projects?{query}&limit=100"))
    mapped = {f["id"] for f in api.get(f"/api/v1/map/projects?{query}&zoom=8").json()["features"]}
    exported = {f["id"] for f in _json_stream(api.get(f"/api/v1/exports/projects.geojson?{query}"))["features"]}
    assert listed == mapped == exported


def _json_stream(response):
    import json

    return json.loads(b"".join(response.streaming_content))


def test_the_bbox_query_uses_the_spatial_index(grid):
    form = ProjectFilterForm({"bbox": "18.5,-33.5,20.0,-31.0"})
    assert form.is_valid()
    queryset = indexed(form.apply(Project.objects.all()), form)
    if connection.vendor == "sqlite":
        plan = queryset.explain()
        assert "idx_projects_project_location" in plan and "VIRTUAL TABLE INDEX" in plan
        assert "USING INTEGER PRIMARY KEY (rowid=?)" in plan
    else:
        with connection.cursor() as cursor:
            cursor.execute("SET enable_seqscan = off")  # 25 rows: make the planner show it can use the index
            # Unordered: on 25 rows the planner would rather walk the (name, id) index for ORDER BY name.
            plan = queryset.order_by().explain()
            cursor.execute("RESET enable_seqscan")
        assert re.search(r"Index Scan (using|on) projects_project_location_\w+_id", plan), plan


def test_the_map_query_plans_use_the_spatial_index(grid):
    form = ProjectFilterForm({"bbox": "18.5,-33.5,20.0,-31.0"})
    assert form.is_valid()
    queryset = indexed(form.apply(Project.objects.all()), form)
    if connection.vendor == "sqlite":
        plans = explain_map_query(queryset, zoom=5).split("\n\n")
        assert len(plans) == 2 and all("idx_projects_project_location" in plan for plan in plans), plans
    else:
        with connection.cursor() as cursor:
            cursor.execute("SET enable_seqscan = off")
            plans = explain_map_query(queryset, zoom=5).split("\n\n")
            cursor.execute("RESET enable_seqscan")
        assert len(plans) == 2, plans
        for plan in plans:  # the points query, then the viewport's cluster aggregate
            assert re.search(r"Index Scan (using|on) projects_project_location_\w+_id", plan), plan


def test_the_spatialite_index_follows_inserts_updates_and_deletes(api, grid):
    moved = grid[(0, 0)]
    moved.location = Point(21.5, -30.5, srid=4326)
    moved.save()
    grid[(4, 4)].delete()
    assert ids(api.get("/api/v1/projects?bbox=21.2,-30.8,22.5,-29.5&limit=100")) == {str(moved.pk)}
