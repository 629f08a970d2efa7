"""What waits for a moderator (reports.queue): flagged items, items hidden automatically and first-time senders'
reports, oldest waiting first; each leaves once a moderator acts on it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from reports.flags import AUTO_HIDE_FLAGGERS, flag_add
from reports.lifecycle import update_add, update_flag, update_publish
from reports.models import Flag, Report, ReportStatus, ReportUpdate
from reports.queue import Waiting, queue, queue_summary
from reports.services import report_add_note, report_flag, report_mark_spam, report_publish, report_submit

pytestmark = pytest.mark.django_db


def submit(title: str = "Burst pipe", email: str = "", **kwargs: object) -> Report:
    return report_submit(title=title, description="Water everywhere", report_type="issue", lng=18.42, lat=-33.92,
                         email=email, name="Thandi" if email else "", **kwargs)  # type: ignore[arg-type]


def known(email: str = "known@example.org") -> None:
    """An earlier published report from this address: the sender is not a first-time one any more."""
    earlier = submit("Earlier", email=email)
    Report.objects.filter(pk=earlier.pk).update(created_at=timezone.now() - dt.timedelta(days=30))
    report_add_note(reports=[earlier], note="seen", moderator="mod", reason="old report")


def flag(item: Report | ReportUpdate, count: int = 1, start: int = 0) -> None:
    target = {"report": item} if isinstance(item, Report) else {"update": item}
    for n in range(start, start + count):
        flag_add(**target, reason="spam", session_key=f"browser-{n}", address=f"10.0.0.{n}")  # type: ignore[arg-type]


def waiting(part: str | None = None) -> list[int]:
    return list(queue(Report.objects.all(), part).values_list("pk", flat=True))


def waiting_updates(part: str | None = None) -> list[int]:
    return list(queue(ReportUpdate.objects.all(), part).values_list("pk", flat=True))


def test_a_flagged_public_report_waits_until_a_moderator_acts_and_new_flags_bring_it_back() -> None:
    known()
    report = submit(email="known@example.org")
    assert waiting() == []
    flag(report)
    assert waiting(Waiting.FLAGGED) == [report.pk] and waiting(Waiting.HIDDEN) == []
    report_add_note(reports=[report], note="Looked: a fair complaint", moderator="mod", reason="checked")
    assert waiting() == []  # reviewed: the earlier flag no longer makes it wait
    flag(report, start=1)
    assert waiting(Waiting.FLAGGED) == [report.pk]
    report_publish(reports=[report], moderator="mod", reason="fine")
    assert waiting() == [] and not Flag.objects.filter(cleared_at__isnull=True).exists()


def test_a_report_hidden_automatically_waits_until_a_moderator_decides() -> None:
    known()
    kept_hidden, restored, spam = (submit(f"Report {n}", email="known@example.org") for n in range(3))
    for report in (kept_hidden, restored, spam):
        flag(report, AUTO_HIDE_FLAGGERS)
    assert set(waiting(Waiting.HIDDEN)) == {kept_hidden.pk, restored.pk, spam.pk}
    assert waiting(Waiting.FLAGGED) == []
    report_flag(reports=[Report.objects.get(pk=kept_hidden.pk)], moderator="mod", reason="really spam-like")
    report_publish(reports=[Report.objects.get(pk=restored.pk)], moderator="mod", reason="fine")
    report_mark_spam(reports=[Report.objects.get(pk=spam.pk)], moderator="mod", reason="spam")
    assert waiting() == []


def test_a_hide_after_an_earlier_review_still_waits() -> None:
    known()
    report = submit(email="known@example.org")
    report_add_note(reports=[report], note="first look", moderator="mod", reason="checked")
    flag(report, AUTO_HIDE_FLAGGERS)
    assert waiting(Waiting.HIDDEN) == [Report.objects.get(status=ReportStatus.FLAGGED).pk] == [report.pk]


def test_a_first_time_senders_report_is_held_within_the_hold_unless_reviewed(settings) -> None:  # type: ignore[no-untyped-def]
    settings.ALERT_NEW_SENDER_HOLD_MINUTES = 60
    known()
    new_sender = submit(email="new@example.org")
    anonymous = submit()
    known_sender = submit(email="known@example.org")
    assert set(waiting(Waiting.HELD)) == {new_sender.pk, anonymous.pk}
    assert known_sender.pk not in waiting()
    report_publish(reports=[anonymous], moderator="mod", reason="checked with the ward councillor")
    assert waiting(Waiting.HELD) == [new_sender.pk]
    later = timezone.now() + dt.timedelta(minutes=61)
    assert list(queue(Report.objects.all(), Waiting.HELD, now=later)) == []
    # Once one of its reports is published and reviewed, the next report from the address is not held.
    assert submit("Second", email="new@example.org").pk not in waiting(Waiting.HELD)


def test_a_known_sender_is_known_however_they_write_their_address(settings) -> None:  # type: ignore[no-untyped-def]
    settings.ALERT_NEW_SENDER_HOLD_MINUTES = 60
    known("Thandi.Dube@Example.org")
    assert submit(email="Thandi.Dube@Example.org").pk not in waiting(Waiting.HELD)
    assert submit(email=" thandi.dube@example.ORG ").pk not in waiting(Waiting.HELD)


def test_flagged_and_automatically_hidden_updates_wait_until_a_moderator_acts() -> None:
    known()
    report = submit(email="known@example.org")
    flagged = update_add(report=report, text="Still leaking")
    hidden = update_add(report=report, text="Buy cheap pills")
    flag(flagged)
    flag(hidden, AUTO_HIDE_FLAGGERS)
    assert waiting_updates(Waiting.FLAGGED) == [flagged.pk]
    assert waiting_updates(Waiting.HIDDEN) == [hidden.pk]
    assert waiting_updates(Waiting.HELD) == []
    update_publish(updates=[flagged], moderator="mod", reason="fine")
    update_flag(updates=[ReportUpdate.objects.get(pk=hidden.pk)], moderator="mod", reason="spam")
    assert waiting_updates() == []


def test_the_queue_puts_the_item_waiting_longest_first_and_the_summary_counts_each_part() -> None:
    known()
    old_report, recent_flag = submit("Old", email="known@example.org"), submit("Flag", email="known@example.org")
    Report.objects.filter(pk=old_report.pk).update(created_at=timezone.now() - dt.timedelta(days=300))
    flag(recent_flag, AUTO_HIDE_FLAGGERS)
    flag(old_report)  # an old report flagged after: it waits since its flag, not since it was written
    held = submit("New sender", email="first@example.org")
    update = update_add(report=Report.objects.get(pk=old_report.pk), text="Not fixed")
    flag(update, start=5)
    Flag.objects.filter(report=recent_flag).update(created_at=timezone.now() - dt.timedelta(hours=2))
    assert waiting() == [recent_flag.pk, old_report.pk, held.pk]
    summary = queue_summary()
    assert dict(summary.reports) == {"flagged": 1, "hidden": 1, "held": 1}
    assert dict(summary.updates) == {"flagged": 1, "hidden": 0}
    assert summary.total == 4
    assert summary.oldest is not None
    assert abs(summary.oldest - (timezone.now() - dt.timedelta(hours=2))) < dt.timedelta(minutes=1)


def test_an_empty_queue_has_no_oldest_item() -> None:
    summary = queue_summary()
    assert summary.total == 0 and summary.oldest is None


def test_a_flagged_first_time_senders_report_waits_in_two_parts_and_counts_once() -> None:
    report = submit(email="new@example.org")
    flag(report)
    assert waiting(Waiting.HELD) == waiting(Waiting.FLAGGED) == waiting() == [report.pk]
    summary = queue_summary()
    assert summary.reports["held"] == summary.reports["flagged"] == 1 and summary.total == 1
