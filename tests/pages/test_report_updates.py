"""The report page: its state, its updates, and the update form without JavaScript."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from reports.lifecycle import update_add, update_flag
from reports.models import ReportState, ReportType, ReportUpdate, StateSetBy
from reports.services import PhotoUpload
from tests.factories import ReportFactory

pytestmark = pytest.mark.django_db


def test_an_update_from_the_page_is_published_and_marks_the_problem_fixed(client) -> None:
    report = ReportFactory(report_type=ReportType.ISSUE)
    page = client.get(f"/reports/{report.pk}/").content.decode()
    assert "State:" in page and "Open" in page and 'name="fixed"' in page
    response = client.post(f"/reports/{report.pk}/updates/", {"text": "The plumbers fixed it.", "fixed": "on",
                                                              "name": "Zola"}, follow=True)
    update = ReportUpdate.objects.get()
    assert response.redirect_chain[-1][0] == f"/reports/{report.pk}/#update-{update.pk}"
    html = response.content.decode()
    assert "the report is marked fixed" in html and "The plumbers fixed it." in html
    assert "Fixed, says a resident, on" in html and "said it is fixed" in html and "Zola" in html
    report.refresh_from_db()
    assert (report.state, report.state_set_by) == (ReportState.FIXED, StateSetBy.RESIDENT)


def test_an_update_sender_is_written_to_in_the_language_of_the_page_they_used(client) -> None:
    report = ReportFactory(report_type=ReportType.ISSUE)
    client.post("/i18n/setlang/", {"language": "af", "next": "/"})
    client.post(f"/reports/{report.pk}/updates/", {"text": "Nog steeds stukkend", "name": "Anna",
                                                   "email": "anna@example.org"})
    api = Client().post(f"/api/v1/reports/{report.pk}/updates", {"text": "Still broken", "email": "b@example.org"},
                      content_type="application/json", HTTP_ACCEPT_LANGUAGE="zu")
    assert api.status_code == 201, api.content
    assert dict(ReportUpdate.objects.values_list("contributor__email", "contributor__language")) == {
        "anna@example.org": "af", "b@example.org": "zu"}


def test_form_errors_are_shown_beside_the_field_with_a_400(client, png_bytes) -> None:
    report = ReportFactory(report_type=ReportType.ISSUE)
    photo = SimpleUploadedFile("p.png", png_bytes, content_type="image/png")
    response = client.post(f"/reports/{report.pk}/updates/", {"text": "", "photos": [photo]})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="error-summary"' in html and 'href="#id_text"' in html
    assert "please choose your photos again" in html
    assert not ReportUpdate.objects.exists()


def test_the_honeypot_refuses_bots_and_news_has_no_fixed_box(client) -> None:
    report = ReportFactory(report_type=ReportType.PROGRESS_UPDATE)
    assert 'name="fixed"' not in client.get(f"/reports/{report.pk}/").content.decode()
    response = client.post(f"/reports/{report.pk}/updates/", {"text": "buy pills", "website": "http://spam"})
    assert response.status_code == 400 and not ReportUpdate.objects.exists()


def test_the_page_form_is_rate_limited(client, settings) -> None:
    settings.UPDATE_RATE_LIMIT = "1/h"
    settings.CACHES = {**settings.CACHES, "ratelimit": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "page-update-limit"}}
    report = ReportFactory(report_type=ReportType.ISSUE)
    assert client.post(f"/reports/{report.pk}/updates/", {"text": "one"}).status_code == 302
    response = client.post(f"/reports/{report.pk}/updates/", {"text": "two"})
    assert response.status_code == 429 and "Too many updates" in response.content.decode()


def test_the_form_needs_post_and_csrf(client) -> None:
    from django.test import Client

    report = ReportFactory(report_type=ReportType.ISSUE)
    assert client.get(f"/reports/{report.pk}/updates/").status_code == 405
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(f"/reports/{report.pk}/updates/", {"text": "x"}).status_code == 403


def test_hidden_updates_are_not_shown_and_duplicates_link_both_ways(client) -> None:
    original = ReportFactory(report_type=ReportType.ISSUE, title="Leak at the school")
    duplicate = ReportFactory(report_type=ReportType.ISSUE, state=ReportState.DUPLICATE, duplicate_of=original,
                              title="School leak again")
    hidden = update_add(report=original, text="insulting text")
    update_flag(updates=[hidden], moderator="m", reason="offensive")
    html = client.get(f"/reports/{original.pk}/").content.decode()
    assert "insulting text" not in html and "School leak again" in html and "1 other report" in html
    html = client.get(f"/reports/{duplicate.pk}/").content.decode()
    assert "see the original report" in html and f'href="/reports/{original.pk}/"' in html


def test_the_report_page_runs_the_same_queries_with_200_updates(client, png_bytes) -> None:
    report = ReportFactory(report_type=ReportType.ISSUE)
    update_add(report=report, text="first", photos=[PhotoUpload(png_bytes, "p.png")])
    with CaptureQueriesContext(connection) as few:
        assert client.get(f"/reports/{report.pk}/").status_code == 200
    for n in range(199):
        update_add(report=report, text=f"update {n}", photos=[PhotoUpload(png_bytes, "p.png")] if n % 10 == 0 else ())
    with CaptureQueriesContext(connection) as many:
        response = client.get(f"/reports/{report.pk}/")
    assert response.content.decode().count('class="update"') == 200
    assert len(many) == len(few), [q["sql"][:120] for q in many.captured_queries]
