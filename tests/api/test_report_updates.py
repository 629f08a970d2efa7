"""`GET /api/v1/reports/{id}` and `POST /api/v1/reports/{id}/updates`: states in every output, 4xx for bad input."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from reports.lifecycle import update_add, update_flag
from reports.models import ReportState, ReportStatus, ReportType, ReportUpdate
from tests.api.conftest import fields
from tests.api.test_reports import jpeg_with_gps
from tests.factories import ReportFactory

pytestmark = pytest.mark.django_db


def post_update(api, report_id, data, **extra):
    return api.post(f"/api/v1/reports/{report_id}/updates", data=json.dumps(data), content_type="application/json",
                    **extra)


def test_a_json_update_saying_fixed_is_created_and_the_state_follows(api) -> None:
    report = ReportFactory(report_type=ReportType.ISSUE)
    response = post_update(api, report.pk, {"text": "Repaired this morning", "fixed": True, "name": "Lwazi",
                                            "email": "lwazi@example.org"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["effect"] == "fixed" and body["report_state"] == "fixed" and body["contributor_name"] == "Lwazi"
    assert b"lwazi@example.org" not in response.content
    detail = api.get(f"/api/v1/reports/{report.pk}").json()
    assert detail["state"] == "fixed" and detail["state_set_by"] == "resident" and detail["state_changed_at"]
    assert [u["text"] for u in detail["updates"]] == ["Repaired this morning"]
    listed = api.get("/api/v1/reports").json()["items"][0]
    assert listed["state"] == "fixed"
    project = api.get(f"/api/v1/projects/{report.project_id}").json()
    assert project["reports"][0]["state"] == "fixed"


def test_a_multipart_update_takes_photos_and_strips_their_location(api) -> None:
    report = ReportFactory(report_type=ReportType.ISSUE)
    photo = SimpleUploadedFile("repair.jpg", jpeg_with_gps(), content_type="image/jpeg")
    response = api.post(f"/api/v1/reports/{report.pk}/updates",
                        {"text": "Photo of the new pipe", "fixed": "false", "photos": [photo],
                         "photo_alt": ["New blue pipe in the trench"]})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["effect"] == "" and body["report_state"] == "open"
    assert body["photos"][0]["alt_text"] == "New blue pipe in the trench"
    assert max(body["photos"][0]["width"], body["photos"][0]["height"]) == 2048


@pytest.mark.parametrize(("data", "field"), [
    ({}, "text"),
    ({"text": ""}, "text"),
    ({"text": 5}, "text"),
    ({"text": "x" * 5001}, "text"),
    ({"text": "ok", "fixed": "maybe"}, "fixed"),
    ({"text": "ok", "fixed": 1}, "fixed"),
    ({"text": "ok", "email": "not an address"}, "email"),
    ({"text": "ok", "name": "n" * 101}, "name"),
])
def test_bad_update_input_is_a_422_naming_the_field(api, data, field) -> None:
    report = ReportFactory(report_type=ReportType.ISSUE)
    response = post_update(api, report.pk, data)
    assert response.status_code == 422, response.content
    assert field in fields(response)
    assert not ReportUpdate.objects.exists()


def test_marking_news_fixed_is_a_422_on_fixed(api) -> None:
    report = ReportFactory(report_type=ReportType.PROGRESS_UPDATE)
    response = post_update(api, report.pk, {"text": "done", "fixed": True})
    assert response.status_code == 422 and fields(response) == {"fixed"}


def test_too_many_photos_unknown_and_hidden_reports(api) -> None:
    report = ReportFactory(report_type=ReportType.ISSUE)
    photos = [SimpleUploadedFile(f"{n}.jpg", jpeg_with_gps((40, 30)), content_type="image/jpeg") for n in range(4)]
    response = api.post(f"/api/v1/reports/{report.pk}/updates", {"text": "four photos", "photos": photos})
    assert response.status_code == 422 and fields(response) == {"photos"}
    assert post_update(api, 999999, {"text": "x"}).status_code == 404
    assert post_update(api, "abc", {"text": "x"}).status_code == 422
    hidden = ReportFactory(status=ReportStatus.SPAM)
    assert post_update(api, hidden.pk, {"text": "x"}).status_code == 404
    assert api.get(f"/api/v1/reports/{hidden.pk}").status_code == 404
    response = api.post(f"/api/v1/reports/{report.pk}/updates", data="text=x", content_type="text/plain")
    assert response.status_code == 415


def test_updates_are_rate_limited_per_client_address(api, settings) -> None:
    settings.UPDATE_RATE_LIMIT = "2/h"
    report = ReportFactory(report_type=ReportType.ISSUE)
    assert [post_update(api, report.pk, {"text": f"update {n}"}).status_code for n in range(3)] == [201, 201, 429]


def test_hidden_updates_leave_the_detail_and_duplicates_are_listed(api) -> None:
    original = ReportFactory(report_type=ReportType.ISSUE)
    duplicate = ReportFactory(report_type=ReportType.ISSUE, state=ReportState.DUPLICATE, duplicate_of=original)
    kept = update_add(report=original, text="kept")
    hidden = update_add(report=original, text="rude words")
    update_flag(updates=[hidden], moderator="m", reason="offensive")
    body = api.get(f"/api/v1/reports/{original.pk}").json()
    assert [u["id"] for u in body["updates"]] == [kept.pk]
    assert body["duplicate_ids"] == [duplicate.pk]
    assert api.get(f"/api/v1/reports/{duplicate.pk}").json()["duplicate_of_id"] == original.pk


def test_odd_ids_and_blank_boxes_are_4xx_not_500(api) -> None:
    assert api.get("/api/v1/reports/%C2%B9").status_code == 422  # a superscript one: a digit to str.isdigit
    assert api.post("/api/v1/reports/%C2%B9/affected").status_code == 422
    assert api.get("/api/v1/reports?bbox=%09").status_code == 200
