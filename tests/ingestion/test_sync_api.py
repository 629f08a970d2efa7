"""POST /api/v1/sync/trigger and GET /api/v1/sync/runs/{id}: staff, API keys with the sync:trigger scope and the
deprecated SYNC_API_TOKEN only; 202 with the run ids."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.test import Client

from apikeys.services import api_key_issue, api_key_revoke
from ingestion.models import IngestionRun, RunStatus
from projects.models import Project
from tests.ingestion.pipeline_support import SourceServer, dws_routes, source_server, treasury_routes

__all__ = ["source_server"]
pytestmark = pytest.mark.django_db
TRIGGER = "/api/v1/sync/trigger"


@pytest.fixture(autouse=True)
def _fresh_rate_limits(settings) -> None:
    # A private count per test (key ids repeat between tests on SQLite; their counts must not), without Redis.
    settings.CACHES = {**settings.CACHES, "ratelimit": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "sync-api-tests"}}
    caches["ratelimit"].clear()


def _key(scopes: tuple[str, ...] = ("sync:trigger",), rate_limit: str | None = None) -> tuple[object, str]:
    return api_key_issue(name="Operator cron", owner_email="ops@example.org", scopes=scopes, moderator="root",
                         reason="Nightly sync from CI", rate_limit=rate_limit)


@pytest.fixture
def sync_tasks(monkeypatch, django_capture_on_commit_callbacks):
    """Queued tasks run at once, in this process (django-q2 sync mode), when the request's transaction commits."""
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)
    return lambda: django_capture_on_commit_callbacks(execute=True)


def _staff_client() -> Client:
    user = get_user_model().objects.create_user("moderator", password="x", is_staff=True)
    client = Client()
    client.force_login(user)
    return client


def test_staff_trigger_queues_a_run_answers_202_and_the_run_shows_its_result(source_server: SourceServer, sync_tasks):
    treasury_routes(source_server)
    client = _staff_client()

    with sync_tasks():
        response = client.post(TRIGGER, {"source": "municipal_money"}, content_type="application/json")

    assert response.status_code == 202, response.content
    (run,) = response.json()["runs"]
    detail = client.get(f"/api/v1/sync/runs/{run['id']}")
    assert detail.status_code == 200
    body = detail.json()
    assert body["status"] == RunStatus.SUCCESS and body["created"] == 5 and body["triggered_by"] == "api: moderator"
    assert body["breaker"]["state"] == "closed"
    assert Project.objects.filter(source="municipal_money").count() == 5


def test_all_queues_one_run_per_source(source_server: SourceServer, sync_tasks):
    treasury_routes(source_server)
    dws_routes(source_server)

    with sync_tasks():
        response = _staff_client().post(TRIGGER, {"source": "all"}, content_type="application/json")

    assert response.status_code == 202
    assert {run.status for run in IngestionRun.objects.all()} == {RunStatus.SUCCESS}
    assert sorted(run["source"] for run in response.json()["runs"]) == ["dws", "municipal_money"]


def test_a_trigger_while_a_run_is_active_is_answered_with_a_refused_run():
    IngestionRun.objects.create(source="dws", status=RunStatus.RUNNING)

    response = _staff_client().post(TRIGGER, {"source": "dws"}, content_type="application/json")

    assert response.status_code == 202
    assert response.json()["runs"][0]["status"] == RunStatus.REFUSED


def test_an_unknown_source_is_a_422_naming_the_field():
    response = _staff_client().post(TRIGGER, {"source": "eskom"}, content_type="application/json")

    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "source"
    assert not IngestionRun.objects.exists()


def test_a_missing_source_is_a_422_naming_the_field():
    response = _staff_client().post(TRIGGER, {}, content_type="application/json")

    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "source"


def test_anonymous_and_non_staff_users_are_refused():
    user = get_user_model().objects.create_user("resident", password="x")
    client = Client()

    assert client.post(TRIGGER, {"source": "dws"}, content_type="application/json").status_code == 401
    client.force_login(user)
    assert client.post(TRIGGER, {"source": "dws"}, content_type="application/json").status_code == 401
    assert client.get("/api/v1/sync/runs/1").status_code == 401
    assert not IngestionRun.objects.exists()


def test_the_api_token_is_accepted_and_a_wrong_one_is_not(settings, sync_tasks, source_server: SourceServer):
    settings.SYNC_API_TOKEN = "s3cret-token-for-tests"
    dws_routes(source_server)
    client = Client()

    wrong = client.post(TRIGGER, {"source": "dws"}, content_type="application/json",
                        HTTP_AUTHORIZATION="Bearer nope")
    with sync_tasks():
        right = client.post(TRIGGER, {"source": "dws"}, content_type="application/json",
                            HTTP_AUTHORIZATION="Bearer s3cret-token-for-tests")

    assert wrong.status_code == 401
    assert right.status_code == 202 and right.json()["runs"][0]["triggered_by"] == "api: token"


def test_an_unknown_run_is_a_404():
    response = _staff_client().get("/api/v1/sync/runs/999999")

    assert response.status_code == 404 and response.json()["detail"][0]["field"] == "run_id"


def test_a_sync_key_triggers_a_run_and_follows_it(sync_tasks, source_server: SourceServer):
    dws_routes(source_server)
    key, secret = _key()
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")

    with sync_tasks():
        response = client.post(TRIGGER, {"source": "dws"}, content_type="application/json")

    assert response.status_code == 202, response.content
    (run,) = response.json()["runs"]
    assert run["triggered_by"] == f"api: key {key.prefix} (Operator cron)"  # type: ignore[attr-defined]
    assert client.get(f"/api/v1/sync/runs/{run['id']}").json()["status"] == RunStatus.SUCCESS


def test_a_key_without_the_sync_scope_or_revoked_is_refused():
    _other, webhook_secret = _key(scopes=("webhooks",))
    key, secret = _key()
    api_key_revoke(key=key, moderator="root", reason="Rotated")  # type: ignore[arg-type]

    for token in (webhook_secret, secret):
        response = Client().post(TRIGGER, {"source": "dws"}, content_type="application/json",
                                 HTTP_AUTHORIZATION=f"Bearer {token}")
        assert response.status_code == 401
    assert not IngestionRun.objects.exists()


def test_a_key_past_its_limit_gets_429_with_retry_after_while_the_old_token_is_not_limited(settings):
    settings.SYNC_API_TOKEN = "s3cret-token-for-tests"
    IngestionRun.objects.create(source="dws", status=RunStatus.RUNNING)  # each trigger is answered "refused"
    _key_row, secret = _key(rate_limit="1/m")

    def post(token: str):  # type: ignore[no-untyped-def]
        return Client().post(TRIGGER, {"source": "dws"}, content_type="application/json",
                             HTTP_AUTHORIZATION=f"Bearer {token}")

    first, second = post(secret), post(secret)

    assert first.status_code == 202
    assert second.status_code == 429 and 1 <= int(second["Retry-After"]) <= 60
    assert "1/m" in second.json()["detail"][0]["message"]
    assert [post("s3cret-token-for-tests").status_code for _ in range(3)] == [202, 202, 202]
