"""Moderation actions on reports, from the change list (one or many) and from a report's own page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from changelog.models import AdminAction, DataChangeLog
from reports.models import Report, ReportStatus
from tests.admin.conftest import run_action
from tests.factories import ProjectFactory, ReportFactory

pytestmark = pytest.mark.django_db

# action on the change list -> (AdminAction.action, extra form data builder, check on the report afterwards)
ACTIONS = {
    "flag_reports": ("flag", lambda: {}, lambda r, ctx: r.status == ReportStatus.FLAGGED),
    "unflag_reports": ("unflag", lambda: {}, lambda r, ctx: r.status == ReportStatus.PUBLISHED),
    "spam_reports": ("spam", lambda: {}, lambda r, ctx: r.status == ReportStatus.SPAM),
    "link_reports": ("link_project", None, lambda r, ctx: r.project_id == ctx["project"].pk),
    "note_reports": ("note", lambda: {"note": "Called the ward councillor"},
                     lambda r, ctx: "Called the ward councillor" in r.admin_notes),
}


def reports_for(count: int, **kwargs) -> list[Report]:  # type: ignore[no-untyped-def]
    project = ProjectFactory()
    return [ReportFactory(project=project, **kwargs) for _ in range(count)]


@pytest.mark.parametrize("count", [1, 3], ids=["single", "bulk"])
@pytest.mark.parametrize("action", list(ACTIONS))
def test_each_action_writes_one_admin_action_and_one_change_per_report_with_the_reason(
    moderator_client, moderator, action: str, count: int
) -> None:
    status = ReportStatus.FLAGGED if action == "unflag_reports" else ReportStatus.PUBLISHED
    reports = reports_for(count, status=status)
    other = ReportFactory()  # not selected: must stay untouched
    logged, data_for, check = ACTIONS[action]
    context = {"project": ProjectFactory(name="Khayelitsha bulk water main")}
    data = {"project": str(context["project"].pk)} if data_for is None else data_for()
    response = run_action(moderator_client, action, reports, {"reason": "Seen on site visit", **data})
    assert response.status_code == 302

    for report in reports:
        report.refresh_from_db()
        assert check(report, context)
        assert report.reviewed_at is not None
        actions = AdminAction.objects.filter(target_type="report", target_id=str(report.pk))
        assert [(a.action, a.reason, a.admin_name) for a in actions] == [(logged, "Seen on site visit", "thandeka")]
        changes = DataChangeLog.objects.for_entity("report", report.pk).filter(source="admin_action")
        assert changes.count() == 1
        assert changes.get().new_values["action"] == logged
    assert AdminAction.objects.count() == count
    assert not AdminAction.objects.filter(target_id=str(other.pk)).exists()
    other.refresh_from_db()
    assert other.reviewed_at is None


@pytest.mark.parametrize("action", list(ACTIONS))
def test_an_action_without_a_reason_is_refused_and_changes_nothing(moderator_client, action: str) -> None:
    reports = reports_for(2)
    project = ProjectFactory()
    data = {"project": str(project.pk), "note": "A note"}
    response = run_action(moderator_client, action, reports, {"reason": "   ", **data})
    assert response.status_code == 200
    assert "reason" in response.context["form"].errors
    assert not AdminAction.objects.exists()
    assert not DataChangeLog.objects.filter(source="admin_action").exists()
    assert all(report.reviewed_at is None for report in Report.objects.filter(pk__in=[r.pk for r in reports]))


def test_the_confirmation_page_names_the_reports_and_asks_for_a_reason(moderator_client) -> None:
    reports = reports_for(2)
    page = run_action(moderator_client, "spam_reports", reports, {}, confirm=False)
    assert all(report.title.encode() in page.content for report in reports)
    assert b'value="spam_reports"' in page.content
    assert not AdminAction.objects.exists()


def test_a_flagged_report_disappears_from_its_project_page(moderator_client, client) -> None:
    report = ReportFactory(title="Burst pipe at the school")
    page_url = reverse("projects:detail", args=[report.project_id])
    assert b"Burst pipe at the school" in client.get(page_url).content

    run_action(moderator_client, "flag_reports", [report], {"reason": "Offensive photo"})

    assert not Report.objects.published().filter(pk=report.pk).exists()
    moderator_client.logout()
    assert b"Burst pipe at the school" not in client.get(page_url).content


def test_unflagging_publishes_a_report_again(moderator_client) -> None:
    report = ReportFactory(status=ReportStatus.FLAGGED)
    run_action(moderator_client, "unflag_reports", [report], {"reason": "Checked: the photo is fine"})
    assert Report.objects.published().filter(pk=report.pk).exists()


def test_a_project_can_be_found_by_search_without_javascript(moderator_client) -> None:
    report = ReportFactory()
    wanted = ProjectFactory(name="Mthatha reservoir upgrade")
    ProjectFactory(name="Something else entirely")
    url = reverse("admin:reports_report_changelist")
    base = {"action": "link_reports", "_selected_action": [str(report.pk)], "select_across": "0"}
    page = moderator_client.post(url, {**base, "_search": "1", "project_search": "reservoir mthatha",
                                       "reason": "Same street"})
    assert page.status_code == 200
    assert f'type="radio" name="project" value="{wanted.pk}"'.encode() in page.content
    assert b"Something else entirely" not in page.content
    assert b"Same street" in page.content  # what was typed is kept
    assert not AdminAction.objects.exists()

    done = moderator_client.post(url, {**base, "apply": "1", "project": str(wanted.pk), "reason": "Same street"})
    assert done.status_code == 302
    report.refresh_from_db()
    assert report.project_id == wanted.pk
    assert AdminAction.objects.get().metadata["project_id"] == str(wanted.pk)


def test_the_project_picker_searches_through_the_admin_autocomplete(moderator_client) -> None:
    ProjectFactory(name="Mthatha reservoir upgrade")
    response = moderator_client.get(
        reverse("admin:autocomplete"),
        {"app_label": "reports", "model_name": "report", "field_name": "project", "term": "reservoir"},
    )
    assert response.status_code == 200
    assert [item["text"] for item in response.json()["results"]] == ["Mthatha reservoir upgrade"]


def test_a_report_can_be_moderated_from_its_own_page(moderator_client) -> None:
    report = ReportFactory()
    change_url = reverse("admin:reports_report_change", args=[report.pk])
    moderate_url = reverse("admin:reports_report_moderate", args=[report.pk, "spam"])
    assert moderate_url.encode() in moderator_client.get(change_url).content
    assert moderator_client.get(moderate_url).status_code == 200

    response = moderator_client.post(moderate_url, {"apply": "1", "reason": "Advertising"})
    assert response.status_code == 302 and response.url == change_url
    report.refresh_from_db()
    assert report.status == ReportStatus.SPAM
    assert AdminAction.objects.get().reason == "Advertising"


def test_a_reports_page_shows_who_did_what_when_and_why(moderator_client) -> None:
    report = ReportFactory()
    run_action(moderator_client, "flag_reports", [report], {"reason": "Wrong project, checking"})
    run_action(moderator_client, "note_reports", [report], {"reason": "Follow-up", "note": "Phoned the resident"})
    page = moderator_client.get(reverse("admin:reports_report_change", args=[report.pk]))
    content = page.content.decode()
    assert page.status_code == 200
    assert "thandeka" in content and "Wrong project, checking" in content and "Follow-up" in content
    assert content.index("Follow-up") < content.index("Wrong project, checking")  # newest first
    assert len(page.context["audit_changes"]) == 2  # the two moderation changes (factory rows log nothing)
    assert 'id="report-map"' in content


def test_the_report_form_cannot_be_saved_around_the_actions(superuser_client) -> None:
    report = ReportFactory()
    url = reverse("admin:reports_report_change", args=[report.pk])
    assert b'name="_save"' not in superuser_client.get(url).content
    assert superuser_client.post(url, {"title": "changed"}).status_code == 403
    report.refresh_from_db()
    assert report.title != "changed"


def test_the_queue_lists_unreviewed_flagged_and_spam_reports_newest_first(moderator_client) -> None:
    old = ReportFactory(title="older")
    new = ReportFactory(title="newer")
    flagged = ReportFactory(title="flagged one", status=ReportStatus.FLAGGED)
    spam = ReportFactory(title="spam one", status=ReportStatus.SPAM)
    run_action(moderator_client, "flag_reports", [old], {"reason": "x"})
    url = reverse("admin:reports_report_changelist")

    listed = list(moderator_client.get(url).context["cl"].result_list)
    assert listed == sorted(listed, key=lambda r: r.created_at, reverse=True)
    unreviewed = set(moderator_client.get(url, {"review": "unreviewed"}).context["cl"].result_list)
    assert unreviewed == {new, flagged, spam}
    assert set(moderator_client.get(url, {"status__exact": "flagged"}).context["cl"].result_list) == {old, flagged}
    assert set(moderator_client.get(url, {"status__exact": "spam"}).context["cl"].result_list) == {spam}


def test_select_all_across_a_filtered_queue_moderates_every_matching_report_and_no_other(moderator_client) -> None:
    unreviewed = reports_for(4)
    reviewed = ReportFactory()
    run_action(moderator_client, "note_reports", [reviewed], {"reason": "seen", "note": "ok"})
    url = reverse("admin:reports_report_changelist") + "?review=unreviewed"
    on_page = [str(unreviewed[0].pk)]  # the admin sends the ticked rows along with "select all"
    page = moderator_client.post(url, {"action": "spam_reports", "_selected_action": on_page, "select_across": "1",
                                       "index": "0"})
    assert page.status_code == 200 and page.context["total"] == 4
    done = moderator_client.post(url, {"action": "spam_reports", "_selected_action": on_page, "select_across": "1",
                                       "apply": "1", "reason": "Bot wave"})
    assert done.status_code == 302
    assert AdminAction.objects.filter(action="spam", reason="Bot wave").count() == 4
    assert Report.objects.filter(status=ReportStatus.SPAM).count() == 4
    reviewed.refresh_from_db()
    assert reviewed.status == ReportStatus.PUBLISHED
