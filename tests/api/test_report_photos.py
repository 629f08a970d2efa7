"""Photo fields in the API: `thumbnail_url` and `card_url` beside `url`, null for photos whose sizes are not
made yet, on reports and their updates."""

import io

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from PIL import Image

from reports.models import ReportPhoto, ReportType
from reports.photos import clean_photo
from tests.api.test_reports import VALID, jpeg_with_gps
from tests.factories import ReportFactory

pytestmark = pytest.mark.django_db


def fetched_image(api, url: str) -> Image.Image:
    """The stored file an absolute URL of the answer points at. Read from the storage, not through the media
    view: bukaamanzi/urls.py binds MEDIA_ROOT when first imported, so in tests it serves the first test's folder."""
    prefix = f"http://testserver{settings.MEDIA_URL}"
    assert url.startswith(prefix), url
    with default_storage.open(url.removeprefix(prefix)) as file:
        image = Image.open(io.BytesIO(file.read()))
        image.load()
    return image


def test_a_reports_photo_has_absolute_urls_of_its_thumbnail_and_card(api) -> None:
    photo = SimpleUploadedFile("IMG_0001.jpg", jpeg_with_gps(), content_type="image/jpeg")
    response = api.post("/api/v1/reports", data={**VALID, "photos": [photo], "photo_alt": ["The burst pipe"]})
    assert response.status_code == 201, response.content
    created = response.json()["photos"][0]
    assert created["url"].startswith("http://testserver/media/reports/")
    assert "/thumbs/" in created["thumbnail_url"] and "/cards/" in created["card_url"]

    detail = api.get(f"/api/v1/reports/{response.json()['id']}").json()["photos"][0]
    listed = api.get("/api/v1/reports").json()["items"][0]["photos"][0]
    assert detail == listed == created
    thumbnail, card = fetched_image(api, created["thumbnail_url"]), fetched_image(api, created["card_url"])
    assert thumbnail.size == (200, 100) and card.size == (1200, 630)
    assert not thumbnail.getexif() and not card.getexif()


def test_an_updates_photo_carries_the_same_fields(api) -> None:
    report = ReportFactory(report_type=ReportType.ISSUE)
    photo = SimpleUploadedFile("repair.jpg", jpeg_with_gps((900, 1200)), content_type="image/jpeg")
    response = api.post(f"/api/v1/reports/{report.pk}/updates", {"text": "New pipe", "photos": [photo]})
    assert response.status_code == 201, response.content
    sent = response.json()["photos"][0]
    assert fetched_image(api, sent["thumbnail_url"]).size == (75, 100)
    assert fetched_image(api, sent["card_url"]).size == (1200, 630)
    assert api.get(f"/api/v1/reports/{report.pk}").json()["updates"][0]["photos"] == [sent]


def test_a_photo_stored_before_the_sizes_existed_has_null_size_urls_until_the_command_runs(api) -> None:
    report = ReportFactory(report_type=ReportType.ISSUE)
    ReportPhoto.objects.create(report=report, image=clean_photo(jpeg_with_gps((800, 600))).content)
    photo = api.get(f"/api/v1/reports/{report.pk}").json()["photos"][0]
    assert photo["url"].startswith("http://testserver/media/")
    assert photo["thumbnail_url"] is None and photo["card_url"] is None

    call_command("make_photo_sizes")
    photo = api.get(f"/api/v1/reports/{report.pk}").json()["photos"][0]
    assert fetched_image(api, photo["thumbnail_url"]).size == (133, 100)
    assert fetched_image(api, photo["card_url"]).size == (1200, 630)


def test_the_openapi_schema_documents_the_size_fields_as_optional_and_nullable(api) -> None:
    schemas = api.get("/api/v1/openapi.json").json()["components"]["schemas"]
    photo = schemas["PhotoOut"]
    assert set(photo["required"]) == {"url", "width", "height", "alt_text"}
    for name in ("thumbnail_url", "card_url"):
        assert {"type": "null"} in photo["properties"][name]["anyOf"] and photo["properties"][name]["description"]
