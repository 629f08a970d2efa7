""""Show the place only roughly": the public sees the centre of a ~500 m cell everywhere; moderators the point."""

import json
import math

import pytest
from django.test import Client

from bukaamanzi.lib.geo import snap_to_grid
from changelog.models import DataChangeLog
from reports.models import Report
from reports.services import report_submit

pytestmark = pytest.mark.django_db
EXACT = (28.047305, -26.204103)  # a house in Johannesburg


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    dlat = (a[1] - b[1]) * 111_000
    dlng = (a[0] - b[0]) * 111_000 * math.cos(math.radians(a[1]))
    return math.hypot(dlat, dlng)


def test_snapping_keeps_points_within_a_cell_and_is_stable() -> None:
    for lng, lat in (EXACT, (18.4241, -33.9249), (31.0292, -29.8587), (16.5, -28.6)):
        centre = snap_to_grid(lng=lng, lat=lat)
        assert metres((lng, lat), centre) <= 500 * math.sqrt(2) / 2 + 1
        assert snap_to_grid(lng=lng + 0.00001, lat=lat - 0.00001) in (centre, snap_to_grid(lng=lng + 0.00001,
                                                                                            lat=lat - 0.00001))
        assert snap_to_grid(lng=centre[0], lat=centre[1]) == centre  # a centre is its own cell's centre


def test_a_rough_report_shows_only_the_cell_centre_in_every_public_output(client: Client) -> None:
    report = report_submit(title="Leak by my house", description="d", report_type="issue", lng=EXACT[0],
                           lat=EXACT[1], rough_location=True)
    centre = snap_to_grid(lng=EXACT[0], lat=EXACT[1])
    assert report.location.coords == EXACT and report.public_location.coords == centre
    exact_texts = ("28.0473", "-26.2041")
    api = client.get(f"/api/v1/reports/{report.pk}").json()
    assert (api["location"]["lng"], api["location"]["lat"]) == centre and api["location_is_rough"] is True
    listed = client.get("/api/v1/reports").content.decode()
    page = client.get(f"/reports/{report.pk}/").content.decode()
    log = json.dumps(DataChangeLog.objects.filter(entity_id=str(report.pk)).get().new_values)
    for text in (listed, page, log):
        assert not any(exact in text for exact in exact_texts), text[:300]
    assert "to within about 500 m" in page


def test_an_exact_report_is_shown_where_it_is_and_the_api_takes_the_choice(client: Client) -> None:
    exact = report_submit(title="Burst main", description="d", report_type="issue", lng=EXACT[0], lat=EXACT[1])
    assert exact.public_location.coords == EXACT and not exact.location_is_rough
    response = client.post("/api/v1/reports", data=json.dumps({
        "title": "t", "description": "d", "report_type": "issue", "lng": EXACT[0], "lat": EXACT[1],
        "rough_location": True}), content_type="application/json")
    assert response.status_code == 201 and response.json()["location_is_rough"] is True
    bad = client.post("/api/v1/reports", data=json.dumps({
        "title": "t", "description": "d", "report_type": "issue", "lng": EXACT[0], "lat": EXACT[1],
        "rough_location": "perhaps"}), content_type="application/json")
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "rough_location"


def test_the_page_form_offers_the_choice_without_javascript(client: Client) -> None:
    page = client.get("/reports/new/").content.decode()
    assert 'name="rough_location"' in page
    client.post("/reports/new/", {"title": "Leak", "description": "At my gate", "report_type": "issue",
                                  "latitude": EXACT[1], "longitude": EXACT[0], "rough_location": "on"})
    report = Report.objects.get()
    assert report.location_is_rough and report.public_location.coords != report.location.coords
