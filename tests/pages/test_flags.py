""""Report abuse" from the report page without JavaScript, and through the API."""

import json

import pytest
from django.core.cache import caches
from django.test import Client

from reports.lifecycle import update_add
from reports.models import Flag, ReportStatus, ReportType
from tests.factories import ReportFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _private_rate_limit_cache(settings) -> None:
    settings.CACHES = {**settings.CACHES, "ratelimit": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "flag-tests"}}
    caches["ratelimit"].clear()


def test_the_report_page_offers_report_abuse_on_the_report_and_each_update(client) -> None:
    report = ReportFactory(report_type=ReportType.ISSUE)
    update = update_add(report=report, text="Nonsense")
    html = client.get(f"/reports/{report.pk}/").content.decode()
    assert html.count("Report abuse") == 2 and f'name="update" value="{update.pk}"' in html
    assert 'id="flag-report-spam"' in html and f'id="flag-{update.pk}-spam"' in html
    response = client.post(f"/reports/{report.pk}/flag/", {"reason": "offensive"}, follow=True)
    assert "Moderators will look at it" in response.content.decode()
    again = client.post(f"/reports/{report.pk}/flag/", {"reason": "spam"}, follow=True)
    assert "already flagged" in again.content.decode()
    client.post(f"/reports/{report.pk}/flag/", {"reason": "spam", "update": str(update.pk)})
    assert Flag.objects.filter(report=report).count() == 1 and Flag.objects.filter(update=update).count() == 1


def test_the_third_flagger_hides_it_and_goes_back_to_the_project(client) -> None:
    report = ReportFactory(report_type=ReportType.ISSUE)
    for n in range(2):
        Client().post(f"/reports/{report.pk}/flag/", {"reason": "spam"}, REMOTE_ADDR=f"10.0.0.{n}")
    response = client.post(f"/reports/{report.pk}/flag/", {"reason": "spam"}, REMOTE_ADDR="10.0.0.9")
    assert response.status_code == 302 and response["Location"] == f"/projects/{report.project_id}/"
    report.refresh_from_db()
    assert report.status == ReportStatus.FLAGGED


def test_bad_page_flags_are_refused_with_a_message_and_need_csrf(client, settings) -> None:
    report = ReportFactory(report_type=ReportType.ISSUE)
    response = client.post(f"/reports/{report.pk}/flag/", {"reason": "other"}, follow=True)
    assert "The flag was not sent" in response.content.decode() and not Flag.objects.exists()
    assert client.post(f"/reports/{report.pk}/flag/", {"reason": "spam", "update": "x"}).status_code == 404
    assert Client(enforce_csrf_checks=True).post(f"/reports/{report.pk}/flag/", {"reason": "spam"}).status_code == 403
    assert client.get(f"/reports/{report.pk}/flag/").status_code == 405
    settings.FLAG_RATE_LIMIT = "1/h"
    other = ReportFactory(report_type=ReportType.ISSUE)
    client.post(f"/reports/{other.pk}/flag/", {"reason": "spam"})
    response = client.post(f"/reports/{report.pk}/flag/", {"reason": "spam"}, follow=True)
    assert "Too many flags" in response.content.decode()


def post_flag(api, report_id, data, **extra):
    return api.post(f"/api/v1/reports/{report_id}/flags", data=json.dumps(data), content_type="application/json",
                    **extra)


def test_the_api_takes_flags_on_reports_and_updates(client) -> None:
    report = ReportFactory(report_type=ReportType.ISSUE)
    update = update_add(report=report, text="Rude")
    assert post_flag(client, report.pk, {"reason": "personal_information", "text": "a phone number"}).json() == {
        "received": True}
    assert post_flag(client, report.pk, {"reason": "spam"}).status_code == 409
    assert post_flag(client, report.pk, {"reason": "offensive", "update_id": update.pk}).status_code == 201
    for data, field in (({"reason": "boring"}, "reason"), ({"reason": "other"}, "text"), ({"reason": 5}, "reason"),
                        ({"reason": "spam", "update_id": "x"}, "update_id"),
                        ({"reason": "spam", "update_id": True}, "update_id")):
        response = post_flag(client, report.pk, data, REMOTE_ADDR="10.5.5.5")
        assert response.status_code == 422 and response.json()["detail"][0]["field"] == field, data
    assert post_flag(client, report.pk, {"reason": "spam", "update_id": 999999}, REMOTE_ADDR="10.5.5.6").status_code \
        == 404
    assert post_flag(client, 999999, {"reason": "spam"}).status_code == 404
