""""This affects me too": once per browser, once per address a day, duplicates counted on their original."""

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from alerts.matching import alert_items_match
from alerts.models import AlertItem, AlertKind
from alerts.services import AlertTarget, alert_confirm, alert_subscribe
from changelog.models import DataChangeLog
from reports.affected import AlreadyAffected, address_key, affected_add, browser_key
from reports.lifecycle import report_mark_duplicate, report_set_state
from reports.models import Affected, ReportType
from tests.factories import ProjectFactory, ReportFactory

pytestmark = pytest.mark.django_db


def test_one_browser_counts_once_and_one_address_once_a_day() -> None:
    report = ReportFactory(report_type=ReportType.ISSUE)
    assert affected_add(report=report, session_key="browser-1", address="10.0.0.1").count == 1
    with pytest.raises(AlreadyAffected):  # same browser, another network
        affected_add(report=report, session_key="browser-1", address="10.9.9.9")
    with pytest.raises(AlreadyAffected):  # another browser on the same address, the same day
        affected_add(report=report, session_key="browser-2", address="10.0.0.1")
    Affected.objects.update(day=timezone.localdate() - dt.timedelta(days=1))
    assert affected_add(report=report, session_key="browser-2", address="10.0.0.1").count == 2  # the next day
    report.refresh_from_db()
    assert report.affected_count == 2


def test_nothing_raw_is_stored_and_the_change_log_has_the_count() -> None:
    report = ReportFactory(report_type=ReportType.ISSUE)
    affected_add(report=report, session_key="abc-session", address="198.51.100.7")
    row = Affected.objects.get()
    assert row.browser_key == browser_key("abc-session") and row.address_key == address_key("198.51.100.7")
    assert "198.51.100.7" not in row.address_key and "abc-session" not in row.browser_key
    entry = DataChangeLog.objects.filter(entity_id=str(report.pk)).latest("pk")
    assert entry.field_changes == ["affected_count"] and entry.new_values == {"affected_count": 1}


def test_a_project_counts_too_and_its_count_is_not_alert_news() -> None:
    project = ProjectFactory()
    alert = alert_subscribe(email="p@example.org", target=AlertTarget(kind=AlertKind.PROJECT, project=project),
                            frequency="immediate", language="en")
    alert_confirm(alert=alert)
    alert_items_match()
    assert affected_add(project=project, session_key="s", address="10.0.0.2").count == 1
    project.refresh_from_db()
    assert project.affected_count == 1
    alert_items_match()
    assert not AlertItem.objects.filter(alert=alert).exists()
    with pytest.raises(ValueError):
        affected_add(report=ReportFactory(), project=project, address="10.0.0.3")


def test_a_tap_on_a_duplicate_counts_on_the_original_and_counts_add_up() -> None:
    original = ReportFactory(report_type=ReportType.ISSUE)
    duplicate = ReportFactory(report_type=ReportType.ISSUE)
    affected_add(report=original, session_key="a", address="10.0.0.1")
    affected_add(report=duplicate, session_key="b", address="10.0.0.2")
    affected_add(report=duplicate, session_key="a", address="10.0.0.1")  # the same person as on the original
    report_mark_duplicate(reports=[duplicate], original=original, moderator="m", reason="same leak")
    original.refresh_from_db()
    # People a and b once each, plus the duplicate's reporter.
    assert original.affected_count == 3
    result = affected_add(report=duplicate, session_key="c", address="10.0.0.3")
    assert result.report is not None and result.report.pk == original.pk and result.count == 4
    report_set_state(reports=[duplicate], state="open", moderator="m", reason="a different leak after all")
    original.refresh_from_db()
    assert original.affected_count == 2  # a and c on the original itself


@pytest.mark.skipif(connection.vendor != "postgresql", reason="two writers at once need PostgreSQL's row locks")
@pytest.mark.django_db(transaction=True)
def test_two_taps_at_once_from_one_browser_count_once() -> None:
    # No project: a transactional test starts from empty tables, without the reference municipalities.
    report = ReportFactory(report_type=ReportType.ISSUE, project=None)
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def tap() -> None:
        barrier.wait()
        try:
            affected_add(report=report, session_key="same", address="10.0.0.1")
            outcomes.append("counted")
        except AlreadyAffected:
            outcomes.append("already")
        finally:
            connection.close()

    threads = [threading.Thread(target=tap) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    report.refresh_from_db()
    assert sorted(outcomes) == ["already", "counted"] and report.affected_count == 1
