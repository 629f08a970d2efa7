"""Webhooks in the admin: staff subscribe with a reason (the secret shown once), the SSRF guard names the URL,
the delivery log shows every attempt, and a replay asks for a reason and is recorded."""

from __future__ import annotations

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client
from django.urls import reverse

from changelog.models import AdminAction
from tests.webhooks.test_delivery import new_project, subscribe
from webhooks.models import Attempt, Delivery, Subscription
from webhooks.tasks import webhooks_pass

pytestmark = pytest.mark.django_db
ADD = "admin:webhooks_subscription_add"


@pytest.fixture
def superuser_client(client: Client, django_user_model) -> Client:  # type: ignore[no-untyped-def]
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.org", "not-used"))
    return client


def test_staff_subscribe_with_a_reason_and_see_the_secret_once(superuser_client: Client, receiver):
    good = receiver()
    response = superuser_client.post(reverse(ADD), {
        "url": good.url, "event_types": ["project.created", "ingestion.failed"], "municipality_code": "",
        "province": "", "description": "Newsroom", "owner_email": "desk@example.org", "reason": "For the newsroom"})

    assert response.status_code == 200, response.content
    subscription = Subscription.objects.get()
    secret = response.context["secret"]
    assert secret == subscription.secret and secret.encode() in response.content
    assert "no-store" in response["Cache-Control"]
    (action,) = AdminAction.objects.filter(target_type="webhook_subscription")
    assert (action.action, action.reason, action.admin_name) == ("create", "For the newsroom", "root")
    page = superuser_client.get(reverse("admin:webhooks_subscription_change", args=[subscription.pk]))
    assert page.status_code == 200 and secret.encode() not in page.content


def test_a_private_target_is_refused_in_the_admin_form_naming_the_url(superuser_client: Client, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    response = superuser_client.post(reverse(ADD), {
        "url": "http://10.0.0.8/hook", "event_types": ["project.created"], "reason": "Test"})

    assert response.status_code == 200 and not Subscription.objects.exists()
    assert "not a public address" in response.context["adminform"].form.errors["url"][0]


def test_the_delivery_log_shows_attempts_and_a_replay_is_recorded(superuser_client: Client, receiver):
    good = receiver()
    subscribe(good, ["project.created"])
    new_project("ADMIN-1")
    webhooks_pass()
    owed = Delivery.objects.get()

    page = superuser_client.get(reverse("admin:webhooks_delivery_change", args=[owed.pk]))
    assert page.status_code == 200 and b"204" in page.content
    assert superuser_client.get(reverse("admin:webhooks_delivery_changelist")).status_code == 200

    changelist = reverse("admin:webhooks_delivery_changelist")
    asked = superuser_client.post(changelist, {"action": "replay", ACTION_CHECKBOX_NAME: [owed.pk]})
    assert asked.status_code == 200 and b"reason" in asked.content.lower()
    done = superuser_client.post(changelist, {"action": "replay", ACTION_CHECKBOX_NAME: [owed.pk], "apply": "1",
                                              "reason": "Receiver lost its database"})
    assert done.status_code == 302
    assert AdminAction.objects.filter(target_type="webhook_delivery", action="replay").count() == 1
    webhooks_pass()
    assert Attempt.objects.filter(delivery=owed).count() == 2 and len(good.received) == 2


def test_staff_disable_and_enable_a_subscription_with_a_reason(superuser_client: Client, receiver):
    subscription = subscribe(receiver(), ["project.created"])
    changelist = reverse("admin:webhooks_subscription_changelist")

    superuser_client.post(changelist, {"action": "disable", ACTION_CHECKBOX_NAME: [subscription.pk], "apply": "1",
                                       "reason": "The newsroom asked for a pause"})
    subscription.refresh_from_db()
    assert not subscription.is_active
    superuser_client.post(changelist, {"action": "enable", ACTION_CHECKBOX_NAME: [subscription.pk], "apply": "1",
                                       "reason": "Back on"})
    subscription.refresh_from_db()
    assert subscription.is_active
    assert list(AdminAction.objects.filter(target_type="webhook_subscription").order_by("pk").values_list(
        "action", flat=True)) == ["create", "disable", "enable"]
