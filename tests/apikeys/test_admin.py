"""API keys in the admin: issued with a reason (the secret shown once, on the answer to the form), revoked with a
reason, never edited or deleted, and out of reach of non-staff and of moderators without the permissions."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse

from apikeys.models import ApiKey, Scope
from apikeys.services import api_key_check
from changelog.models import AdminAction
from tests.apikeys.conftest import Issue

pytestmark = pytest.mark.django_db
ADD = "admin:apikeys_apikey_add"
CHANGELIST = "admin:apikeys_apikey_changelist"


@pytest.fixture
def superuser_client(client: Client, django_user_model) -> Client:  # type: ignore[no-untyped-def]
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.org", "not-used"))
    return client


def _add(client: Client, **data: object):  # type: ignore[no-untyped-def]
    return client.post(reverse(ADD), {"name": "Ward 12 app", "owner_email": "dev@example.org",
                                      "scopes": ["sync:trigger"], "rate_limit": "", **data})


def test_staff_issue_a_key_with_a_reason_and_see_its_secret_once(superuser_client: Client, settings):
    response = _add(superuser_client, reason="For the ward's own app")

    assert response.status_code == 200, response.content
    key = ApiKey.objects.get()
    secret = response.context["secret"]
    assert secret.startswith(key.prefix) and secret.encode() in response.content
    assert "no-store" in response["Cache-Control"]
    assert api_key_check(secret, Scope.SYNC_TRIGGER) == key
    assert key.rate_limit == settings.API_KEY_RATE_LIMIT and key.created_by == "root"
    (action,) = AdminAction.objects.filter(target_type="api_key")
    assert (action.action, action.reason, action.admin_name) == ("issue", "For the ward's own app", "root")
    # Never again: not on the key's page, not in the list.
    for url in (reverse("admin:apikeys_apikey_change", args=[key.pk]), reverse(CHANGELIST)):
        page = superuser_client.get(url)
        assert page.status_code == 200 and secret.encode() not in page.content and key.prefix.encode() in page.content


def test_a_key_is_not_issued_without_a_reason_or_a_scope(superuser_client: Client):
    assert _add(superuser_client, reason="  ").status_code == 200
    assert _add(superuser_client, reason="Why not", scopes=[]).status_code == 200
    assert _add(superuser_client, reason="Why not", rate_limit="fast").status_code == 200

    assert not ApiKey.objects.exists() and not AdminAction.objects.exists()


def test_revoking_from_the_list_asks_for_a_reason_and_records_it(superuser_client: Client, issue: Issue):
    key, secret = issue()
    url = reverse(CHANGELIST)
    selection = {"action": "revoke_keys", "_selected_action": [str(key.pk)], "index": "0"}

    confirm = superuser_client.post(url, selection)
    assert confirm.status_code == 200 and b'name="reason"' in confirm.content
    no_reason = superuser_client.post(url, {**selection, "apply": "1", "reason": " "})
    assert no_reason.status_code == 200 and api_key_check(secret, Scope.SYNC_TRIGGER) == key
    done = superuser_client.post(url, {**selection, "apply": "1", "reason": "The contractor left"})

    assert done.status_code == 302
    assert api_key_check(secret, Scope.SYNC_TRIGGER) is None
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert AdminAction.objects.filter(target_type="api_key", target_id=str(key.pk), action="revoke",
                                      reason="The contractor left").count() == 1


def test_a_key_is_neither_edited_nor_deleted(superuser_client: Client, issue: Issue):
    key, _secret = issue()

    edit = superuser_client.post(reverse("admin:apikeys_apikey_change", args=[key.pk]), {"name": "Renamed"})
    delete = superuser_client.get(reverse("admin:apikeys_apikey_delete", args=[key.pk]))
    page = superuser_client.get(reverse("admin:apikeys_apikey_change", args=[key.pk]))

    assert edit.status_code == 403 and delete.status_code == 403
    assert b"secret_hash" not in page.content and key.secret_hash.encode() not in page.content
    assert ApiKey.objects.get().name == "Ward 12 app"


def test_non_staff_and_moderators_without_the_permissions_cannot_reach_the_pages(client: Client, django_user_model,
                                                                                 issue: Issue):
    key, _secret = issue()
    pages = [reverse(CHANGELIST), reverse(ADD), reverse("admin:apikeys_apikey_change", args=[key.pk])]
    resident = django_user_model.objects.create_user("resident", password="x")
    moderator = django_user_model.objects.create_user("thandeka", password="x", is_staff=True)
    moderator.groups.add(Group.objects.get(name="Moderator"))

    client.force_login(resident)
    assert all(client.get(url).status_code == 302 for url in pages)  # to the admin's login page
    client.force_login(moderator)
    assert all(client.get(url).status_code == 403 for url in pages)
    assert _add(client, reason="Sneaky").status_code == 403 and ApiKey.objects.count() == 1


def test_staff_given_the_permissions_can_issue_keys(client: Client, django_user_model):
    operator = django_user_model.objects.create_user("operator", password="x", is_staff=True)
    operator.user_permissions.add(*Permission.objects.filter(content_type__app_label="apikeys"))
    client.force_login(operator)

    assert _add(client, reason="Nightly cron").status_code == 200
    assert ApiKey.objects.get().created_by == "operator"
