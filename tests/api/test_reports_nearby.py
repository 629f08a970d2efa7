"""GET /api/v1/reports/nearby: open problems near a place for the report form's duplicate suggestions."""

import datetime as dt

import pytest

from reports.services import PhotoUpload
from tests.api.conftest import fields
from tests.reports.test_nearby import HERE, offset, submit, tiny_jpeg

pytestmark = pytest.mark.django_db

URL = "/api/v1/reports/nearby"
LNG, LAT = HERE


def test_nearby_lists_open_problems_nearest_first_with_distance_date_and_first_photo(api):
    photo = PhotoUpload(data=tiny_jpeg("red"), name="leak.jpg", alt_text="Water on the road")
    with_photo = submit("Burst pipe", offset(120.4, 90), photos=[photo])
    without = submit("Leaking valve", offset(35.6, 0))
    submit("Far away", offset(400, 0))
    response = api.get(URL, {"lat": LAT, "lng": LNG})
    assert response.status_code == 200, response.content
    assert "no-cache" in response["Cache-Control"]
    body = response.json()
    assert body["radius_m"] == 250 and [item["id"] for item in body["items"]] == [without.pk, with_photo.pk]
    first, second = body["items"]
    assert set(first) == {"id", "title", "report_type", "state", "created_at", "distance_m", "location", "photo"}
    assert (first["title"], first["report_type"], first["state"]) == ("Leaking valve", "issue", "open")
    assert (first["distance_m"], second["distance_m"]) == (36, 120)
    assert first["location"] == {"lng": pytest.approx(offset(35.6, 0)[0]), "lat": pytest.approx(offset(35.6, 0)[1])}
    # Milliseconds, as every date the API writes.
    assert abs(dt.datetime.fromisoformat(first["created_at"]) - without.created_at) < dt.timedelta(milliseconds=1)
    assert first["photo"] is None
    stored = with_photo.photos.get()
    assert second["photo"] == {"url": f"http://testserver{stored.image.url}", "width": 40, "height": 30,
                               "alt_text": "Water on the road",
                               "thumbnail_url": f"http://testserver{stored.thumbnail.url}"}


def test_nearby_takes_a_radius_up_to_1000_m(api):
    submit("At 900 m", offset(900, 200))
    assert api.get(URL, {"lat": LAT, "lng": LNG}).json()["items"] == []
    body = api.get(URL, {"lat": LAT, "lng": LNG, "radius_m": 1000}).json()
    assert body["radius_m"] == 1000 and [item["title"] for item in body["items"]] == ["At 900 m"]


def test_nearby_with_nothing_near_is_an_empty_list(api):
    response = api.get(URL, {"lat": LAT, "lng": LNG, "radius_m": 1})
    assert response.status_code == 200 and response.json() == {"items": [], "radius_m": 1}


@pytest.mark.parametrize(
    ("query", "bad"),
    [
        ({"lat": LAT, "lng": LNG, "radius_m": 1001}, {"radius_m"}),
        ({"lat": LAT, "lng": LNG, "radius_m": 0}, {"radius_m"}),
        ({"lat": LAT, "lng": LNG, "radius_m": -5}, {"radius_m"}),
        ({"lat": LAT, "lng": LNG, "radius_m": "abc"}, {"radius_m"}),
        ({"lng": LNG}, {"lat"}),
        ({"lat": LAT}, {"lng"}),
        ({}, {"lat", "lng"}),
        ({"lat": -10.0, "lng": LNG}, {"lat"}),
        ({"lat": LAT, "lng": 40.0}, {"lng"}),
        ({"lat": 51.5, "lng": 0.0}, {"lat", "lng"}),
        ({"lat": "nan", "lng": LNG}, {"lat"}),
        ({"lat": LAT, "lng": "inf"}, {"lng"}),
        ({"lat": "south", "lng": LNG}, {"lat"}),
        ({"lat": 51.5, "lng": LNG, "radius_m": 5000}, {"lat", "radius_m"}),
    ],
)
def test_bad_nearby_input_is_422_naming_each_bad_field(api, query, bad):
    response = api.get(URL, query)
    assert response.status_code == 422, response.content
    assert fields(response) == bad
    assert all(error["message"] for error in response.json()["detail"])


def test_nearby_is_documented_in_the_openapi_schema(api):
    document = api.get("/api/v1/openapi.json").json()
    operation = document["paths"]["/api/v1/reports/nearby"]["get"]
    assert {parameter["name"] for parameter in operation["parameters"]} == {"lat", "lng", "radius_m"}
    item = document["components"]["schemas"]["NearbyReportOut"]["properties"]
    assert {"distance_m", "photo", "location", "created_at"} <= set(item)
