"""Moderators set report states, mark duplicates and moderate updates, each with a reason, from the admin."""

from __future__ import annotations

import pytest
from django.urls import reverse

from changelog.models import AdminAction
from reports.lifecycle import update_add
from reports.models import ReportState, ReportStatus, ReportType, StateSetBy
from tests.admin.conftest import run_action
from tests.factories import ReportFactory

pytestmark = pytest.mark.django_db


def test_a_moderator_sets_the_state_of_several_reports(moderator_client) -> None:
    reports = [ReportFactory(report_type=ReportType.ISSUE) for _ in range(3)]
    response = run_action(moderator_client, "state_reports", reports,
                          {"state": "in_progress", "reason": "Work order 1234 issued"})
    assert response.status_code == 302
    for report in reports:
        report.refresh_from_db()
        assert (report.state, report.state_set_by) == (ReportState.IN_PROGRESS, StateSetBy.MODERATOR)
    assert AdminAction.objects.filter(action="set_state", reason="Work order 1234 issued").count() == 3


def test_the_state_form_offers_no_duplicate_and_asks_for_a_reason(moderator_client) -> None:
    report = ReportFactory(report_type=ReportType.ISSUE)
    page = run_action(moderator_client, "state_reports", [report], {}, confirm=False)
    assert b'value="in_progress"' in page.content and b'value="duplicate"' not in page.content
    response = run_action(moderator_client, "state_reports", [report], {"state": "fixed", "reason": " "})
    assert response.status_code == 200 and b"Give a reason" in response.content
    report.refresh_from_db()
    assert report.state == ReportState.OPEN


def test_marking_a_duplicate_from_the_report_page(moderator_client) -> None:
    original, duplicate = ReportFactory(report_type=ReportType.ISSUE), ReportFactory(report_type=ReportType.ISSUE)
    url = reverse("admin:reports_report_moderate", args=[duplicate.pk, "mark_duplicate"])
    assert moderator_client.get(reverse("admin:reports_report_change", args=[duplicate.pk])).content.count(
        url.encode()) == 1
    response = moderator_client.post(url, {"apply": "1", "original": "999999", "reason": "same"})
    assert response.status_code == 200 and b"No report has this number" in response.content
    response = moderator_client.post(url, {"apply": "1", "original": str(original.pk), "reason": "Same leak"})
    assert response.status_code == 302
    duplicate.refresh_from_db()
    assert (duplicate.state, duplicate.duplicate_of_id) == (ReportState.DUPLICATE, original.pk)
    action = AdminAction.objects.get(action="mark_duplicate")
    assert action.metadata["original_id"] == str(original.pk)


def test_updates_are_flagged_with_a_reason_from_their_change_list(moderator_client) -> None:
    report = ReportFactory(report_type=ReportType.ISSUE)
    updates = [update_add(report=report, text=f"spam {n}") for n in range(2)]
    url = reverse("admin:reports_reportupdate_changelist")
    selected = [str(u.pk) for u in updates]
    page = moderator_client.post(url, {"action": "flag_updates", "_selected_action": selected, "index": "0"})
    assert page.status_code == 200 and b"This applies to 2 updates" in page.content
    response = moderator_client.post(url, {"action": "flag_updates", "_selected_action": selected,
                                           "select_across": "0", "apply": "1", "reason": "advertising"})
    assert response.status_code == 302
    for update in updates:
        update.refresh_from_db()
        assert update.status == ReportStatus.FLAGGED
    assert AdminAction.objects.filter(target_type="report_update", action="flag").count() == 2
    change = moderator_client.get(reverse("admin:reports_reportupdate_change", args=[updates[0].pk]))
    assert change.status_code == 200 and b"advertising" in change.content


def test_staff_without_the_change_permission_cannot_moderate_updates(viewer_client) -> None:
    update = update_add(report=ReportFactory(report_type=ReportType.ISSUE), text="x")
    url = reverse("admin:reports_reportupdate_moderate", args=[update.pk, "flag"])
    assert viewer_client.post(url, {"apply": "1", "reason": "r"}).status_code == 403
    update.refresh_from_db()
    assert update.status == ReportStatus.PUBLISHED
