"""Open problems near the chosen place are offered before a new report is published: inline with JavaScript
(HTMX), and on a confirmation step without it, where the report waits as a draft."""

import datetime as dt

import pytest
from django.core.cache import caches
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from changelog.models import DataChangeLog
from reports.models import Report, ReportPhoto, ReportStatus, ReportType
from reports.services import drafts_drop, report_submit

pytestmark = pytest.mark.django_db
HERE = (28.0473, -26.2041)
FORM = {"title": "Burst pipe", "description": "Water everywhere", "report_type": "issue",
        "latitude": HERE[1] + 0.001, "longitude": HERE[0]}  # about 110 m north


@pytest.fixture(autouse=True)
def _private_rate_limit_cache(settings) -> None:
    settings.CACHES = {**settings.CACHES, "ratelimit": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "duplicate-tests"}}
    caches["ratelimit"].clear()


@pytest.fixture
def existing() -> Report:
    return report_submit(title="Leak on Jan Smuts", description="d", report_type="issue", lng=HERE[0], lat=HERE[1])


def test_without_javascript_the_report_waits_on_a_confirmation_step(client, existing, png_bytes) -> None:
    photo = SimpleUploadedFile("leak.png", png_bytes, content_type="image/png")
    response = client.post("/reports/new/", {**FORM, "photos": [photo]})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Already reported near here?" in html and "Leak on Jan Smuts" in html and " m away" in html
    draft = Report.objects.get(title="Burst pipe")
    assert draft.status == ReportStatus.DRAFT and draft.photos.count() == 1
    assert not DataChangeLog.objects.filter(entity_id=str(draft.pk)).exists()
    assert client.get(f"/reports/{draft.pk}/").status_code == 404
    assert client.get("/api/v1/reports").json()["count"] == 1
    # "Publish my report": the draft as written, photo and all.
    action = html.split('action="/reports/draft/')[1].split('"')[0]
    published = client.post(f"/reports/draft/{action}", follow=True)
    assert "Your report is published" in published.content.decode()
    draft.refresh_from_db()
    assert draft.status == ReportStatus.PUBLISHED
    assert DataChangeLog.objects.filter(entity_id=str(draft.pk), change_type="created").count() == 1
    client.post(f"/reports/draft/{action}")  # pressed twice: published once
    assert DataChangeLog.objects.filter(entity_id=str(draft.pk), change_type="created").count() == 1


def test_affected_too_instead_of_a_new_report(client, existing) -> None:
    html = client.post("/reports/new/", FORM).content.decode()
    assert f'action="/reports/{existing.pk}/affected/"' in html
    response = client.post(f"/reports/{existing.pk}/affected/", follow=True)
    assert "you are counted as affected too" in response.content.decode()
    existing.refresh_from_db()
    assert existing.affected_count == 1
    assert Report.objects.get(title="Burst pipe").status == ReportStatus.DRAFT  # never published


def test_no_step_when_nothing_is_near_when_seen_inline_or_for_news(client, existing) -> None:
    far = {**FORM, "latitude": HERE[1] + 0.01, "title": "Far away"}  # about 1.1 km
    assert client.post("/reports/new/", far).status_code == 302
    seen = {**FORM, "title": "Seen inline", "seen_nearby": "1"}
    assert client.post("/reports/new/", seen).status_code == 302
    news = {**FORM, "title": "Pipes laid", "report_type": ReportType.PROGRESS_UPDATE}
    assert client.post("/reports/new/", news).status_code == 302
    assert set(Report.objects.published().values_list("title", flat=True)) == {
        "Leak on Jan Smuts", "Far away", "Seen inline", "Pipes laid"}


def test_the_inline_list_for_htmx_and_its_affected_button(client, existing) -> None:
    html = client.get("/reports/nearby/", {"latitude": FORM["latitude"], "longitude": FORM["longitude"]},
                      headers={"HX-Request": "true"}).content.decode()
    assert "Leak on Jan Smuts" in html and 'name="seen_nearby"' in html
    assert f'hx-post="/reports/{existing.pk}/affected/?fragment=nearby"' in html
    for query in ({}, {"latitude": "x", "longitude": "1"}, {"latitude": "48.85", "longitude": "2.35"},
                  {"latitude": "nan", "longitude": "nan"}, {"latitude": "-34.5", "longitude": "19.9"}):
        assert client.get("/reports/nearby/", query).content.strip() == b"", query
    item = client.post(f"/reports/{existing.pk}/affected/?fragment=nearby", headers={"HX-Request": "true"})
    text = item.content.decode()
    assert text.strip().startswith(f'<li id="nearby-{existing.pk}"') and "counted as affected too" in text


def test_drafts_nobody_published_are_dropped_after_a_day(client, existing, png_bytes) -> None:
    photo = SimpleUploadedFile("leak.png", png_bytes, content_type="image/png")
    client.post("/reports/new/", {**FORM, "photos": [photo]})
    draft = Report.objects.get(title="Burst pipe")
    stored = draft.photos.get()
    paths = [stored.image.path, stored.thumbnail.path, stored.card.path]
    assert drafts_drop() == 0
    Report.objects.filter(pk=draft.pk).update(created_at=timezone.now() - dt.timedelta(days=2))
    assert drafts_drop() >= 1
    assert not Report.objects.filter(pk=draft.pk).exists() and not ReportPhoto.objects.filter(report=draft).exists()
    import os

    assert not any(os.path.exists(path) for path in paths)
    assert Report.objects.filter(pk=existing.pk).exists()


def test_a_forged_or_old_draft_link_publishes_nothing(client, existing) -> None:
    assert client.post("/reports/draft/forged/publish/").status_code == 404
    assert client.get("/reports/draft/forged/publish/").status_code == 405


def test_a_report_without_a_place_is_offered_where_its_photo_was_taken(client) -> None:
    from tests.reports.test_services import jpeg_with_gps  # taken at 33°55' S, 18°25' E (Cape Town)

    photo = SimpleUploadedFile("leak.jpg", jpeg_with_gps(), content_type="image/jpeg")
    form = {"title": "Leak", "description": "By the school", "report_type": "issue"}
    response = client.post("/reports/new/", {**form, "photos": [photo]})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Use the place where your photo was taken?" in html and "latitude -33.91667" in html
    draft = Report.objects.get()
    assert draft.status == ReportStatus.DRAFT and round(draft.location.y, 4) == -33.9167
    assert round(draft.location.x, 4) == 18.4167 and draft.photos.count() == 1
    action = html.split('action="/reports/draft/')[1].split('"')[0]
    client.post(f"/reports/draft/{action}")
    draft.refresh_from_db()
    assert draft.status == ReportStatus.PUBLISHED


def test_without_a_place_or_a_photo_position_the_form_still_asks_for_a_place(client, png_bytes) -> None:
    photo = SimpleUploadedFile("plain.png", png_bytes, content_type="image/png")
    response = client.post("/reports/new/", {"title": "Leak", "description": "d", "report_type": "issue",
                                             "photos": [photo]})
    assert response.status_code == 400 and "Please show where this is" in response.content.decode()
    assert not Report.objects.exists()


def test_the_report_form_is_rate_limited_like_the_api(client, settings) -> None:
    settings.REPORT_RATE_LIMIT = "1/h"
    far = {**FORM, "title": "First", "seen_nearby": "1"}
    assert client.post("/reports/new/", far).status_code == 302
    response = client.post("/reports/new/", {**far, "title": "Second"})
    assert response.status_code == 429 and "Too many reports" in response.content.decode()
    assert not Report.objects.filter(title="Second").exists()
