"""Moderators edit what residents wrote: originals kept once, each field put back on its own, the change log
rewritten so that removed text is public nowhere, and the stale-form guard (reports.editing)."""

from __future__ import annotations

import json

import pytest

from bukaamanzi.lib.geo import snap_to_grid
from changelog.models import AdminAction, DataChangeLog, EntityType
from reports.editing import (
    ModeratedSince,
    latest_action_id,
    report_edit,
    report_revert_field,
    update_edit,
    update_revert_field,
)
from reports.lifecycle import report_set_state, update_add
from reports.models import Report, ReportState, ReportStatus, ReportType, StateSetBy
from reports.services import ReportError, report_flag, report_submit
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db

PHONE = "082 555 0199"
NAME = "Thandi Mokoena"


def submitted(**values: object) -> Report:
    fields: dict[str, object] = {
        "title": f"Burst pipe, call me on {PHONE}", "description": f"Water everywhere. {NAME}, {PHONE}.",
        "report_type": ReportType.ISSUE, "lng": 18.43, "lat": -33.93, "name": NAME,
        "email": "thandi@example.org", "project": ProjectFactory()}
    fields.update(values)
    return report_submit(**fields)  # type: ignore[arg-type]


def edit(report: Report, **values: object) -> Report:
    return report_edit(report=report, moderator="sipho", reason="Phone number removed",
                       started=latest_action_id(target_type="report", target_id=report.pk), **values)  # type: ignore[arg-type]


def revert(report: Report, field: str) -> Report:
    return report_revert_field(report=report, field=field, moderator="sipho", reason="It was fine",
                               started=latest_action_id(target_type="report", target_id=report.pk))


def public_log_text() -> str:
    return json.dumps([[row.old_values, row.new_values] for row in DataChangeLog.objects.all()], ensure_ascii=False)


def test_an_edit_keeps_each_fields_first_original_only_once() -> None:
    report = submitted()
    original_title = report.title
    edit(report, title="Burst pipe on Main Road")
    report = edit(report, title="Burst pipe on Main Road, Athlone")
    report.refresh_from_db()
    assert report.title == "Burst pipe on Main Road, Athlone"
    assert report.original_values == {"title": original_title}
    assert report.moderated_at is not None
    actions = AdminAction.objects.filter(target_type="report", target_id=str(report.pk), action="edit")
    assert [action.metadata for action in actions] == [{"fields": ["title"]}] * 2


def test_each_field_is_put_back_on_its_own() -> None:
    report = submitted()
    original_title, original_description = report.title, report.description
    edit(report, title="Burst pipe", description="Water everywhere.", contributor_name="T.")
    report = revert(report, "title")
    report.refresh_from_db()
    assert report.title == original_title
    assert (report.description, report.contributor_name) == ("Water everywhere.", "T.")
    assert set(report.original_values) == {"description", "contributor_name"}
    assert report.original_values["description"] == original_description
    assert report.moderated_at is not None
    revert(report, "description")
    revert(report, "contributor_name")
    report.refresh_from_db()
    assert (report.description, report.contributor_name, report.original_values) == (original_description, NAME, {})
    assert report.moderated_at is None  # as the sender wrote it again: nothing to say "moderated" about
    assert AdminAction.objects.filter(action="revert").count() == 3
    with pytest.raises(ReportError) as refused:
        revert(report, "title")
    assert refused.value.field == "field"


def test_an_edit_that_changes_nothing_is_refused() -> None:
    report = submitted()
    for values in ({}, {"title": report.title, "description": f"  {report.description} ", "lng": 18.43,
                        "lat": -33.93, "report_type": ReportType.ISSUE, "contributor_name": NAME}):
        with pytest.raises(ReportError) as refused:
            edit(report, **values)
        assert refused.value.field == "edit"
    assert not AdminAction.objects.filter(target_id=str(report.pk)).exists()


def test_bad_values_are_refused_naming_the_field() -> None:
    report = submitted()
    for values, field in (({"lng": 2.35, "lat": 48.85}, "location"), ({"lng": 18.5}, "location"),
                          ({"title": "  "}, "title"), ({"title": "x" * 201}, "title"),
                          ({"report_type": "gossip"}, "report_type"), ({"description": ""}, "description")):
        with pytest.raises(ReportError) as refused:
            edit(report, **values)
        assert refused.value.field == field, values
    with pytest.raises(ReportError) as refused:
        report_edit(report=report, moderator="m", reason=" ", started=0, title="New")
    assert refused.value.field == "reason"
    report.refresh_from_db()
    assert report.original_values == {} and report.moderated_at is None


def test_a_moved_rough_report_is_still_shown_only_roughly_and_its_exact_point_is_kept() -> None:
    report = submitted(rough_location=True, lng=28.047305, lat=-26.204103)
    report = edit(report, lng=28.051, lat=-26.2101)
    report.refresh_from_db()
    assert (report.location.x, report.location.y) == (28.051, -26.2101)
    assert (report.public_location.x, report.public_location.y) == snap_to_grid(lng=28.051, lat=-26.2101)
    assert report.original_values == {"location": [28.047305, -26.204103]}
    assert DataChangeLog.objects.latest("pk").new_values["location"] == list(snap_to_grid(lng=28.051, lat=-26.2101))
    assert "28.047305" not in public_log_text() and "28.051," not in public_log_text()
    revert(report, "location")
    report.refresh_from_db()
    assert (report.location.x, report.location.y) == (28.047305, -26.204103)
    assert (report.public_location.x, report.public_location.y) == snap_to_grid(lng=28.047305, lat=-26.204103)


def test_one_admin_action_names_only_the_fields_that_changed() -> None:
    report = submitted()
    edit(report, title="Burst pipe", description="Water everywhere.", lng=18.43, lat=-33.93,
         report_type=ReportType.ISSUE, contributor_name=NAME)
    action = AdminAction.objects.get(target_type="report", target_id=str(report.pk))
    assert (action.action, action.admin_name, action.reason) == ("edit", "sipho", "Phone number removed")
    assert action.metadata == {"fields": ["description", "title"]}
    assert PHONE not in json.dumps(action.metadata)


def test_changing_the_type_keeps_the_state_unless_it_becomes_impossible() -> None:
    report = submitted()
    assert report.state == ReportState.OPEN
    report = edit(report, report_type=ReportType.PROGRESS_UPDATE)  # news waits for no fix
    assert (report.state, report.state_set_by) == (ReportState.NOTED, StateSetBy.MODERATOR)
    row = DataChangeLog.objects.latest("pk")
    assert (row.old_values["state"], row.new_values["state"]) == ("open", "noted")
    report = revert(report, "report_type")  # a problem again: open
    assert (report.report_type, report.state) == (ReportType.ISSUE, ReportState.OPEN)
    report_set_state(reports=[report], state=ReportState.FIXED, moderator="m", reason="Repaired")
    report = edit(report, report_type=ReportType.COMPLETION)  # what happened stays true
    assert report.state == ReportState.FIXED


def test_the_change_log_keeps_no_removed_text_in_any_row() -> None:
    report = submitted()
    update = update_add(report=report, text=f"Still leaking, phone {PHONE}", name=NAME)
    report_set_state(reports=[report], state=ReportState.IN_PROGRESS, moderator="m", reason="Work order")
    assert PHONE in public_log_text() and NAME in public_log_text()
    edit(report, title="Burst pipe", description="Water everywhere.", contributor_name="")
    update_edit(update=update, moderator="sipho", reason="Phone number removed",
                started=latest_action_id(target_type="report_update", target_id=update.pk),
                text="Still leaking", contributor_name="A resident")
    text = public_log_text()
    assert PHONE not in text and NAME not in text
    rows = list(DataChangeLog.objects.for_entity(EntityType.REPORT, report.pk).order_by("pk"))
    created = rows[0]
    assert created.new_values["title"] == "Burst pipe" and created.new_values["contributor_name"] == ""
    assert rows[1].new_values["update_text"] == "Still leaking"
    assert rows[1].new_values["update_name"] == "A resident"
    report_edit_row, update_edit_row = rows[-2], rows[-1]
    assert report_edit_row.source == "admin_action"
    assert report_edit_row.new_values["action"] == "edit"
    assert report_edit_row.new_values["moderated_fields"] == ["contributor_name", "description", "title"]
    assert {"title", "contributor_name"} <= set(report_edit_row.field_changes)
    assert update_edit_row.new_values["update_id"] == update.pk
    assert update_edit_row.new_values["update_text"] == "Still leaking"
    # The moderation log names the fields, never the words.
    assert PHONE not in json.dumps([a.metadata for a in AdminAction.objects.all()])


def test_an_update_is_edited_and_put_back_field_by_field() -> None:
    report = submitted()
    update = update_add(report=report, text=f"Call {PHONE}", name=NAME)
    started = latest_action_id(target_type="report_update", target_id=update.pk)
    assert started == 0
    update = update_edit(update=update, moderator="sipho", reason="Phone", started=started, text="Call the office",
                         contributor_name=NAME)
    assert update.original_values == {"text": f"Call {PHONE}"} and update.moderated_at is not None
    action = AdminAction.objects.get(target_type="report_update")
    assert action.metadata == {"fields": ["text"], "report_id": str(report.pk)}
    with pytest.raises(ReportError):
        update_edit(update=update, moderator="sipho", reason="again", started=action.pk, text="Call the office")
    update = update_revert_field(update=update, field="text", moderator="sipho", reason="It was fine",
                                 started=action.pk)
    assert (update.text, update.original_values, update.moderated_at) == (f"Call {PHONE}", {}, None)


def test_a_moderation_after_the_form_was_opened_refuses_the_edit() -> None:
    report = submitted()
    started = latest_action_id(target_type="report", target_id=report.pk)
    report_flag(reports=[report], moderator="lindiwe", reason="Checking")
    with pytest.raises(ModeratedSince):
        report_edit(report=report, moderator="sipho", reason="r", started=started, title="Burst pipe")
    with pytest.raises(ModeratedSince):
        report_revert_field(report=report, field="title", moderator="sipho", reason="r", started=started)
    report.refresh_from_db()
    assert report.title.startswith("Burst pipe, call me") and report.original_values == {}
    assert report.status == ReportStatus.FLAGGED


def test_a_draft_cannot_be_edited() -> None:
    report = submitted(draft=True)
    with pytest.raises(ReportError) as refused:
        edit(report, title="Burst pipe")
    assert refused.value.field == "report"
    assert not DataChangeLog.objects.for_entity(EntityType.REPORT, report.pk).exists()
