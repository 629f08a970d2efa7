"""ETags and 304s come from Django's ConditionalGetMiddleware for every GET, compressed or not, and never for
streamed exports or writes."""

import gzip

import pytest

from tests.factories import ProjectFactory, ReportFactory

pytestmark = pytest.mark.django_db


def test_a_304_carries_no_body_but_the_same_etag_and_caching_headers(api):
    ProjectFactory()
    first = api.get("/api/v1/projects")
    again = api.get("/api/v1/projects", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == first["ETag"] and again["Cache-Control"] == first["Cache-Control"]


def test_a_compressed_list_has_a_weak_etag_that_still_answers_304(api):
    for _ in range(3):
        ProjectFactory()
    plain = api.get("/api/v1/projects")
    compressed = api.get("/api/v1/projects", HTTP_ACCEPT_ENCODING="gzip")
    assert compressed["Content-Encoding"] == "gzip" and gzip.decompress(compressed.content) == plain.content
    assert compressed["ETag"] == "W/" + plain["ETag"]
    again = api.get("/api/v1/projects", HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=compressed["ETag"])
    assert again.status_code == 304


def test_streamed_exports_get_no_etag(api):
    ProjectFactory()
    response = api.get("/api/v1/exports/projects.csv")
    assert response.streaming and not response.has_header("ETag")


def test_a_write_gets_no_etag(api):
    report = ReportFactory()
    response = api.post(f"/api/v1/reports/{report.pk}/vote", {"direction": "up"}, content_type="application/json")
    assert response.status_code == 200 and not response.has_header("ETag")
