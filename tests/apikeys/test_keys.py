"""API keys: issued once and stored hashed, checked per scope, revoked at once, sent as a Bearer header or (Open311)
an `api_key` parameter, and limited per key."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client, RequestFactory
from django.utils import timezone

from apikeys.auth import ApiKeyBearer, ApiKeyParam, api_key_from_request
from apikeys.models import ApiKey, Scope
from apikeys.services import api_key_check, api_key_revoke, secret_hash
from changelog.models import AdminAction
from ingestion.models import IngestionRun, RunStatus
from tests.apikeys.conftest import Issue

pytestmark = pytest.mark.django_db
TRIGGER = "/api/v1/sync/trigger"


def _trigger(secret: str, client: Client | None = None):  # type: ignore[no-untyped-def]
    # A run of dws under way: the trigger answers 202 with a refused run and queues nothing.
    IngestionRun.objects.get_or_create(source="dws", status=RunStatus.RUNNING)
    return (client or Client()).post(TRIGGER, {"source": "dws"}, content_type="application/json",
                                     HTTP_AUTHORIZATION=f"Bearer {secret}")


def test_issuing_returns_the_secret_once_and_stores_only_its_hash(issue: Issue):
    key, secret = issue(scopes=("sync:trigger", "webhooks"))

    assert secret.startswith("bka_") and len(secret) > 40
    assert key.prefix == secret[:12] and key.secret_hash == secret_hash(secret)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM apikeys_apikey")
        (row,) = cursor.fetchall()
    assert not any(secret in str(value) for value in row)
    assert not any(secret in str(value) for value in AdminAction.objects.values_list())
    assert key.owner_email == "dev@example.org" and key.scopes == ["sync:trigger", "webhooks"]


def test_issuing_and_revoking_each_write_one_moderation_action_with_the_reason(issue: Issue):
    key, _secret = issue()
    api_key_revoke(key=key, moderator="root", reason="The app was retired")
    api_key_revoke(key=key, moderator="root", reason="Twice changes nothing")

    actions = list(AdminAction.objects.filter(target_type="api_key", target_id=str(key.pk)).order_by("pk"))
    assert [(action.action, action.reason) for action in actions] == [
        ("issue", "Asked for by the ward councillor"), ("revoke", "The app was retired")]


def test_issuing_needs_a_reason_a_known_scope_and_a_valid_rate(issue: Issue):
    with pytest.raises(ValidationError):
        issue(reason="  ")
    with pytest.raises(ValidationError):
        issue(scopes=("admin",))
    with pytest.raises(ValidationError):
        issue(rate_limit="lots")
    assert not ApiKey.objects.exists()


def test_a_new_key_takes_its_rate_limit_from_the_setting_unless_given_one(issue: Issue, settings):
    settings.API_KEY_RATE_LIMIT = "100/m"

    assert issue()[0].rate_limit == "100/m"
    assert issue(rate_limit="5/s")[0].rate_limit == "5/s"


def test_a_key_is_accepted_for_its_own_scopes_only(issue: Issue):
    key, secret = issue(scopes=("webhooks",))

    assert api_key_check(secret, Scope.WEBHOOKS) == key
    assert api_key_check(secret, Scope.SYNC_TRIGGER) is None
    assert api_key_check(secret, "admin") is None
    assert api_key_check(secret + "x", Scope.WEBHOOKS) is None
    assert api_key_check("bka_unknown", Scope.WEBHOOKS) is None


def test_a_revoked_key_is_refused_from_the_next_request_on(issue: Issue):
    key, secret = issue()
    assert _trigger(secret).status_code == 202

    api_key_revoke(key=key, moderator="root", reason="Leaked in a public repository")

    assert api_key_check(secret, Scope.SYNC_TRIGGER) is None
    assert _trigger(secret).status_code == 401


def test_the_bearer_header_works_on_the_sync_trigger_for_the_right_scope_only(issue: Issue):
    _key, sync_secret = issue()
    _other, webhook_secret = issue(scopes=("webhooks", "open311:post"))

    right = _trigger(sync_secret)
    wrong = _trigger(webhook_secret)

    assert right.status_code == 202 and right.json()["runs"][0]["triggered_by"].startswith("api: key bka_")
    assert wrong.status_code == 401


def test_last_used_is_written_at_most_once_a_minute(issue: Issue):
    key, secret = issue()

    api_key_check(secret, Scope.SYNC_TRIGGER)
    first = ApiKey.objects.get(pk=key.pk).last_used_at
    api_key_check(secret, Scope.SYNC_TRIGGER)
    assert first is not None and ApiKey.objects.get(pk=key.pk).last_used_at == first

    ApiKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now() - dt.timedelta(minutes=2))
    api_key_check(secret, Scope.SYNC_TRIGGER)
    assert ApiKey.objects.get(pk=key.pk).last_used_at > first  # type: ignore[operator]


def test_the_open311_helper_reads_api_key_from_the_query_the_form_or_the_bearer_header(issue: Issue):
    key, secret = issue(scopes=("open311:post",))
    factory = RequestFactory()
    auth = ApiKeyParam(Scope.OPEN311_POST)

    from_query = factory.get("/open311/v2/requests.json", {"api_key": secret})
    from_form = factory.post("/open311/v2/requests.json", {"api_key": secret, "service_code": "leak"})
    from_header = factory.post("/open311/v2/requests.json", HTTP_AUTHORIZATION=f"Bearer {secret}")
    without = factory.post("/open311/v2/requests.json", {"service_code": "leak"})

    assert api_key_from_request(from_query) == api_key_from_request(from_form) == secret
    assert api_key_from_request(from_header) == secret and api_key_from_request(without) is None
    assert auth(from_query) == auth(from_form) == auth(from_header) == key
    assert auth(without) is None
    assert ApiKeyBearer(Scope.OPEN311_POST)(from_query) is None  # the Bearer class reads the header only


def test_an_unknown_scope_in_the_code_fails_at_once():
    with pytest.raises(ValueError, match="scope"):
        ApiKeyBearer("sync:trigger:all")


def test_past_its_limit_a_key_gets_429_with_retry_after_and_another_key_is_unaffected(issue: Issue):
    _busy, busy_secret = issue(rate_limit="2/h")
    _calm, calm_secret = issue(rate_limit="2/h")

    answers = [_trigger(busy_secret) for _ in range(3)]

    assert [answer.status_code for answer in answers] == [202, 202, 429]
    refused = answers[-1]
    assert 1 <= int(refused["Retry-After"]) <= 3600
    (error,) = refused.json()["detail"]
    assert "API key" in error["message"] and "2/h" in error["message"]
    assert _trigger(calm_secret).status_code == 202


def test_staff_sessions_are_not_counted_against_any_key_limit(issue: Issue, django_user_model):
    _key, secret = issue(rate_limit="1/h")
    client = Client()
    client.force_login(django_user_model.objects.create_user("thandeka", password="x", is_staff=True))
    IngestionRun.objects.create(source="dws", status=RunStatus.RUNNING)

    for _ in range(3):
        assert client.post(TRIGGER, {"source": "dws"}, content_type="application/json").status_code == 202
    assert _trigger(secret).status_code == 202
