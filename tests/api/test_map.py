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


def test_clusters_are_grid_cells_kept_per_zoom_and_reused_for_other_viewports(api, settings,
                                                                              django_assert_max_num_queries):
    settings.MAP_CLUSTER_THRESHOLD = 10
    _spread(30)
    whole = api.get("/api/v1/map/projects?bbox=16,-35,33,-22&zoom=4").json()
    # Another viewport at the same zoom: the cells come from memory; only the data version is read (the cells
    # wholly inside already hold more than the threshold, so no count either).
    with django_assert_max_num_queries(1):
        again = api.get("/api/v1/map/projects?bbox=16.5,-35,33,-22.5&zoom=4").json()
    assert again["mode"] == "clusters" and again["features"] == whole["features"]


def test_a_cell_at_the_viewport_edge_is_returned_whole(api, settings):
    settings.MAP_CLUSTER_THRESHOLD = 10
    _spread(30)  # 18..22.5 E, -34..-33 S; at zoom 0 one cell (90 degrees wide) holds them all
    api.get("/api/v1/map/projects?zoom=0")  # computes the grid
    body = api.get("/api/v1/map/projects?bbox=16,-35,20,-30&zoom=0").json()
    assert body["mode"] == "clusters"
    assert body["total"] == 30 and [f["properties"]["count"] for f in body["features"]] == [30]
    # A viewport that no cell's points reach gets no cluster (and, holding no project, it is points mode).
    assert api.get("/api/v1/map/projects?bbox=25,-30,26,-29&zoom=0").json() == {
        **body, "mode": "points", "total": 0, "features": [], "attribution": body["attribution"]}


def test_a_change_to_the_data_or_other_filters_give_a_new_grid(api, settings):
    settings.MAP_CLUSTER_THRESHOLD = 10
    _spread(30)
    before = api.get("/api/v1/map/projects?zoom=4").json()
    for n in range(12):
        ProjectFactory(status="completed", location=Point(30 + n * 0.1, -25, srid=4326))
    after = api.get("/api/v1/map/projects?zoom=4").json()
    completed = api.get("/api/v1/map/projects?zoom=4&status=completed").json()
    assert (before["total"], after["total"], completed["mode"], completed["total"]) == (30, 42, "clusters", 12)


def test_point_features_written_by_the_database_are_valid_json_for_any_name(api, settings):
    name = 'Pipe "A" \\ Ɓ — ǃXhosa\nline 2 </script>'
    project = ProjectFactory(name=name, location=Point(18.1234567, -33.9876543, srid=4326))
    body = api.get("/api/v1/map/projects?bbox=18,-34,19,-33&zoom=12").json()
    assert body["mode"] == "points" and body["total"] == 1
    assert body["features"] == [{
        "type": "Feature", "id": str(project.pk),
        "geometry": {"type": "Point", "coordinates": [18.123457, -33.987654]},
        "properties": {"id": str(project.pk), "name": name, "status": project.status, "is_demo": False},
    }]
