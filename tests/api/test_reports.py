import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from reports.models import Report, ReportPhoto
from tests.api.conftest import fields
from tests.factories import ProjectFactory, ReportFactory

pytestmark = pytest.mark.django_db

VALID = {"title": "Burst pipe", "description": "Water running down the street since Monday.",
         "report_type": "issue", "lng": 18.43, "lat": -33.93}


def post_json(api, data, **extra):
    return api.post("/api/v1/reports", data=json.dumps(data), content_type="application/json", **extra)


def jpeg_with_gps(size=(3000, 1500)) -> bytes:
    image = Image.new("RGB", size, "blue")
    exif = Image.Exif()
    exif[0x0110] = "Phone Model X"  # camera model
    exif[0x8825] = {1: "S", 2: (33.0, 55.0, 12.0), 3: "E", 4: (18.0, 25.0, 30.0)}  # GPS position
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


def test_a_json_report_is_created_published_and_never_shows_the_email(api):
    project = ProjectFactory()
    response = post_json(api, {**VALID, "project_id": str(project.pk), "name": "Thandi",
                               "email": "thandi@example.org"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "published" and body["contributor_name"] == "Thandi"
    assert body["project_id"] == str(project.pk) and body["location"] == {"lng": 18.43, "lat": -33.93}
    assert b"thandi@example.org" not in response.content
    listing = api.get("/api/v1/reports")
    assert listing.json()["count"] == 1 and b"thandi@example.org" not in listing.content
    assert b"thandi@example.org" not in api.get(f"/api/v1/projects/{project.pk}").content


def test_a_multipart_report_stores_its_photo_without_exif_and_at_most_2048_px(api):
    photo = SimpleUploadedFile("IMG_0001.jpg", jpeg_with_gps(), content_type="image/jpeg")
    response = api.post("/api/v1/reports", data={**VALID, "photos": [photo], "photo_alt": ["The burst pipe"]})
    assert response.status_code == 201, response.content
    stored = ReportPhoto.objects.get()
    with Image.open(stored.image.path) as image:
        assert max(image.size) == 2048
        assert not image.getexif() and "exif" not in image.info
    assert response.json()["photos"][0]["alt_text"] == "The burst pipe"
    assert response.json()["photos"][0]["width"] == 2048


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"title": ""}, "title", "required"),
        ({"title": None}, "title", "required"),
        ({"title": "x" * 201}, "title", "at most 200"),
        ({"description": "   "}, "description", "required"),
        ({"description": "x" * 5001}, "description", "at most 5000"),
        ({"report_type": "rumour"}, "report_type", "must be one of"),
        ({"lng": 0.0, "lat": 51.5}, "location", "South Africa"),
        ({"lng": "east"}, "lng", "number"),
        ({"lat": 91}, "lat", "between -90 and 90"),
        ({"project_id": "42"}, "project_id", "UUID"),
        ({"project_id": "00000000-0000-0000-0000-000000000000"}, "project_id", "No project"),
        ({"email": "not-an-email"}, "email", "not valid"),
        ({"title": 12}, "title", "text"),
    ],
)
def test_bad_report_input_is_422_naming_the_field(api, change, field, words):
    data = {**VALID, **change}
    data = {k: v for k, v in data.items() if not (k == "title" and v is None)}
    response = post_json(api, data)
    assert response.status_code == 422, response.content
    assert field in fields(response)
    assert any(words in error["message"] for error in response.json()["detail"])
    assert not Report.objects.exists()


def test_more_than_five_photos_are_refused(api):
    photos = [SimpleUploadedFile(f"p{n}.jpg", jpeg_with_gps((20, 20)), content_type="image/jpeg") for n in range(6)]
    response = api.post("/api/v1/reports", data={**VALID, "photos": photos})
    assert response.status_code == 422 and fields(response) == {"photos"}
    assert "At most 5" in response.json()["detail"][0]["message"]


def test_a_photo_over_5_mb_is_refused(api):
    big = SimpleUploadedFile("big.jpg", b"\xff\xd8\xff" + b"0" * (5 * 1024 * 1024), content_type="image/jpeg")
    response = api.post("/api/v1/reports", data={**VALID, "photos": [big]})
    assert response.status_code == 422 and fields(response) == {"photos"}
    assert "5 MB" in response.json()["detail"][0]["message"]


def test_a_file_that_is_not_really_an_image_is_refused_whatever_its_name_and_type(api):
    fake = SimpleUploadedFile("photo.jpg", b"<?php echo 'hi'; ?>", content_type="image/jpeg")
    gif = io.BytesIO()
    Image.new("RGB", (10, 10)).save(gif, format="GIF")
    renamed = SimpleUploadedFile("photo.png", gif.getvalue(), content_type="image/png")
    for upload in (fake, renamed):
        response = api.post("/api/v1/reports", data={**VALID, "photos": [upload]})
        assert response.status_code == 422 and fields(response) == {"photos"}
        assert "JPEG, PNG or WebP" in response.json()["detail"][0]["message"]


def test_bodies_that_are_not_json_objects_or_forms_are_refused(api):
    assert api.post("/api/v1/reports", data="[1]", content_type="application/json").status_code == 422
    assert api.post("/api/v1/reports", data="{", content_type="application/json").status_code == 422
    assert api.post("/api/v1/reports", data="x", content_type="text/plain").status_code == 415


def test_the_list_shows_published_reports_only_and_takes_filters(api):
    project = ProjectFactory()
    mine = ReportFactory(project=project, report_type="issue")
    ReportFactory(project=project, status="flagged")
    ReportFactory(report_type="completion")
    assert {r["id"] for r in api.get(f"/api/v1/reports?project_id={project.pk}").json()["items"]} == {mine.pk}
    assert api.get("/api/v1/reports?report_type=issue").json()["count"] == 1
    assert api.get("/api/v1/reports?status=published").json()["count"] == 2
    assert api.get("/api/v1/reports?bbox=18,-34,19,-33").json()["count"] == 2
    assert api.get("/api/v1/reports?bbox=30,-30,31,-29").json()["count"] == 0


@pytest.mark.parametrize(("query", "field"), [("status=flagged", "status"), ("status=spam", "status"),
                                              ("report_type=rumour", "report_type"), ("project_id=1", "project_id"),
                                              ("bbox=1,2", "bbox"), ("limit=0", "limit")])
def test_bad_report_list_parameters_are_422(api, query, field):
    response = api.get(f"/api/v1/reports?{query}")
    assert response.status_code == 422 and fields(response) == {field}


def test_affected_too_counts_one_per_address_a_day(api):
    report = ReportFactory()
    url = f"/api/v1/reports/{report.pk}/affected"
    first = api.post(url)
    assert first.status_code == 200 and first.json() == {"id": report.pk, "affected_count": 1}
    second = api.post(url)
    assert second.status_code == 409 and "already said" in second.json()["detail"][0]["message"]
    other_person = api.post(url, REMOTE_ADDR="10.0.0.9")
    assert other_person.json() == {"id": report.pk, "affected_count": 2}
    assert api.get(f"/api/v1/reports/{report.pk}").json()["affected_count"] == 2


def test_the_retired_vote_endpoint_counts_up_as_affected_and_refuses_down(api):
    report = ReportFactory()
    up = api.post(f"/api/v1/reports/{report.pk}/vote", data={"direction": "up"}, content_type="application/json")
    assert up.status_code == 200 and up.json() == {"id": report.pk, "affected_count": 1}
    down = api.post(f"/api/v1/reports/{report.pk}/vote", data={"direction": "down"}, content_type="application/json",
                    REMOTE_ADDR="10.0.0.8")
    assert down.status_code == 410 and fields(down) == {"direction"}


def test_bad_affected_and_vote_requests(api):
    report = ReportFactory()
    bad = api.post(f"/api/v1/reports/{report.pk}/vote", data={"direction": "sideways"},
                   content_type="application/json")
    assert bad.status_code == 422 and fields(bad) == {"direction"}
    assert api.post("/api/v1/reports/abc/affected").status_code == 422
    hidden = ReportFactory(status="spam")
    assert api.post(f"/api/v1/reports/{hidden.pk}/affected").status_code == 404


def test_report_creation_is_rate_limited_per_address_with_retry_after(api, settings):
    settings.REPORT_RATE_LIMIT = "3/h"
    for _ in range(3):
        assert post_json(api, VALID).status_code == 201
    refused = post_json(api, VALID)
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 3600
    assert "Too many requests" in refused.json()["detail"][0]["message"]
    assert post_json(api, VALID, REMOTE_ADDR="10.1.1.1").status_code == 201
    assert Report.objects.count() == 4


def test_behind_a_trusted_proxy_the_forwarded_address_is_limited(api, settings):
    settings.REPORT_RATE_LIMIT = "1/h"
    settings.API_TRUSTED_PROXIES = 1
    assert post_json(api, VALID, HTTP_X_FORWARDED_FOR="spoofed, 10.2.2.2").status_code == 201
    assert post_json(api, VALID, HTTP_X_FORWARDED_FOR="other, 10.2.2.2").status_code == 429
    assert post_json(api, VALID, HTTP_X_FORWARDED_FOR="10.3.3.3").status_code == 201


def test_affected_taps_are_rate_limited_too(api, settings):
    settings.AFFECTED_RATE_LIMIT = "2/m"
    reports = ReportFactory.create_batch(3)
    codes = [api.post(f"/api/v1/reports/{r.pk}/affected").status_code for r in reports]
    assert codes == [200, 200, 429]


def test_projects_count_residents_affected_in_the_api_and_the_csv(api):
    project = ProjectFactory()
    url = f"/api/v1/projects/{project.pk}/affected"
    assert api.post(url).json() == {"id": str(project.pk), "affected_count": 1}
    assert api.post(url).status_code == 409
    assert api.post("/api/v1/projects/not-a-uuid/affected").status_code == 422
    assert api.post("/api/v1/projects/00000000-0000-0000-0000-000000000000/affected").status_code == 404
    assert api.get(f"/api/v1/projects/{project.pk}").json()["affected_count"] == 1
    assert api.get("/api/v1/projects").json()["items"][0]["affected_count"] == 1
    import csv
    import io

    text = b"".join(api.get("/api/v1/exports/projects.csv").streaming_content).decode()
    (row,) = csv.DictReader(io.StringIO(text))
    assert row["affected_count"] == "1"
