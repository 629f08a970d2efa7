import pytest
from django.contrib.gis.geos import Point

from projects.models import Source
from tests.api.conftest import fields
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db


def _spread(count: int) -> None:
    for n in range(count):
        ProjectFactory(location=Point(18 + (n % 10) * 0.5, -34 + (n // 10) * 0.5, srid=4326))


def test_a_sparse_viewport_returns_points_with_marker_properties(api, settings):
    settings.MAP_CLUSTER_THRESHOLD = 10
    ProjectFactory(name="Demo pipe", source=Source.DEMO, is_demo=True, location=Point(18.5, -33.9, srid=4326))
    ProjectFactory(location=None)
    body = api.get("/api/v1/map/projects?bbox=16,-35,33,-22&zoom=6").json()
    assert body["mode"] == "points" and body["total"] == 1
    feature = body["features"][0]
    assert feature["geometry"] == {"type": "Point", "coordinates": [18.5, -33.9]}
    assert set(feature["properties"]) == {"id", "name", "status", "is_demo"}
    assert feature["properties"]["is_demo"] is True
    assert "Demo data" in body["attribution"]["note"]


def test_a_dense_viewport_switches_to_clusters_computed_in_the_database(api, settings):
    settings.MAP_CLUSTER_THRESHOLD = 10
    _spread(30)  # 18..22.5 E, -34..-33 S
    body = api.get("/api/v1/map/projects?bbox=16,-35,33,-22&zoom=4").json()
    assert body["mode"] == "clusters"
    assert body["total"] == 30 == sum(f["properties"]["count"] for f in body["features"])
    assert len(body["features"]) < 30
    for feature in body["features"]:
        min_lng, min_lat, max_lng, max_lat = feature["properties"]["bounds"]
        lng, lat = feature["geometry"]["coordinates"]
        assert min_lng <= lng <= max_lng and min_lat <= lat <= max_lat
        assert feature["properties"]["cluster"] is True


def test_zooming_in_gives_smaller_clusters_and_then_points(api, settings):
    settings.MAP_CLUSTER_THRESHOLD = 10
    _spread(30)
    coarse = api.get("/api/v1/map/projects?zoom=3").json()["features"]
    fine = api.get("/api/v1/map/projects?zoom=9").json()["features"]
    assert len(coarse) < len(fine)
    assert api.get("/api/v1/map/projects?bbox=18,-34.1,19,-33.9&zoom=9").json()["mode"] == "points"


def test_the_map_takes_the_project_filters(api, settings):
    settings.MAP_CLUSTER_THRESHOLD = 10
    ProjectFactory(status="completed", location=Point(18.5, -33.9, srid=4326))
    ProjectFactory(status="on_hold", location=Point(18.6, -33.9, srid=4326))
    body = api.get("/api/v1/map/projects?status=completed").json()
    assert [f["properties"]["status"] for f in body["features"]] == ["completed"]


@pytest.mark.parametrize(("query", "field"), [("zoom=23", "zoom"), ("zoom=-1", "zoom"), ("zoom=x", "zoom"),
                                              ("bbox=1,2", "bbox"), ("flag=nope", "flag")])
def test_bad_map_parameters_are_422(api, query, field):
    response = api.get(f"/api/v1/map/projects?{query}")
    assert response.status_code == 422 and fields(response) == {field}
