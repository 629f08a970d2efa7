"""Bad sign-ups get the API's usual 422 naming the field (or a form error on the page), never a 500; sign-ups are
limited per client address and per email address; addresses never leave the admin."""

from __future__ import annotations

import pytest
from django.test import Client

from alerts.models import Alert, Delivery
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db


def post(client: Client, body: object) -> tuple[int, dict]:
    response = client.post("/api/v1/alerts", body, content_type="application/json")
    return response.status_code, response.json()


@pytest.mark.parametrize(("body", "field"), [
    ({"email": "not-an-address", "kind": "municipality", "municipality": "CPT"}, "email"),
    ({"email": "a@example.org", "kind": "street", "municipality": "CPT"}, "kind"),
    ({"email": "a@example.org", "kind": "municipality", "municipality": "XYZ99"}, "municipality"),
    ({"email": "a@example.org", "kind": "project", "project_id": "not-a-uuid"}, "project_id"),
    ({"email": "a@example.org", "kind": "project", "project_id": "00000000-0000-0000-0000-000000000000"},
     "project_id"),
    ({"email": "a@example.org", "kind": "area", "lat": 51.5, "lng": -0.12}, "lat"),
    ({"email": "a@example.org", "kind": "area", "lat": "abc", "lng": 18.4}, "lat"),
    ({"email": "a@example.org", "kind": "area", "lat": -33.9, "lng": 18.4, "radius_km": 0.1}, "radius_km"),
    ({"email": "a@example.org", "kind": "area", "lat": -33.9, "lng": 18.4, "radius_km": 51}, "radius_km"),
    ({"email": "a@example.org", "kind": "area", "lat": -33.9, "lng": 18.4, "radius_km": "NaN"}, "radius_km"),
    ({"email": "a@example.org", "kind": "area", "lat": -33.9, "lng": 18.4, "radius_km": True}, "radius_km"),
    ({"email": "a@example.org", "kind": "municipality", "municipality": "CPT", "frequency": "hourly"}, "frequency"),
    ({"email": ["a@example.org"], "kind": "municipality", "municipality": "CPT"}, "email"),
])
def test_bad_sign_ups_get_422_naming_the_field_and_change_nothing(body: dict, field: str) -> None:
    status, data = post(Client(), body)
    assert status == 422, data
    assert data["detail"][0]["field"] == field and data["detail"][0]["message"]
    assert not Alert.objects.exists() and not Delivery.objects.exists()


def test_a_body_that_is_not_a_json_object_is_refused_clearly() -> None:
    client = Client()
    assert client.post("/api/v1/alerts", "[1]", content_type="application/json").status_code == 422
    assert client.post("/api/v1/alerts", "{", content_type="application/json").status_code == 422
    assert client.post("/api/v1/alerts", {"email": "x"}).status_code == 415


def test_an_area_with_no_radius_gets_two_km() -> None:
    status, _data = post(Client(), {"email": "r@example.org", "kind": "area", "lat": -33.9, "lng": 18.4})
    assert status == 202
    assert str(Alert.objects.get().radius_km) == "2.0"


def test_sign_ups_are_limited_per_client_address(settings: pytest.FixtureRequest) -> None:
    settings.ALERT_SIGNUP_RATE_LIMIT = "3/h"
    client = Client()
    codes = [post(client, {"email": f"p{n}@example.org", "kind": "municipality", "municipality": "CPT"})[0]
             for n in range(4)]
    assert codes == [202, 202, 202, 429]


def test_confirmations_are_limited_per_email_address(settings: pytest.FixtureRequest) -> None:
    settings.ALERT_CONFIRMATIONS_PER_ADDRESS_PER_DAY = 2
    client = Client()
    codes = [post(client, {"email": "same@example.org", "kind": "municipality", "municipality": code})
             for code in ("CPT", "JHB", "ETH")]
    assert [code for code, _ in codes] == [202, 202, 429]
    assert codes[2][1]["detail"][0]["field"] == "email"
    assert Delivery.objects.count() == 2


def test_the_page_shows_errors_beside_the_fields_without_javascript() -> None:
    client = Client()
    response = client.post("/alerts/", {"kind": "area", "email": "x@example.org", "place": "Nowhereville",
                                        "frequency": "immediate"})
    assert response.status_code == 400
    assert "We could not find this town" in response.content.decode()
    response = client.post("/alerts/", {"kind": "area", "email": "bad", "frequency": "immediate"})
    assert response.status_code == 400 and "valid email address" in response.content.decode()


def test_the_page_places_an_area_by_a_typed_town() -> None:
    response = Client().post("/alerts/", {"kind": "area", "email": "town@example.org", "place": "Stellenbosch",
                                          "radius_km": "5", "frequency": "daily"})
    assert response.status_code == 302
    alert = Alert.objects.get()
    assert alert.place == "Stellenbosch" and alert.center is not None
    assert abs(alert.center.y - -33.93) < 0.1 and abs(alert.center.x - 18.86) < 0.1


def test_the_page_limits_sign_ups_per_client_address_with_a_clear_error(settings: pytest.FixtureRequest) -> None:
    settings.ALERT_SIGNUP_RATE_LIMIT = "1/h"
    client = Client()
    body = {"kind": "municipality", "municipality": "CPT", "email": "x@example.org", "frequency": "immediate"}
    assert client.post("/alerts/", body).status_code == 302
    response = client.post("/alerts/", body)
    assert response.status_code == 429 and "Too many sign-ups" in response.content.decode()


def test_altered_or_cross_purpose_links_are_refused() -> None:
    from alerts import tokens

    project = ProjectFactory()
    post(Client(), {"email": "t@example.org", "kind": "project", "project_id": str(project.pk)})
    alert = Alert.objects.get()
    client = Client()
    unsubscribe = tokens.make(tokens.UNSUBSCRIBE, [alert.pk])
    assert client.post(f"/alerts/confirm/{unsubscribe}/").status_code == 400  # an unsubscribe token cannot confirm
    confirm = tokens.make(tokens.CONFIRM, alert.pk)
    assert client.get(f"/alerts/confirm/{confirm[:-2]}xx/").status_code == 400
    assert client.get(f"/alerts/manage/{confirm}/").status_code == 400
    assert Alert.objects.get().confirmed_at is None


def test_follow_links_are_on_project_municipality_and_report_pages() -> None:
    from reports.services import report_submit

    project = ProjectFactory()
    client = Client()
    assert f"/alerts/?project={project.pk}" in client.get(f"/projects/{project.pk}/").content.decode()
    assert "/alerts/?municipality=CPT" in client.get("/municipalities/CPT/").content.decode()
    report = report_submit(title="Leak", description="x", report_type="issue", lng=18.42, lat=-33.92)
    page = client.get(f"/reports/{report.pk}/").content.decode()
    assert "/alerts/?lat=-33.92" in page and "lng=18.42" in page
    form = client.get("/alerts/?lat=-33.92&lng=18.42").content.decode()
    assert 'value="-33.92"' in form


def test_the_api_never_returns_the_address() -> None:
    status, data = post(Client(), {"email": "secret@example.org", "kind": "municipality", "municipality": "CPT"})
    assert status == 202 and "secret@example.org" not in str(data)
