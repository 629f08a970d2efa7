"""Users for the admin tests: a moderator (the data-migrated group), a superuser, and helpers to act as them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse

from reports.models import Report

CHANGELIST = "admin:reports_report_changelist"


@pytest.fixture
def moderator(django_user_model):  # type: ignore[no-untyped-def]
    user = django_user_model.objects.create_user("thandeka", password="not-used", is_staff=True)
    user.groups.add(Group.objects.get(name="Moderator"))
    return user


@pytest.fixture
def moderator_client(client: Client, moderator) -> Client:  # type: ignore[no-untyped-def]
    client.force_login(moderator)
    return client


@pytest.fixture
def superuser_client(client: Client, django_user_model) -> Client:  # type: ignore[no-untyped-def]
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.org", "not-used"))
    return client


@pytest.fixture
def viewer_client(client: Client, django_user_model) -> Client:  # type: ignore[no-untyped-def]
    """Staff who may look at reports but not moderate them."""
    user = django_user_model.objects.create_user("viewer", password="not-used", is_staff=True)
    user.user_permissions.add(Permission.objects.get(content_type__app_label="reports", codename="view_report"))
    client.force_login(user)
    return client


def run_action(
    client: Client, action: str, reports: Iterable[Report], data: Mapping[str, object], *, confirm: bool = True
):  # type: ignore[no-untyped-def]
    """Choose an action on the change list (which shows the confirmation page), then submit that page."""
    selected = [str(report.pk) for report in reports]
    url = reverse(CHANGELIST)
    page = client.post(url, {"action": action, "_selected_action": selected, "index": "0"})
    assert page.status_code == 200, page.status_code
    assert b'name="reason"' in page.content
    if not confirm:
        return page
    return client.post(url, {"action": action, "_selected_action": selected, "select_across": "0", "apply": "1",
                             **data})
