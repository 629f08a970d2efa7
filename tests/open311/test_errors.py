"""Refusals in the specification's shape (`[{"code": …, "description": …}]`, `<errors><error>…`) with the right
HTTP status, each description naming the parameter: keys, limits, bad input, unknown formats and paths."""

from __future__ import annotations

import pytest
from django.test import Client

from apikeys.models import ApiKey, Scope
from apikeys.services import api_key_issue, api_key_revoke
from reports.models import Report
from tests.open311.conftest import Post
from tests.open311.shapes import as_data

pytestmark = pytest.mark.django_db
FORMATS = ["json", "xml"]


def refused(response: object, fmt: str, status: int) -> str:
    """The one error's description, after checking the status and the shape."""
    assert response.status_code == status, response.content  # type: ignore[attr-defined]
    errors = as_data(response, fmt)
    assert len(errors) >= 1 and all(str(error["code"]) == str(status) for error in errors)
    return " ".join(error["description"] for error in errors)


@pytest.mark.parametrize("fmt", FORMATS)
def test_posting_without_a_key_is_refused(post: Post, fmt: str) -> None:
    assert "api_key" in refused(post(fmt, api_key=None), fmt, 400)
    assert not Report.objects.exists()


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_revoked_key_is_refused(post: Post, secret: str, fmt: str) -> None:
    api_key_revoke(key=ApiKey.objects.get(), moderator="root", reason="Leaked")
    assert "api_key" in refused(post(fmt), fmt, 403)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_key_for_another_scope_or_an_unknown_key_is_refused(post: Post, fmt: str) -> None:
    _key, webhooks = api_key_issue(name="Hooks", owner_email="dev@example.org", scopes=[Scope.WEBHOOKS],
                                   moderator="root", reason="Hooks")
    assert "api_key" in refused(post(fmt, api_key=webhooks), fmt, 403)
    assert "api_key" in refused(post(fmt, api_key="bka_not-a-key"), fmt, 403)
    assert not Report.objects.exists()


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_key_past_its_limit_gets_429_with_retry_after(client: Client, fmt: str) -> None:
    _key, limited = api_key_issue(name="Small", owner_email="dev@example.org", scopes=[Scope.OPEN311_POST],
                                  moderator="root", reason="Test", rate_limit="1/h")
    from tests.open311.conftest import fields

    first = client.post(f"/open311/v2/requests.{fmt}", {"api_key": limited, **fields()})
    assert first.status_code == 201
    second = client.post(f"/open311/v2/requests.{fmt}", {"api_key": limited, **fields()})
    assert "1/h" in refused(second, fmt, 429)
    assert 1 <= int(second["Retry-After"]) <= 3600


def test_a_key_raises_the_pages_limit_per_sender_address(post: Post, settings: pytest.FixtureRequest) -> None:
    """A call centre posts for many residents from one server: its key's limit counts, not the form's."""
    settings.REPORT_RATE_LIMIT = "2/h"
    assert [post().status_code for _ in range(3)] == [201, 201, 201]
    assert Report.objects.count() == 3


@pytest.mark.parametrize(("fields", "named"), [
    ({"service_code": "potholes"}, "service_code"),
    ({"service_code": None}, "service_code"),
    ({"lat": "-51.5", "long": "-0.12"}, "lat and long"),
    ({"lat": "north"}, "lat"),
    ({"long": None}, "long"),
    ({"lat": None, "long": None}, "address_string"),
    ({"lat": None, "long": None, "address_string": "Somewhere unknown"}, "address_string"),
    ({"description": " "}, "description"),
    ({"email": "not-an-email"}, "email"),
    ({"media_url": "javascript:alert(1)"}, "media_url"),
    ({"attribute[project]": "12"}, "attribute[project]"),
    ({"attribute[project]": "0b7c1a48-4a59-4f39-9d5b-7a4a0a1c9f00"}, "attribute[project]"),
    ({"attribute[colour]": "blue"}, "attribute[colour]"),
    ({"attribute[rough_location]": "maybe"}, "attribute[rough_location]"),
])
@pytest.mark.parametrize("fmt", FORMATS)
def test_bad_fields_are_refused_naming_the_field(post: Post, fmt: str, fields: dict[str, str | None],
                                                 named: str) -> None:
    assert named in refused(post(fmt, **fields), fmt, 400)
    assert not Report.objects.exists()


def test_every_problem_of_a_post_is_named_at_once(post: Post) -> None:
    errors = post(service_code="x", description="", email="no").json()
    assert [error["description"].split(":")[0] for error in errors] == ["service_code", "description", "email"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_body_over_the_size_limit_is_refused_with_413(client: Client, secret: str, settings: pytest.FixtureRequest,
                                                        fmt: str) -> None:
    from tests.open311.conftest import fields

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = client.post(f"/open311/v2/requests.{fmt}",
                           f"api_key={secret}&service_code=issue&lat=-33.9&long=18.4&description=" + "x" * 20_000,
                           content_type="application/x-www-form-urlencoded")
    assert "too large" in refused(response, fmt, 413)
    huge = "x" * (10_000 + 3 * 5 * 1024 * 1024)
    response = client.post(f"/open311/v2/requests.{fmt}", {"api_key": secret, **fields(), "description": huge})
    assert "too large" in refused(response, fmt, 413)
    assert not Report.objects.exists()


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_body_that_is_not_a_form_is_refused_with_415(client: Client, secret: str, fmt: str) -> None:
    response = client.post(f"/open311/v2/requests.{fmt}?api_key={secret}", {"service_code": "issue"},
                           content_type="application/json")
    assert "x-www-form-urlencoded" in refused(response, fmt, 415)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("query", "named"), [
    ("start_date=yesterday", "start_date"),
    ("end_date=2026-13-45T00:00:00Z", "end_date"),
    ("start_date=2026-02-01T00:00:00Z&end_date=2026-01-01T00:00:00Z", "start_date"),
    ("status=pending", "status"),
    ("service_code=potholes", "service_code"),
    ("service_request_id=12,abc", "service_request_id"),
    ("service_request_id=-4", "service_request_id"),
])
def test_bad_filters_are_refused_naming_the_parameter(client: Client, fmt: str, query: str, named: str) -> None:
    assert named in refused(client.get(f"/open311/v2/requests.{fmt}?{query}"), fmt, 400)


@pytest.mark.parametrize("fmt", FORMATS)
def test_bad_and_unknown_request_ids(client: Client, fmt: str) -> None:
    assert "service_request_id" in refused(client.get(f"/open311/v2/requests/abc.{fmt}"), fmt, 400)
    assert "service_request_id" in refused(client.get(f"/open311/v2/requests/99999999999999999999.{fmt}"), fmt, 400)
    assert "service_request_id" in refused(client.get(f"/open311/v2/requests/424242.{fmt}"), fmt, 404)
    assert "token" in refused(client.get(f"/open311/v2/tokens/nope.{fmt}"), fmt, 404)


@pytest.mark.parametrize("path", ["discovery.html", "services.csv", "requests.yaml", "requests/1.txt",
                                  "tokens/abc.rss", "requests", "nothing/here.json", ""])
def test_unknown_formats_and_paths_are_404_in_the_error_shape(client: Client, path: str) -> None:
    response = client.get(f"/open311/v2/{path}")
    assert response.status_code == 404
    assert response.json()[0]["code"] == 404


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_wrong_method_is_405(client: Client, fmt: str) -> None:
    response = client.post(f"/open311/v2/services.{fmt}")
    assert "GET" in refused(response, fmt, 405)
    assert response["Allow"] == "GET, HEAD"
    assert client.delete(f"/open311/v2/requests.{fmt}").status_code == 405
