"""Alert addresses, deliveries and bounces are for staff with the alerts permissions only; pausing an address goes
through the service and is recorded in the moderation log."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from alerts.models import AlertKind, Frequency, Subscriber
from alerts.services import AlertTarget, alert_subscribe
from changelog.models import AdminAction
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db


def sign_up(email: str) -> None:
    alert_subscribe(email=email, target=AlertTarget(kind=AlertKind.PROJECT, project=ProjectFactory()),
                    frequency=Frequency.IMMEDIATE, language="en")


def test_staff_with_the_permission_see_addresses_deliveries_and_bounces(superuser_client: Client) -> None:
    sign_up("private@example.org")
    page = superuser_client.get(reverse("admin:alerts_subscriber_changelist"))
    assert page.status_code == 200 and "private@example.org" in page.content.decode()
    for name in ("alerts_alert", "alerts_delivery", "alerts_bounce"):
        assert superuser_client.get(reverse(f"admin:{name}_changelist")).status_code == 200, name


def test_a_moderator_without_the_alerts_permissions_sees_no_address(moderator_client: Client) -> None:
    sign_up("private@example.org")
    assert moderator_client.get(reverse("admin:alerts_subscriber_changelist")).status_code == 403
    assert moderator_client.get(reverse("admin:alerts_delivery_changelist")).status_code == 403


def test_anonymous_visitors_are_sent_to_the_login(client: Client) -> None:
    response = client.get(reverse("admin:alerts_subscriber_changelist"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_pausing_an_address_from_the_admin_is_recorded_and_stops_its_emails(superuser_client: Client) -> None:
    sign_up("stop@example.org")
    subscriber = Subscriber.objects.get()
    response = superuser_client.post(reverse("admin:alerts_subscriber_changelist"), {
        "action": "pause", "_selected_action": [subscriber.pk]})
    assert response.status_code == 302
    subscriber.refresh_from_db()
    assert subscriber.paused_at is not None and subscriber.paused_reason == "staff"
    assert subscriber.deliveries.get().given_up_at is not None  # the waiting confirmation is not sent
    action = AdminAction.objects.get(target_type="subscriber")
    assert action.admin_name == "root" and action.action == "pause"
    assert "stop@example.org" not in str(action.metadata) + action.reason
