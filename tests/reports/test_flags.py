""""Report abuse": three distinct flaggers hide a report or an update until a moderator decides."""

import threading

import pytest
from django.db import connection
from django.test import Client

from changelog.models import AdminAction, DataChangeLog
from reports.flags import AUTO_HIDE_FLAGGERS, AlreadyFlagged, flag_add
from reports.lifecycle import update_add, update_publish
from reports.models import Flag, ReportStatus, ReportType
from reports.services import ReportError, report_publish
from tests.factories import ReportFactory

pytestmark = pytest.mark.django_db


def flaggers(n: int, start: int = 0) -> list[dict[str, str]]:
    return [{"session_key": f"browser-{i}", "address": f"10.0.0.{i}"} for i in range(start, start + n)]


def test_three_distinct_flaggers_hide_a_report_as_the_system_not_as_a_review() -> None:
    report = ReportFactory(report_type=ReportType.ISSUE)
    first, second, third = flaggers(3)
    assert flag_add(report=report, reason="spam", **first).hidden is False
    assert flag_add(report=report, reason="offensive", **second).hidden is False
    assert flag_add(report=report, reason="spam", **third).hidden is True
    report.refresh_from_db()
    assert report.status == ReportStatus.FLAGGED and report.reviewed_at is None  # still waiting for a moderator
    action = AdminAction.objects.get(target_id=str(report.pk), action="auto_hide")
    assert action.admin_name == "system" and action.metadata["flag_reasons"] == {"spam": 2, "offensive": 1}
    assert "3 residents flagged it" in action.reason
    assert DataChangeLog.objects.filter(entity_id=str(report.pk), source="admin_action").latest(
        "pk").new_values["status"] == "flagged"
    client = Client()
    assert client.get(f"/reports/{report.pk}/").status_code == 404
    assert client.get("/api/v1/reports").json()["count"] == 0


def test_one_flag_per_browser_and_per_address() -> None:
    report = ReportFactory(report_type=ReportType.ISSUE)
    flag_add(report=report, reason="spam", session_key="b1", address="10.0.0.1")
    with pytest.raises(AlreadyFlagged):
        flag_add(report=report, reason="spam", session_key="b1", address="10.9.9.9")
    with pytest.raises(AlreadyFlagged):
        flag_add(report=report, reason="spam", session_key="b2", address="10.0.0.1")
    assert Flag.objects.count() == 1


def test_a_restored_report_cannot_be_hidden_again_by_the_same_people() -> None:
    report = ReportFactory(report_type=ReportType.ISSUE)
    for person in flaggers(AUTO_HIDE_FLAGGERS):
        flag_add(report=report, reason="offensive", **person)
    report.refresh_from_db()
    report_publish(reports=[report], moderator="thandeka", reason="Not offensive: a fair complaint")
    report.refresh_from_db()
    assert report.status == ReportStatus.PUBLISHED
    assert not Flag.objects.filter(report=report, cleared_at__isnull=True).exists()
    for person in flaggers(AUTO_HIDE_FLAGGERS):
        with pytest.raises(AlreadyFlagged):
            flag_add(report=report, reason="offensive", **person)
    # New people count from zero.
    results = [flag_add(report=report, reason="spam", **person) for person in flaggers(3, start=10)]
    assert [r.flags for r in results] == [1, 2, 3] and results[-1].hidden


def test_updates_are_hidden_the_same_way_and_their_state_change_undone() -> None:
    report = ReportFactory(report_type=ReportType.ISSUE)
    update = update_add(report=report, text="Fixed (it is not)", fixed=True)
    for person in flaggers(3):
        flag_add(update=update, reason="spam", **person)
    update.refresh_from_db()
    report.refresh_from_db()
    assert update.status == ReportStatus.FLAGGED and update.reviewed_at is None
    assert report.state == "open"  # the hidden update's "fixed" is undone
    update_publish(updates=[update], moderator="m", reason="checked")
    assert not Flag.objects.filter(update=update, cleared_at__isnull=True).exists()


def test_bad_flags_name_the_field() -> None:
    report = ReportFactory(report_type=ReportType.ISSUE)
    for kwargs, field in (({"reason": "boring"}, "reason"), ({"reason": "other"}, "text"),
                          ({"reason": "other", "text": "x" * 1001}, "text")):
        with pytest.raises(ReportError) as error:
            flag_add(report=report, session_key="s", address="10.0.0.1", **kwargs)
        assert error.value.field == field
    hidden = ReportFactory(status=ReportStatus.SPAM)
    with pytest.raises(ReportError):
        flag_add(report=hidden, reason="spam", session_key="s", address="10.0.0.1")
    assert not Flag.objects.exists()


def _flag_at_once(count: int, **target: object) -> list[str]:
    """`count` distinct residents flag the same item at the same moment, each on its own connection."""
    barrier = threading.Barrier(count)
    outcomes: list[str] = []

    def flag(n: int) -> None:
        barrier.wait()
        try:
            result = flag_add(**target, reason="offensive", session_key=f"race-{n}",  # type: ignore[arg-type]
                              address=f"10.7.0.{n}")
            outcomes.append("hidden" if result.hidden else "counted")
        finally:
            connection.close()

    threads = [threading.Thread(target=flag, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.skipif(connection.vendor != "postgresql", reason="writers at once need PostgreSQL's row locks")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("at_once", [AUTO_HIDE_FLAGGERS, AUTO_HIDE_FLAGGERS + 1])
def test_flags_arriving_at_once_hide_the_item_exactly_once(at_once: int) -> None:
    # Rounds, because one race may by chance run in turn; no project: a transactional test has no municipalities.
    for _round in range(5):
        report = ReportFactory(report_type=ReportType.ISSUE, project=None)
        outcomes = _flag_at_once(at_once, report=report)
        report.refresh_from_db()
        hides = AdminAction.objects.filter(target_type="report", target_id=str(report.pk), action="auto_hide")
        assert report.status == ReportStatus.FLAGGED and hides.count() == 1, outcomes
        assert len(outcomes) == at_once and Flag.objects.filter(report=report).count() == at_once
        update = update_add(report=ReportFactory(report_type=ReportType.ISSUE, project=None), text="Cheap pills")
        _flag_at_once(at_once, update=update)
        update.refresh_from_db()
        assert update.status == ReportStatus.FLAGGED
        assert AdminAction.objects.filter(target_type="report_update", target_id=str(update.pk),
                                          action="auto_hide").count() == 1
