import pytest
from django.contrib.gis.geos import Point
from django.core.files.uploadedfile import SimpleUploadedFile

from bukaamanzi.lib.geo import SOUTH_AFRICA
from reports.models import Contributor, Report
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db


def valid(**overrides) -> dict:
    data = {"title": "Burst pipe", "description": "Water running down the street since Monday.",
            "report_type": "issue", "latitude": "-33.93", "longitude": "18.43", "address": "",
            "name": "", "email": "", "website": "", "photo_description": ""}
    data.update(overrides)
    return data


def test_form_page_has_every_field_and_says_the_email_is_never_shown(client) -> None:
    html = client.get("/reports/new/").content.decode()
    for field in ("id_title", "id_description", "id_report_type_0", "id_latitude", "id_longitude", "id_address",
                  "id_photos", "id_name", "id_email", "id_website"):
        assert f'id="{field}"' in html
    assert "Never shown to anyone" in html
    assert 'enctype="multipart/form-data"' in html


def test_missing_fields_are_reported_beside_them_and_typed_values_are_kept(client) -> None:
    response = client.post("/reports/new/", valid(title="", report_type="", description="Still typed"))
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_title_error"' in html and 'id="id_report_type_error"' in html
    assert "Still typed" in html and 'value="-33.93"' in html
    assert Report.objects.count() == 0


def test_no_location_at_all_explains_that_a_place_is_needed(client) -> None:
    response = client.post("/reports/new/", valid(latitude="", longitude=""))
    assert response.status_code == 400
    assert "Please show where this is" in response.content.decode()


def test_a_place_outside_south_africa_is_refused_on_the_location(client) -> None:
    response = client.post("/reports/new/", valid(latitude="51.5", longitude="-0.1"))
    assert response.status_code == 400
    assert 'id="id_latitude_error"' in response.content.decode()


def test_a_typed_town_places_a_report_without_map_or_phone(client) -> None:
    response = client.post("/reports/new/", valid(latitude="", longitude="", address="12 Main Road, Stellenbosch"))
    assert response.status_code == 302
    report = Report.objects.get()
    assert report.address == "12 Main Road, Stellenbosch"
    assert abs(report.location.x - 18.86) < 0.1 and abs(report.location.y + 33.93) < 0.1


def test_honeypot_filled_in_is_refused_and_nothing_is_saved(client) -> None:
    response = client.post("/reports/new/", valid(website="http://spam.example"))
    assert response.status_code == 400
    assert Report.objects.count() == 0


def test_no_js_submit_about_a_project_shows_the_report_at_once_and_says_so(client, png_bytes) -> None:
    project = ProjectFactory()
    photo = SimpleUploadedFile("pipe.png", png_bytes, content_type="image/png")
    response = client.post("/reports/new/", {**valid(email="me@example.org", name="Lindiwe",
                                                     photo_description="Water on the road"),
                                             "project": str(project.pk), "photos": [photo]}, follow=True)
    report = Report.objects.get()
    assert response.redirect_chain[-1][0] == f"/projects/{project.pk}/#report-{report.pk}"
    html = response.content.decode()
    assert "Your report is published and shown below" in html
    assert f'id="report-{report.pk}"' in html and 'alt="Water on the road"' in html
    assert "me@example.org" not in html
    assert Contributor.objects.get().email == "me@example.org"


def test_report_without_a_project_lands_on_its_own_page(client) -> None:
    response = client.post("/reports/new/", valid(), follow=True)
    report = Report.objects.get()
    assert response.redirect_chain[-1][0] == f"/reports/{report.pk}/"
    assert "Burst pipe" in response.content.decode()


def test_project_location_is_used_when_no_place_is_given(client) -> None:
    project = ProjectFactory(location=Point(18.5, -33.9, srid=4326))
    client.post("/reports/new/", {**valid(latitude="", longitude=""), "project": str(project.pk)})
    assert Report.objects.get().location.coords == (18.5, -33.9)


def test_a_file_that_is_not_a_photo_is_refused_on_the_photos_field(client) -> None:
    bad = SimpleUploadedFile("x.png", b"not an image at all", content_type="image/png")
    response = client.post("/reports/new/", {**valid(), "photos": [bad]})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_photos_error"' in html and "choose your photos again" in html


def test_more_than_five_photos_are_refused(client, png_bytes) -> None:
    photos = [SimpleUploadedFile(f"p{n}.png", png_bytes, content_type="image/png") for n in range(6)]
    response = client.post("/reports/new/", {**valid(), "photos": photos})
    assert response.status_code == 400
    assert "at most 5 photos" in response.content.decode()


def test_bad_email_is_reported_on_the_email_field(client) -> None:
    response = client.post("/reports/new/", valid(email="not-an-email"))
    assert response.status_code == 400
    assert 'id="id_email_error"' in response.content.decode()


def test_the_form_refuses_a_place_outside_the_south_africa_box_and_its_inputs_carry_the_same_box(client) -> None:
    html = client.get("/reports/new/").content.decode()
    assert f'min="{SOUTH_AFRICA.min_lng}" max="{SOUTH_AFRICA.max_lng}"' in html
    assert f'min="{SOUTH_AFRICA.min_lat}" max="{SOUTH_AFRICA.max_lat}"' in html
    response = client.post("/reports/new/", {"title": "Leak", "description": "Water everywhere.",
                                             "report_type": "issue", "latitude": "-30", "longitude": "15.9"})
    assert "longitude between 16 and 33" in response.content.decode()
