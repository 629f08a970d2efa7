"""The moderation queue in the admin: the "needs review" lists, their bulk actions with one reason, and the figures
on the admin index."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from changelog.models import AdminAction
from reports.flags import AUTO_HIDE_FLAGGERS, flag_add
from reports.lifecycle import update_add
from reports.models import Flag, Report, ReportStatus, ReportUpdate
from reports.services import report_submit

pytestmark = pytest.mark.django_db

REPORTS = "admin:reports_report_changelist"
UPDATES = "admin:reports_reportupdate_changelist"


def submit(title: str, email: str = "known@example.org") -> Report:
    return report_submit(title=title, description="x", report_type="issue", lng=18.42, lat=-33.92, email=email,
                         name="Thandi")


def flag(item: Report | ReportUpdate, count: int = 1, reason: str = "spam", start: int = 0) -> None:
    target = {"report": item} if isinstance(item, Report) else {"update": item}
    for n in range(start, start + count):
        flag_add(**target, reason=reason, session_key=f"b{n}", address=f"10.1.0.{n}")  # type: ignore[arg-type]


@pytest.fixture
def waiting() -> dict[str, Report]:
    earlier = submit("Earlier")
    Report.objects.filter(pk=earlier.pk).update(created_at=timezone.now() - dt.timedelta(days=30),
                                                reviewed_at=timezone.now())
    flagged, hidden, quiet = submit("Flagged once"), submit("Hidden by residents"), submit("Nobody minds")
    flag(flagged, reason="offensive")
    flag(hidden, AUTO_HIDE_FLAGGERS)
    Flag.objects.filter(report=hidden).update(created_at=timezone.now() - dt.timedelta(hours=3))
    held = submit("First time here", email="new@example.org")
    return {"flagged": flagged, "hidden": hidden, "held": held, "quiet": quiet}


def titles(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [report.title for report in response.context["cl"].result_list]


def test_the_queue_lists_what_waits_oldest_first_and_says_why(moderator_client, waiting) -> None:
    response = moderator_client.get(reverse(REPORTS), {"queue": "all"})
    assert response.status_code == 200
    assert titles(response) == ["Hidden by residents", "Flagged once", "First time here"]
    content = response.content.decode()
    assert "Hidden automatically; 3 flags: Spam or advertising (3)" in content
    assert "1 flag: Offensive or abusive (1)" in content
    assert "column-waits_since sorted ascending" in content and "column-created_at sorted" not in content
    assert "First-time sender, held" in content
    for part, expected in (("flagged", ["Flagged once"]), ("hidden", ["Hidden by residents"]),
                           ("held", ["First time here"])):
        assert titles(moderator_client.get(reverse(REPORTS), {"queue": part})) == expected, part


def test_the_report_list_without_the_queue_is_unchanged(moderator_client, waiting) -> None:
    response = moderator_client.get(reverse(REPORTS))
    assert "why it waits" not in response.content.decode()
    assert len(titles(response)) == 5
    assert moderator_client.get(reverse(REPORTS), {"queue": "nonsense"}).status_code in (200, 302)


def test_a_bulk_action_from_the_queue_asks_one_reason_and_empties_it(moderator_client, waiting) -> None:
    queue_url = reverse(REPORTS) + "?queue=all"
    selected = [str(waiting[name].pk) for name in ("flagged", "hidden", "held")]
    page = moderator_client.post(queue_url, {"action": "unflag_reports", "_selected_action": selected, "index": "0"})
    assert page.status_code == 200 and b'name="reason"' in page.content
    response = moderator_client.post(queue_url, {"action": "unflag_reports", "_selected_action": selected,
                                                 "select_across": "0", "apply": "1", "reason": "Checked: all fine"})
    assert response.status_code == 302
    assert titles(moderator_client.get(queue_url)) == []
    assert set(AdminAction.objects.filter(action="unflag").values_list("reason", flat=True)) == {"Checked: all fine"}
    assert AdminAction.objects.filter(action="unflag").count() == 3
    assert Report.objects.filter(status=ReportStatus.PUBLISHED).count() == 5


def test_the_update_queue_lists_flagged_and_hidden_updates(moderator_client, waiting) -> None:
    flagged = update_add(report=waiting["quiet"], text="Still leaking")
    hidden = update_add(report=waiting["quiet"], text="Buy cheap pills")
    flag(flagged, start=10)
    flag(hidden, AUTO_HIDE_FLAGGERS, start=20)
    response = moderator_client.get(reverse(UPDATES), {"queue": "all"})
    assert [u.pk for u in response.context["cl"].result_list] == [flagged.pk, hidden.pk]
    assert "Hidden automatically; 3 flags" in response.content.decode()
    assert moderator_client.get(reverse(UPDATES), {"queue": "held"}).status_code in (200, 302)


def test_the_admin_index_shows_each_part_and_the_oldest_wait_to_moderators(moderator_client, waiting) -> None:
    content = moderator_client.get(reverse("admin:index")).content.decode()
    assert 'id="moderation-queue"' in content
    assert f'href="{reverse(REPORTS)}?queue=hidden">1</a>' in content
    assert f'href="{reverse(REPORTS)}?queue=held">1</a>' in content
    assert f'href="{reverse(UPDATES)}?queue=flagged">0</a>' in content
    assert "3 items wait; the oldest has waited 3" in content  # 3 hours
    # The app's own page is the app list only.
    assert 'id="moderation-queue"' not in moderator_client.get(
        reverse("admin:app_list", args=["reports"])).content.decode()


def test_staff_who_cannot_moderate_do_not_see_the_queue(viewer_client, waiting) -> None:
    assert 'id="moderation-queue"' not in viewer_client.get(reverse("admin:index")).content.decode()
