"""The Moderator group (a data migration) holds exactly what moderation needs; anything else is refused."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from changelog.models import AdminAction
from tests.factories import ReportFactory, municipality

pytestmark = pytest.mark.django_db

MODERATOR_PERMISSIONS = {
    "reports.view_report", "reports.change_report", "reports.view_reportphoto", "reports.view_contributor",
    "changelog.view_adminaction", "projects.view_project", "projects.change_project", "projects.view_budget",
    "municipalities.view_municipality", "changelog.view_datachangelog", "ingestion.view_ingestionrun",
    # reports/migrations/0005: updates are moderated like reports
    "reports.view_reportupdate", "reports.change_reportupdate", "reports.view_updatephoto",
    "reports.view_flag",  # 0012: residents' flags
    "reports.view_ban", "reports.add_ban", "reports.change_ban",  # 0014: the ban list (removal needs "change")
    "open311.view_open311request",  # open311/0002: which key posted a report
}


def test_the_moderator_group_has_exactly_the_moderation_permissions() -> None:
    group = Group.objects.get(name="Moderator")
    held = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}
    assert held == MODERATOR_PERMISSIONS
    assert not any(name.split(".")[1].startswith("delete_") for name in held)


def test_a_moderator_reaches_the_moderation_pages(moderator_client) -> None:
    report = ReportFactory()
    for name in ("reports_report_changelist", "projects_project_changelist", "changelog_adminaction_changelist",
                 "changelog_datachangelog_changelist", "ingestion_ingestionrun_changelist",
                 "municipalities_municipality_changelist"):
        assert moderator_client.get(reverse(f"admin:{name}")).status_code == 200, name
    assert moderator_client.get(reverse("admin:reports_report_change", args=[report.pk])).status_code == 200
    assert moderator_client.get(
        reverse("admin:projects_project_change", args=[report.project_id])
    ).status_code == 200


@pytest.mark.parametrize("url_name", [
    "admin:auth_user_changelist", "admin:auth_user_add", "admin:auth_group_changelist",
    "admin:django_q_schedule_changelist", "admin:django_q_failure_changelist", "admin:reports_affected_changelist",
    "admin:apikeys_apikey_changelist", "admin:apikeys_apikey_add",
])
def test_a_moderator_is_refused_user_management_schedules_and_tasks(moderator_client, url_name: str) -> None:
    assert moderator_client.get(reverse(url_name)).status_code == 403


def test_a_moderator_cannot_delete_a_report(moderator_client) -> None:
    report = ReportFactory()
    url = reverse("admin:reports_report_delete", args=[report.pk])
    assert moderator_client.get(url).status_code == 403
    assert moderator_client.post(url, {"post": "yes"}).status_code == 403
    assert b"delete_selected" not in moderator_client.get(reverse("admin:reports_report_changelist")).content


def test_a_moderator_cannot_edit_a_municipality(moderator_client) -> None:
    cpt = municipality("CPT")
    url = reverse("admin:municipalities_municipality_change", args=[cpt.pk])
    page = moderator_client.get(url)
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert moderator_client.post(url, {"name": "Renamed"}).status_code == 403
    cpt.refresh_from_db()
    assert cpt.name != "Renamed"


def test_staff_without_the_change_permission_cannot_moderate(viewer_client) -> None:
    report = ReportFactory()
    changelist = reverse("admin:reports_report_changelist")
    page = viewer_client.get(changelist)
    assert page.status_code == 200 and b"flag_reports" not in page.content

    moderate = reverse("admin:reports_report_moderate", args=[report.pk, "flag"])
    assert viewer_client.get(moderate).status_code == 403
    assert viewer_client.post(moderate, {"apply": "1", "reason": "x"}).status_code == 403
    viewer_client.post(changelist, {"action": "flag_reports", "_selected_action": [str(report.pk)],
                                    "select_across": "0", "apply": "1", "reason": "x"})
    assert not AdminAction.objects.exists()


def test_staff_without_any_permission_is_refused_the_report_queue(client, django_user_model) -> None:
    client.force_login(django_user_model.objects.create_user("nobody", password="not-used", is_staff=True))
    assert client.get(reverse("admin:reports_report_changelist")).status_code == 403
