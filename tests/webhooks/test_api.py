"""/api/v1/webhooks: a key with the `webhooks` scope manages its own subscriptions; the secret is shown once."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from apikeys.services import api_key_revoke
from tests.webhooks.conftest import Issue
from webhooks.models import Subscription

URL = "/api/v1/webhooks/subscriptions"
pytestmark = pytest.mark.django_db


def call(method: str, path: str, secret: str | None, body: dict[str, Any] | None = None):  # type: ignore[no-untyped-def]
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"} if secret else {}
    return getattr(Client(), method)(path, body, content_type="application/json", **headers)


def fields(errors: Any) -> dict[str, str]:
    return {e["field"]: e["message"] for e in errors.json()["detail"]}


def test_a_key_subscribes_and_gets_the_secret_once(issue: Issue, receiver):
    _key, secret = issue()
    good = receiver()
    made = call("post", URL, secret, {"url": good.url, "event_types": ["project.created", "report.state_changed"],
                                      "province": "wc"})
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["secret"].startswith("whsec_") and body["province"] == "WC" and body["enabled"] is True
    assert Subscription.objects.get(pk=body["id"]).secret == body["secret"]

    listed = call("get", URL, secret)
    one = call("get", f"{URL}/{body['id']}", secret)
    assert [s["id"] for s in listed.json()] == [body["id"]]
    assert "secret" not in listed.json()[0] and "secret" not in one.json()


@pytest.mark.parametrize(("body", "field", "words"), [
    ({"url": "ftp://hooks.example.org/", "event_types": ["project.created"]}, "url", "http"),
    ({"url": "http://127.0.0.1:9/", "event_types": ["project.created"]}, "url", "not a public address"),
    ({"url": "https://93.184.216.34/", "event_types": ["project.deleted"]}, "event_types", "Unknown event type"),
    ({"url": "https://93.184.216.34/", "event_types": []}, "event_types", "at least one"),
    ({"url": "https://93.184.216.34/", "event_types": ["project.created"], "municipality_code": "XX1"},
     "municipality_code", "XX1"),
    ({"url": "https://93.184.216.34/", "event_types": ["project.created"], "province": "ZZ"}, "province", "ZZ"),
    ({"event_types": ["project.created"]}, "url", ""),
    ({"url": "https://93.184.216.34/" + "a" * 600, "event_types": ["project.created"]}, "url", "500"),
])
def test_bad_input_is_a_422_naming_the_field_and_the_reason(issue: Issue, settings, body, field, words):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    _key, secret = issue()
    answer = call("post", URL, secret, body)
    assert answer.status_code == 422, answer.content
    assert words in fields(answer)[field]


def test_missing_revoked_and_wrong_scope_keys_are_refused(issue: Issue):
    key, secret = issue()
    _other, open311 = issue(scopes=("open311:post",))
    assert call("get", URL, None).status_code == 401
    assert call("get", URL, "bka_not-a-key").status_code == 401
    assert call("get", URL, open311).status_code == 401
    assert call("get", URL, secret).status_code == 200
    api_key_revoke(key=key, moderator="root", reason="Leaked in a public repository")
    assert call("get", URL, secret).status_code == 401
    assert call("post", URL, secret, {"url": "https://93.184.216.34/", "event_types": ["project.created"]}
                ).status_code == 401


def test_a_key_sees_and_changes_only_its_own_subscriptions(issue: Issue, receiver):
    _a, mine = issue()
    _b, theirs = issue(name="Other app")
    made = call("post", URL, mine, {"url": receiver().url, "event_types": ["project.created"]}).json()
    path = f"{URL}/{made['id']}"
    assert call("get", path, theirs).status_code == 404
    assert call("patch", path, theirs, {"enabled": False}).status_code == 404
    assert call("delete", path, theirs).status_code == 404
    assert call("get", URL, theirs).json() == []


def test_a_subscription_is_changed_disabled_enabled_and_removed(issue: Issue, receiver):
    _key, secret = issue()
    made = call("post", URL, secret, {"url": receiver().url, "event_types": ["project.created"]}).json()
    path = f"{URL}/{made['id']}"

    changed = call("patch", path, secret, {"event_types": ["report.created"], "description": "Ward 12"})
    assert changed.status_code == 200 and changed.json()["event_types"] == ["report.created"]
    assert changed.json()["description"] == "Ward 12"
    assert call("patch", path, secret, {"event_types": ["nope"]}).status_code == 422
    disabled = call("patch", path, secret, {"enabled": False}).json()
    assert disabled["enabled"] is False and disabled["disabled_at"]
    assert call("patch", path, secret, {"enabled": True}).json()["enabled"] is True
    assert call("get", f"{path}/attempts", secret).json() == []
    assert call("delete", path, secret).status_code == 204
    assert call("get", path, secret).status_code == 404


def test_the_attempts_of_a_subscription_are_listed(issue: Issue, receiver):
    from tests.webhooks.test_delivery import new_project
    from webhooks.tasks import webhooks_pass

    _key, secret = issue()
    good = receiver()
    made = call("post", URL, secret, {"url": good.url, "event_types": ["project.created"]}).json()
    good.secret = made["secret"]
    new_project("API-1")
    webhooks_pass()

    [attempt] = call("get", f"{URL}/{made['id']}/attempts", secret).json()
    assert attempt["succeeded"] is True and attempt["status_code"] == 204
    assert attempt["event_type"] == "project.created" and attempt["webhook_id"].startswith("msg_")
