"""Every Open311 endpoint in JSON and XML (the XML checked against the specification's shapes), on the database
the run uses: discovery, services, a service's definition, posting, reading back by id and by token, filters."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from reports.lifecycle import report_set_state
from reports.models import Report, ReportStatus
from reports.services import report_publish
from tests.factories import ProjectFactory
from tests.open311.conftest import Post
from tests.open311.shapes import REQUEST_FIELDS, as_data, check_shape
from tests.reports.test_photos import photo_bytes

pytestmark = pytest.mark.django_db
FORMATS = ["json", "xml"]


@pytest.fixture(autouse=True)
def _no_hold_unless_asked(settings: pytest.FixtureRequest) -> None:
    settings.ALERT_NEW_SENDER_HOLD_MINUTES = 0  # tests of the hold set it back


@pytest.mark.parametrize("fmt", FORMATS)
def test_discovery_names_this_endpoint_and_both_formats(client: Client, fmt: str) -> None:
    response = client.get(f"/open311/v2/discovery.{fmt}")
    assert response.status_code == 200
    if fmt == "json":
        endpoint = response.json()["endpoints"][0]
        assert endpoint["url"] == "http://testserver/open311/v2"
        assert endpoint["formats"] == ["text/xml", "application/json"]
        assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    else:
        root = check_shape(response.content)
        assert root.findtext("endpoints/endpoint/url") == "http://testserver/open311/v2"


@pytest.mark.parametrize("fmt", FORMATS)
def test_services_are_the_report_types_in_one_group(client: Client, fmt: str) -> None:
    response = client.get(f"/open311/v2/services.{fmt}")
    assert response.status_code == 200
    if fmt == "json":
        services = response.json()
        assert [s["service_code"] for s in services] == ["issue", "quality_concern", "progress_update", "completion"]
        assert {s["group"] for s in services} == {"Water and sanitation"}
        assert all(s["metadata"] is True and s["type"] == "realtime" for s in services)
    else:
        root = check_shape(response.content)
        assert [s.findtext("service_code") for s in root] == ["issue", "quality_concern", "progress_update",
                                                              "completion"]
        assert root.findtext("service/metadata") == "true"


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_service_definition_lists_its_attributes(client: Client, fmt: str) -> None:
    response = client.get(f"/open311/v2/services/issue.{fmt}")
    assert response.status_code == 200
    if fmt == "json":
        body = response.json()
        assert body["service_code"] == "issue"
        assert [a["code"] for a in body["attributes"]] == ["project", "title", "rough_location"]
    else:
        root = check_shape(response.content)
        assert [a.findtext("code") for a in root.find("attributes")] == ["project", "title", "rough_location"]
        assert [v.findtext("key") for v in root.findall("attributes/attribute/values/value")] == ["false", "true"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_unknown_service_is_a_404_in_the_error_shape(client: Client, fmt: str) -> None:
    response = client.get(f"/open311/v2/services/potholes.{fmt}")
    assert response.status_code == 404
    errors = as_data(response, fmt)
    assert str(errors[0]["code"]) == "404" and "service_code" in errors[0]["description"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_posted_request_reads_back_by_id_with_public_fields_only(client: Client, post: Post, fmt: str) -> None:
    project = ProjectFactory()
    response = post(fmt, files={"media": SimpleUploadedFile("leak.jpg", photo_bytes((800, 600)), "image/jpeg")},
                    **{"attribute[project]": str(project.pk), "attribute[title]": "Leak at the school"})
    assert response.status_code == 201, response.content
    posted = as_data(response, fmt)[0]
    request_id = posted["service_request_id"]
    report = Report.objects.get(pk=int(request_id))
    assert (report.title, report.project, report.contributor_name) == ("Leak at the school", project, "Thandi M")
    assert report.open311.media_url == ""

    response = client.get(f"/open311/v2/requests/{request_id}.{fmt}")
    assert response.status_code == 200
    item = as_data(response, fmt)[0]
    if fmt == "json":
        assert list(item) == REQUEST_FIELDS
    assert item["status"] == "open" and item["status_notes"] == "Open"
    assert item["service_code"] == "issue" and item["service_name"] == "Problem"
    assert item["agency_responsible"] == project.municipality.name
    assert item["description"].startswith("Leak at the school\n\nWater leaking")
    assert float(item["lat"]) == pytest.approx(-33.9249) and float(item["long"]) == pytest.approx(18.4241)
    photo = report.photos.get()
    assert item["media_url"] == f"http://testserver{photo.image.url}"
    assert client.get(item["media_url"]).status_code == 200
    assert "thandi@example.org" not in response.content.decode()
    assert item["requested_datetime"] == timezone.localtime(report.created_at).isoformat(timespec="seconds")


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_rough_location_is_shown_only_roughly(client: Client, post: Post, fmt: str) -> None:
    response = post(fmt, **{"attribute[rough_location]": "true"})
    request_id = as_data(response, fmt)[0]["service_request_id"]
    item = as_data(client.get(f"/open311/v2/requests/{request_id}.{fmt}"), fmt)[0]
    report = Report.objects.get(pk=int(request_id))
    assert (float(item["long"]), float(item["lat"])) == pytest.approx(report.public_location.coords)
    assert report.public_location.coords != pytest.approx(report.location.coords)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_first_time_sender_gets_a_token_which_gives_the_id_once_reviewed(
        client: Client, post: Post, settings: pytest.FixtureRequest, fmt: str) -> None:
    settings.ALERT_NEW_SENDER_HOLD_MINUTES = 60
    response = post(fmt)
    assert response.status_code == 201
    posted = as_data(response, fmt)[0]
    assert "service_request_id" not in posted
    token = posted["token"]
    assert as_data(client.get(f"/open311/v2/tokens/{token}.{fmt}"), fmt) == [
        {"service_request_id": None, "token": token}]

    report = Report.objects.get(open311__token=token)
    report_publish(reports=[report], moderator="mod", reason="Looks genuine")
    assert as_data(client.get(f"/open311/v2/tokens/{token}.{fmt}"), fmt) == [
        {"service_request_id": str(report.pk), "token": token}]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_banned_sender_is_answered_as_a_held_one_and_nothing_is_public(
        client: Client, post: Post, fmt: str) -> None:
    from reports.bans import ban_add
    from reports.models import BanKind

    ban_add(kind=BanKind.EMAIL, value="thandi@example.org", moderator="mod", reason="Spam")
    posted = as_data(post(fmt), fmt)[0]
    report = Report.objects.get(open311__token=posted["token"])
    assert report.status == ReportStatus.SPAM
    assert as_data(client.get(f"/open311/v2/tokens/{posted['token']}.{fmt}"), fmt)[0]["service_request_id"] is None
    assert client.get(f"/open311/v2/requests/{report.pk}.{fmt}").status_code == 404


@pytest.mark.parametrize("fmt", FORMATS)
def test_requests_filter_by_id_service_status_and_date(client: Client, post: Post, fmt: str) -> None:
    ids = [int(as_data(post(fmt, service_code=code), fmt)[0]["service_request_id"])
           for code in ("issue", "issue", "quality_concern", "completion")]
    old, fixed, quality, completion = ids
    Report.objects.filter(pk=old).update(created_at=timezone.now() - dt.timedelta(days=100))
    report_set_state(reports=[Report.objects.get(pk=fixed)], state="fixed", moderator="mod", reason="Done")

    def listed(query: str = "") -> list[int]:
        response = client.get(f"/open311/v2/requests.{fmt}?{query}")
        assert response.status_code == 200, response.content
        return [int(item["service_request_id"]) for item in as_data(response, fmt)]

    assert listed() == [completion, quality, fixed]  # the last 90 days, newest first
    assert listed("status=open") == [quality]
    assert listed("status=closed") == [completion, fixed]
    assert listed("status=open,closed&service_code=issue") == [fixed]
    assert listed("service_code=issue,completion") == [completion, fixed]
    start = (timezone.now() - dt.timedelta(days=120)).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = (timezone.now() - dt.timedelta(days=95)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert listed(f"start_date={start}&end_date={end}") == [old]
    assert listed(f"start_date={start}") == [completion, quality, fixed, old]
    assert listed(f"service_request_id={old},{quality}&status=closed") == [quality, old]  # ids override the rest
    item = as_data(client.get(f"/open311/v2/requests/{fixed}.{fmt}"), fmt)[0]
    assert (item["status"], item["status_notes"]) == ("closed", "Fixed")


def test_a_duplicate_is_closed_and_names_its_original(client: Client, post: Post) -> None:
    from reports.lifecycle import report_mark_duplicate

    original, copy = (int(post().json()[0]["service_request_id"]) for _ in range(2))
    report_mark_duplicate(reports=[Report.objects.get(pk=copy)], original=Report.objects.get(pk=original),
                          moderator="mod", reason="Same leak")
    item = client.get(f"/open311/v2/requests/{copy}.json").json()[0]
    assert (item["status"], item["status_notes"]) == ("closed", f"Duplicate of request {original}.")


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_address_with_a_known_town_places_the_report_there(client: Client, post: Post, fmt: str) -> None:
    response = post(fmt, lat=None, long=None, address_string="12 Dorp Street, Stellenbosch")
    assert response.status_code == 201, response.content
    report = Report.objects.get(pk=int(as_data(response, fmt)[0]["service_request_id"]))
    assert report.address == "12 Dorp Street, Stellenbosch"
    assert report.location.y == pytest.approx(-33.93, abs=0.05) and report.location.x == pytest.approx(18.86, abs=0.05)


def test_an_anonymous_sender_is_held_like_a_first_time_one(post: Post, settings: pytest.FixtureRequest) -> None:
    settings.ALERT_NEW_SENDER_HOLD_MINUTES = 60
    posted = post(email=None, first_name=None, last_name=None).json()[0]
    assert set(posted) == {"token", "service_notice", "account_id"}


def test_staff_see_which_key_sent_a_request_and_its_media_url(admin_client: Client, post: Post) -> None:
    request_id = post(media_url="https://example.org/leak.jpg").json()[0]["service_request_id"]
    record = Report.objects.get(pk=int(request_id)).open311
    assert record.api_key is not None and record.api_key.name == "Ward 12 app"
    page = admin_client.get(f"/admin/open311/open311request/{record.pk}/change/")
    assert page.status_code == 200 and "https://example.org/leak.jpg" in page.content.decode()
    assert admin_client.get("/admin/open311/open311request/add/").status_code == 403
