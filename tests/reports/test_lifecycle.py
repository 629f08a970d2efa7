"""Report states and updates: the rules of reports.states as the services apply them, on both databases."""

import pytest

from changelog.models import AdminAction, ChangeSource, DataChangeLog
from reports.lifecycle import (
    report_mark_duplicate,
    report_set_state,
    update_add,
    update_flag,
    update_publish,
)
from reports.models import ReportState, ReportStatus, ReportType, StateSetBy, UpdateEffect
from reports.services import PhotoUpload, ReportError, report_submit
from tests.factories import ReportFactory
from tests.reports.test_services import jpeg_with_gps

pytestmark = pytest.mark.django_db


def problem(**kwargs):
    return ReportFactory(report_type=ReportType.ISSUE, **kwargs)


def test_problems_start_open_and_news_starts_noted() -> None:
    issue = report_submit(title="Leak", description="d", report_type="issue", lng=18.4, lat=-33.9)
    concern = report_submit(title="Cracks", description="d", report_type="quality_concern", lng=18.4, lat=-33.9)
    progress = report_submit(title="Pipes", description="d", report_type="progress_update", lng=18.4, lat=-33.9)
    done = report_submit(title="Done", description="d", report_type="completion", lng=18.4, lat=-33.9)
    assert (issue.state, concern.state) == (ReportState.OPEN, ReportState.OPEN)
    assert (progress.state, done.state) == (ReportState.NOTED, ReportState.NOTED)
    assert DataChangeLog.objects.filter(entity_id=str(issue.pk)).get().new_values["state"] == "open"


def test_a_resident_update_saying_fixed_marks_the_problem_fixed_says_a_resident() -> None:
    report = problem()
    update = update_add(report=report, text="The leak was repaired today.", fixed=True, name="Ayanda",
                        email="ayanda@example.org")
    report.refresh_from_db()
    assert (report.state, report.state_set_by) == (ReportState.FIXED, StateSetBy.RESIDENT)
    assert report.state_changed_at == update.created_at
    assert (update.effect, update.previous_state) == (UpdateEffect.FIXED, ReportState.OPEN)
    entry = DataChangeLog.objects.filter(entity_id=str(report.pk)).latest("pk")
    assert entry.source == ChangeSource.COMMUNITY_REPORT
    assert set(entry.field_changes) == {"state", "state_set_by", "update_id", "update_name", "update_text"}
    assert entry.old_values["state"] == "open" and entry.new_values["state"] == "fixed"
    assert "ayanda@example.org" not in str(entry.new_values)


def test_an_update_without_fixed_leaves_the_state_and_is_logged_with_its_text() -> None:
    report = problem()
    update = update_add(report=report, text="Still leaking on Tuesday.")
    report.refresh_from_db()
    assert report.state == ReportState.OPEN and update.effect == UpdateEffect.NONE
    entry = DataChangeLog.objects.filter(entity_id=str(report.pk)).latest("pk")
    assert entry.field_changes == ["update_id", "update_name", "update_text"]
    assert entry.new_values["update_text"] == "Still leaking on Tuesday."


def test_only_the_reporter_reopens_a_fixed_problem() -> None:
    report = problem(state=ReportState.FIXED)
    stranger = update_add(report=report, text="Not fixed at all", fixed=False)
    report.refresh_from_db()
    assert report.state == ReportState.FIXED and stranger.effect == UpdateEffect.NONE
    reporter = update_add(report=report, text="It broke again the next day", fixed=False, by_reporter=True)
    report.refresh_from_db()
    assert (report.state, report.state_set_by) == (ReportState.OPEN, StateSetBy.REPORTER)
    assert reporter.effect == UpdateEffect.REOPENED


def test_news_and_duplicates_cannot_be_marked_fixed() -> None:
    with pytest.raises(ReportError) as error:
        update_add(report=ReportFactory(report_type=ReportType.PROGRESS_UPDATE), text="done", fixed=True)
    assert error.value.field == "fixed"
    original = problem()
    duplicate = problem(state=ReportState.DUPLICATE, duplicate_of=original)
    with pytest.raises(ReportError) as error:
        update_add(report=duplicate, text="done", fixed=True)
    assert error.value.field == "fixed"


def test_updates_are_checked_before_anything_is_written() -> None:
    report = problem()
    for kwargs, field in (({"text": "  "}, "text"), ({"text": "x" * 5001}, "text"),
                          ({"text": "ok", "photos": [PhotoUpload(b"not an image", "a.jpg")]}, "photos"),
                          ({"text": "ok", "photos": [PhotoUpload(jpeg_with_gps())] * 4}, "photos")):
        with pytest.raises(ReportError) as error:
            update_add(report=report, **kwargs)
        assert error.value.field == field
    hidden = problem(status=ReportStatus.FLAGGED)
    with pytest.raises(ReportError):
        update_add(report=hidden, text="ok")
    assert not report.updates.exists() and not hidden.updates.exists()


def test_update_photos_are_stored_without_exif() -> None:
    from PIL import Image

    update = update_add(report=problem(), text="Photo of the repair", photos=[PhotoUpload(jpeg_with_gps(), "a.jpg")])
    photo = update.photos.get()
    with Image.open(photo.image.path) as stored:
        assert not stored.getexif() and max(stored.size) == 2048


def test_a_moderator_sets_any_state_with_a_reason_and_an_admin_action() -> None:
    report = problem()
    with pytest.raises(ReportError):
        report_set_state(reports=[report], state=ReportState.IN_PROGRESS, moderator="thandeka", reason=" ")
    with pytest.raises(ReportError):
        report_set_state(reports=[report], state=ReportState.DUPLICATE, moderator="thandeka", reason="r")
    report_set_state(reports=[report], state=ReportState.IN_PROGRESS, moderator="thandeka",
                     reason="The municipality confirmed a team is on site")
    report.refresh_from_db()
    assert (report.state, report.state_set_by) == (ReportState.IN_PROGRESS, StateSetBy.MODERATOR)
    action = AdminAction.objects.get(target_id=str(report.pk), action="set_state")
    assert action.admin_name == "thandeka" and action.metadata["old"]["state"] == "open"
    entry = DataChangeLog.objects.filter(entity_id=str(report.pk)).latest("pk")
    assert entry.source == ChangeSource.ADMIN_ACTION and entry.new_values["state"] == "in_progress"


def test_marking_duplicates_points_to_the_first_original_and_lists_them() -> None:
    original, second, third = problem(), problem(), problem()
    report_mark_duplicate(reports=[second], original=original, moderator="m", reason="same leak")
    report_mark_duplicate(reports=[third], original=second, moderator="m", reason="same leak")
    for report in (second, third):
        report.refresh_from_db()
        assert (report.state, report.duplicate_of_id) == (ReportState.DUPLICATE, original.pk)
    assert set(original.duplicates.values_list("pk", flat=True)) == {second.pk, third.pk}
    with pytest.raises(ReportError) as error:
        report_mark_duplicate(reports=[original], original=original, moderator="m", reason="x")
    assert error.value.field == "original"
    # Marking the original a duplicate of another moves its duplicates along with it.
    fourth = problem()
    report_mark_duplicate(reports=[original], original=fourth, moderator="m", reason="older report")
    assert set(fourth.duplicates.values_list("pk", flat=True)) == {original.pk, second.pk, third.pk}
    # Setting another state clears the link.
    report_set_state(reports=[second], state=ReportState.OPEN, moderator="m", reason="not the same after all")
    second.refresh_from_db()
    assert second.duplicate_of_id is None


def test_hiding_an_update_that_said_fixed_puts_the_state_back() -> None:
    report = problem()
    update = update_add(report=report, text="Fixed!", fixed=True)
    update_flag(updates=[update], moderator="m", reason="The leak is visibly still there")
    report.refresh_from_db()
    update.refresh_from_db()
    assert update.status == ReportStatus.FLAGGED
    assert (report.state, report.state_set_by) == (ReportState.OPEN, StateSetBy.MODERATOR)
    assert AdminAction.objects.get(target_type="report_update", target_id=str(update.pk)).action == "flag"
    entry = DataChangeLog.objects.filter(entity_id=str(report.pk)).latest("pk")
    assert entry.new_values["update_status"] == "flagged" and entry.new_values["state"] == "open"
    # Publishing it again does not re-apply the state: a moderator decides that.
    update_publish(updates=[update], moderator="m", reason="mistake")
    report.refresh_from_db()
    assert report.state == ReportState.OPEN


def test_hiding_an_old_update_leaves_a_state_set_since() -> None:
    report = problem()
    update = update_add(report=report, text="Fixed!", fixed=True)
    report_set_state(reports=[report], state=ReportState.NOT_FIXED, moderator="m", reason="closed by the city")
    update_flag(updates=[update], moderator="m", reason="spam")
    report.refresh_from_db()
    assert report.state == ReportState.NOT_FIXED
