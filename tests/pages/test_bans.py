"""The ban list against reports and updates from the page and the API: a listed sender is answered exactly as
anyone else, and what they sent is stored hidden, with nothing public, live, fed or alerted."""

import json

import pytest
from django.core.cache import caches

from changelog.models import AdminAction, DataChangeLog
from reports.bans import ban_add, ban_remove
from reports.keys import sender_key
from reports.models import Ban, BanKind, Report, ReportState, ReportStatus, ReportType, ReportUpdate
from reports.services import report_submit
from tests.factories import ProjectFactory, ReportFactory

pytestmark = pytest.mark.django_db
IP = "198.51.100.23"
OTHER_IP = "203.0.113.77"
FORM = {"title": "Free money here", "description": "Click the link", "report_type": "issue",
        "latitude": "-33.93", "longitude": "18.43", "address": "", "name": "", "email": "", "website": "",
        "photo_description": "", "seen_nearby": "1"}
API_REPORT = {"title": "Free money here", "description": "Click the link", "report_type": "issue", "lng": 18.43,
              "lat": -33.93}
LISTED = [(BanKind.EMAIL, "Spammer@Example.org"), (BanKind.DOMAIN, "example.org"), (BanKind.ADDRESS, IP)]


@pytest.fixture(autouse=True)
def _private_rate_limit_cache(settings) -> None:
    settings.CACHES = {**settings.CACHES, "ratelimit": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "ban-tests"}}
    caches["ratelimit"].clear()


def listed(kind: str, value: str) -> None:
    ban_add(kind=kind, value=value, moderator="thandeka", reason="Sends advertising")


def assert_hidden_everywhere(client, report: Report) -> None:
    """Stored as spam with the system's one action; on no public page, list, feed or in the change log."""
    report.refresh_from_db()
    assert report.status == ReportStatus.SPAM and report.sender_key == sender_key(IP)
    assert list(AdminAction.objects.filter(target_type="report", target_id=str(report.pk)).values_list(
        "admin_name", "action")) == [("system", "banned_sender")]
    assert not DataChangeLog.objects.for_entity("report", report.pk).exists()
    assert client.get(f"/reports/{report.pk}/").status_code == 404
    assert client.get(f"/api/v1/reports/{report.pk}").status_code == 404
    assert report.pk not in {item["id"] for item in client.get("/api/v1/reports").json()["items"]}
    nearby = client.get("/api/v1/reports/nearby", {"lat": -33.93, "lng": 18.43}).json()["items"]
    assert report.pk not in {item["id"] for item in nearby}
    assert report.title not in client.get("/reports/nearby/", {"latitude": -33.93, "longitude": 18.43}).content.decode()
    if report.project_id:
        for url in (f"/projects/{report.project_id}/", f"/projects/{report.project_id}/feed/rss/",
                    f"/api/v1/projects/{report.project_id}"):
            assert report.title not in client.get(url).content.decode(), url
    assert IP not in str(list(Report.objects.values()))  # only the address's keyed hash is kept


# --- Reports from the page --------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "value"), LISTED)
def test_a_listed_sender_reporting_on_a_project_from_the_page_sees_the_usual_thank_you(client, kind, value) -> None:
    listed(kind, value)
    project = ProjectFactory()
    normal = client.post("/reports/new/", {**FORM, "project": str(project.pk), "title": "A real leak",
                                           "email": "resident@example.net"}, REMOTE_ADDR=OTHER_IP)
    response = client.post("/reports/new/", {**FORM, "project": str(project.pk), "email": "spammer@example.org"},
                           REMOTE_ADDR=IP, follow=True)
    report = Report.objects.get(title="Free money here")
    real = Report.objects.get(title="A real leak")
    assert normal["Location"] == f"/projects/{project.pk}/#report-{real.pk}"
    assert response.redirect_chain == [(f"/projects/{project.pk}/#report-{report.pk}", 302)]
    assert "Thank you. Your report is published and shown below." in response.content.decode()
    assert_hidden_everywhere(client, report)
    assert real.status == ReportStatus.PUBLISHED


@pytest.mark.parametrize(("kind", "value"), LISTED)
def test_a_listed_senders_report_without_a_project_lands_on_the_home_page_not_a_404(client, kind, value) -> None:
    listed(kind, value)
    response = client.post("/reports/new/", {**FORM, "email": "spammer@example.org"}, REMOTE_ADDR=IP, follow=True)
    assert response.status_code == 200 and response.redirect_chain == [("/", 302)]
    assert "Thank you. Your report is published and shown below." in response.content.decode()
    assert_hidden_everywhere(client, Report.objects.get())


def test_a_listed_senders_draft_waits_on_the_confirmation_step_and_stays_hidden_when_published(client) -> None:
    existing = report_submit(title="Leak on Main Road", description="d", report_type="issue", lng=18.43, lat=-33.93)
    listed(BanKind.ADDRESS, IP)
    page = client.post("/reports/new/", {**FORM, "seen_nearby": ""}, REMOTE_ADDR=IP)
    assert page.status_code == 200 and "Already reported near here?" in page.content.decode()
    draft = Report.objects.exclude(pk=existing.pk).get()
    assert draft.status == ReportStatus.DRAFT
    action = page.content.decode().split('action="/reports/draft/')[1].split('"')[0]
    published = client.post(f"/reports/draft/{action}", REMOTE_ADDR=IP, follow=True)
    assert "Your report is published" in published.content.decode()
    assert_hidden_everywhere(client, draft)
    again = client.post(f"/reports/draft/{action}", REMOTE_ADDR=IP, follow=True)  # pressed twice: the same
    assert again.status_code == 200 and "Your report is published" in again.content.decode()
    assert AdminAction.objects.filter(target_id=str(draft.pk), action="banned_sender").count() == 1


# --- Reports from the API ---------------------------------------------------------------------------------


def post_report(client, data, **extra):
    return client.post("/api/v1/reports", data=json.dumps(data), content_type="application/json", **extra)


@pytest.mark.parametrize(("kind", "value"), LISTED)
def test_a_listed_sender_gets_the_usual_201_from_the_api(client, kind, value) -> None:
    listed(kind, value)
    project = ProjectFactory()
    data = {**API_REPORT, "project_id": str(project.pk), "name": "Sam", "email": "spammer@example.org"}
    normal = post_report(client, {**data, "title": "A real leak", "email": "resident@example.net"},
                         REMOTE_ADDR=OTHER_IP)
    response = post_report(client, data, REMOTE_ADDR=IP)
    assert (normal.status_code, response.status_code) == (201, 201)
    body, usual = response.json(), normal.json()
    assert body["status"] == "published" and body["title"] == "Free money here"
    differ = ("id", "created_at", "title")
    assert {k: v for k, v in body.items() if k not in differ} == {k: v for k, v in usual.items() if k not in differ}
    assert_hidden_everywhere(client, Report.objects.get(pk=body["id"]))


# --- Updates ----------------------------------------------------------------------------------------------


def assert_update_hidden(client, report: Report, update: ReportUpdate) -> None:
    update.refresh_from_db()
    report.refresh_from_db()
    assert update.status == ReportStatus.SPAM and update.sender_key == sender_key(IP)
    assert report.state == ReportState.OPEN  # their "fixed" changed nothing
    assert list(AdminAction.objects.filter(target_type="report_update", target_id=str(update.pk)).values_list(
        "admin_name", "action")) == [("system", "banned_sender")]
    assert not DataChangeLog.objects.for_entity("report", report.pk).exists()
    assert update.text not in client.get(f"/reports/{report.pk}/").content.decode()
    assert client.get(f"/api/v1/reports/{report.pk}").json()["updates"] == []
    assert IP not in str(list(ReportUpdate.objects.values()))


@pytest.mark.parametrize(("kind", "value"), LISTED)
def test_a_listed_senders_update_from_the_page_is_thanked_as_usual_and_hidden(client, kind, value) -> None:
    listed(kind, value)
    report = ReportFactory(report_type=ReportType.ISSUE)
    response = client.post(f"/reports/{report.pk}/updates/", {"text": "Fixed! Visit my shop", "fixed": "on",
                                                              "email": "spammer@example.org"},
                           REMOTE_ADDR=IP, follow=True)
    update = ReportUpdate.objects.get()
    assert response.redirect_chain == [(f"/reports/{report.pk}/#update-{update.pk}", 302)]
    assert "Thank you. Your update is published and the report is marked fixed." in response.content.decode()
    assert_update_hidden(client, report, update)


@pytest.mark.parametrize(("kind", "value"), LISTED)
def test_a_listed_senders_update_gets_the_usual_201_from_the_api(client, kind, value) -> None:
    listed(kind, value)
    report = ReportFactory(report_type=ReportType.ISSUE)
    response = client.post(f"/api/v1/reports/{report.pk}/updates",
                           data=json.dumps({"text": "Fixed! Visit my shop", "fixed": True,
                                            "email": "spammer@example.org"}),
                           content_type="application/json", REMOTE_ADDR=IP)
    assert response.status_code == 201
    body = response.json()
    assert (body["effect"], body["report_state"], body["report_id"]) == ("fixed", "fixed", report.pk)
    assert_update_hidden(client, report, ReportUpdate.objects.get(pk=body["id"]))


def test_after_unlisting_the_sender_is_published_again_and_what_was_hidden_stays_hidden(client) -> None:
    listed(BanKind.ADDRESS, IP)
    hidden = post_report(client, API_REPORT, REMOTE_ADDR=IP).json()["id"]
    ban_remove(ban=Ban.objects.get(), moderator="thandeka", reason="A shared school connection")
    later = post_report(client, {**API_REPORT, "title": "A real leak"}, REMOTE_ADDR=IP).json()["id"]
    assert Report.objects.get(pk=hidden).status == ReportStatus.SPAM
    assert Report.objects.get(pk=later).status == ReportStatus.PUBLISHED
    assert client.get(f"/reports/{later}/").status_code == 200
    assert client.get(f"/reports/{hidden}/").status_code == 404
    assert AdminAction.objects.filter(target_type="ban", action="unban").count() == 1
