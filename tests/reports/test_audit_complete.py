"""The audit stays complete: every change of a report's or an update's status or state, by a resident, the reporter,
a moderator or the system, leaves an AdminAction or a change-log row naming that item.

Each step below prepares what it needs through the services (before its `yield`), then calls one writer (after
it). The test snapshots (status, state) of every report and update around the call and requires, for each item
whose pair changed (or that appeared or vanished), a new row naming it; and every step must leave at least one
new row. To add a writer: add a step, and list in `covers` the functions of `reports` it goes through. A last test
reads the source of the `reports` app and fails when a function writes a status or a state and no step covers it.

Drafts are not reports yet (nobody but the sender sees them, reports.services.report_submit): they are left out of
the snapshot, and publishing one is the change that must be recorded.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from changelog.models import AdminAction, DataChangeLog, EntityType
from reports.affected import affected_add
from reports.bans import ban_add
from reports.editing import latest_action_id, report_edit, report_revert_field, update_edit, update_revert_field
from reports.flags import AUTO_HIDE_FLAGGERS, flag_add
from reports.lifecycle import (
    report_mark_duplicate,
    report_set_state,
    update_add,
    update_flag,
    update_mark_spam,
    update_publish,
)
from reports.models import Report, ReportState, ReportStatus, ReportUpdate
from reports.redaction import photo_hide, photo_redact, photo_show
from reports.removal import report_delete, update_delete
from reports.reporter import questionnaire_answer, report_hide_name, report_request_removal
from reports.services import (
    PhotoUpload,
    report_add_note,
    report_flag,
    report_link_project,
    report_mark_spam,
    report_publish,
    report_publish_draft,
    report_submit,
)
from tests.factories import ProjectFactory
from tests.reports.test_photos import photo_bytes

pytestmark = pytest.mark.django_db

Key = tuple[str, int]  # ("report" | "report_update", pk)
Snapshot = dict[Key, tuple[str, str]]  # (status, "state:original")


# --- The check -----------------------------------------------------------------------------------------------


def snapshot() -> Snapshot:
    # Which report a duplicate points at is part of its state ("duplicate · see the original").
    reports = Report.objects.exclude(status=ReportStatus.DRAFT).values_list("pk", "status", "state", "duplicate_of")
    updates = ReportUpdate.objects.values_list("pk", "status")
    return {**{("report", pk): (status, f"{state}:{original or ''}") for pk, status, state, original in reports},
            **{("report_update", pk): (status, "") for pk, status in updates}}


@dataclass(frozen=True)
class Marks:
    """The last row of each log before a step: what comes after is the step's."""

    action: int
    change: int

    @classmethod
    def now(cls) -> Marks:
        return cls(action=AdminAction.objects.order_by("-pk").values_list("pk", flat=True).first() or 0,
                   change=DataChangeLog.objects.order_by("-pk").values_list("pk", flat=True).first() or 0)

    def named_since(self) -> tuple[int, set[Key]]:
        """How many rows were written since, and the items they name."""
        named: set[Key] = set()
        actions = list(AdminAction.objects.filter(pk__gt=self.action).values_list("target_type", "target_id"))
        for target_type, target_id in actions:
            named.add((target_type, int(target_id)))
        changes = list(DataChangeLog.objects.filter(pk__gt=self.change, entity_type=EntityType.REPORT)
                       .values_list("entity_id", "new_values"))
        for entity_id, new_values in changes:
            named.add(("report", int(entity_id)))
            if isinstance(new_values, dict) and new_values.get("update_id"):  # an update's row is on its report
                named.add(("report_update", int(new_values["update_id"])))
        others = DataChangeLog.objects.filter(pk__gt=self.change).exclude(entity_type=EntityType.REPORT).count()
        return len(actions) + len(changes) + others, named


def audit_gaps(before: Snapshot, after: Snapshot, named: set[Key]) -> list[str]:
    """Items whose (status, state) changed, appeared or vanished with no row naming them."""
    changed = {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}
    return [f"{kind} {pk}: {before.get((kind, pk))} -> {after.get((kind, pk))}"
            for kind, pk in sorted(changed - named)]


# --- The steps -----------------------------------------------------------------------------------------------

StepFunction = Callable[[], Iterator[None]]


@dataclass(frozen=True)
class Step:
    run: StepFunction
    covers: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.run.__name__


STEPS: list[Step] = []


def step(*covers: str) -> Callable[[StepFunction], StepFunction]:
    """Register a step; `covers` names the functions of `reports` that write a status or a state on its path."""
    def register(run: StepFunction) -> StepFunction:
        STEPS.append(Step(run=run, covers=covers))
        return run
    return register


def submitted(report_type: str = "issue", **kwargs: object) -> Report:
    return report_submit(title="Burst pipe", description="Water in the street", report_type=report_type,
                         lng=18.42, lat=-33.92, **kwargs)  # type: ignore[arg-type]


def fresh(report: Report) -> Report:
    return Report.objects.select_related("project", "duplicate_of").get(pk=report.pk)


def flag_times(count: int, **target: object) -> None:
    for n in range(count):
        flag_add(**target, reason="offensive", session_key=f"browser-{n}", address=f"10.2.0.{n}")  # type: ignore[arg-type]


@step("report_submit")
def a_resident_sends_a_report() -> Iterator[None]:
    yield
    submitted(name="Thandi", email="thandi@example.org")


@step("report_submit", "report_publish_draft")
def the_sender_publishes_a_draft() -> Iterator[None]:
    draft = submitted(draft=True)
    yield
    report_publish_draft(report=draft)


@step("update_add")
def a_resident_adds_an_update() -> Iterator[None]:
    report = submitted()
    yield
    update_add(report=report, text="Still leaking", name="Sipho")


@step("update_add")
def a_resident_says_it_is_fixed() -> Iterator[None]:
    report = submitted()
    yield
    update_add(report=report, text="Fixed this morning", fixed=True)


@step("update_add")
def the_reporter_reopens_it() -> Iterator[None]:
    report = submitted()
    update_add(report=report, text="Fixed", fixed=True)
    yield
    update_add(report=fresh(report), text="Leaking again", fixed=False, by_reporter=True)


@step("questionnaire_answer")
def the_reporter_answers_yes_it_is_fixed() -> Iterator[None]:
    report = submitted()
    yield
    questionnaire_answer(report=report, answer="yes")


@step("questionnaire_answer")
def the_reporter_answers_no_it_is_not_fixed() -> Iterator[None]:
    report = submitted()
    questionnaire_answer(report=report, answer="yes")
    yield
    questionnaire_answer(report=report, answer="no")


@step("questionnaire_answer")
def the_reporter_does_not_know() -> Iterator[None]:
    report = submitted()
    yield
    questionnaire_answer(report=report, answer="dont_know")


@step("flag_add", "_hide", "moderate")
def residents_flag_a_report_until_the_system_hides_it() -> Iterator[None]:
    report = submitted()
    yield
    flag_times(AUTO_HIDE_FLAGGERS, report=report)


@step("flag_add", "_hide", "moderate_updates")
def residents_flag_an_update_until_the_system_hides_it() -> Iterator[None]:
    update = update_add(report=submitted(), text="Buy cheap pills")
    yield
    flag_times(AUTO_HIDE_FLAGGERS, update=update)


@step("moderate_updates", "_undo_effect")
def residents_hide_an_update_that_said_fixed_and_the_fix_is_undone() -> Iterator[None]:
    update = update_add(report=submitted(), text="Fixed (not really)", fixed=True)
    yield
    flag_times(AUTO_HIDE_FLAGGERS, update=update)


@step("report_flag", "moderate")
def a_moderator_hides_a_report() -> Iterator[None]:
    report = submitted()
    yield
    report_flag(reports=[fresh(report)], moderator="mod", reason="offensive")


@step("report_publish", "moderate")
def a_moderator_publishes_a_hidden_report_again() -> Iterator[None]:
    report = submitted()
    flag_times(AUTO_HIDE_FLAGGERS, report=report)
    yield
    report_publish(reports=[fresh(report)], moderator="mod", reason="fair complaint")


@step("report_mark_spam", "moderate")
def a_moderator_marks_a_report_as_spam() -> Iterator[None]:
    report = submitted()
    yield
    report_mark_spam(reports=[fresh(report)], moderator="mod", reason="advertising")


@step("moderate")
def a_moderator_links_a_report_to_a_project() -> Iterator[None]:
    report, project = submitted(), ProjectFactory()
    yield
    report_link_project(reports=[fresh(report)], project=project, moderator="mod", reason="same pipeline")


@step("moderate")
def a_moderator_adds_a_note() -> Iterator[None]:
    report = submitted()
    yield
    report_add_note(reports=[fresh(report)], note="Called the ward", moderator="mod", reason="follow-up")


@step("report_set_state", "moderate")
def a_moderator_sets_the_state() -> Iterator[None]:
    reports = [submitted(), submitted()]
    yield
    report_set_state(reports=[fresh(r) for r in reports], state=ReportState.IN_PROGRESS, moderator="mod",
                     reason="contractor on site")


@step("report_mark_duplicate", "moderate", "_recount_affected")
def a_moderator_marks_duplicates_of_a_duplicate() -> Iterator[None]:
    original, first, second = submitted(), submitted(), submitted()
    report_mark_duplicate(reports=[fresh(second)], original=fresh(first), moderator="mod", reason="same leak")
    affected_add(report=fresh(first), session_key="someone", address="10.3.0.1")
    yield
    report_mark_duplicate(reports=[fresh(first)], original=fresh(original), moderator="mod", reason="same leak")


@step("report_set_state", "moderate", "_recount_affected")
def a_moderator_says_a_duplicate_is_not_one() -> Iterator[None]:
    original, duplicate = submitted(), submitted()
    report_mark_duplicate(reports=[fresh(duplicate)], original=fresh(original), moderator="mod", reason="same")
    yield
    report_set_state(reports=[fresh(duplicate)], state=ReportState.OPEN, moderator="mod", reason="another street")


@step("update_flag", "moderate_updates", "_undo_effect")
def a_moderator_hides_an_update_that_said_fixed() -> Iterator[None]:
    update = update_add(report=submitted(), text="Fixed", fixed=True)
    yield
    update_flag(updates=[ReportUpdate.objects.get(pk=update.pk)], moderator="mod", reason="not true")


@step("update_publish", "moderate_updates")
def a_moderator_publishes_a_hidden_update_again() -> Iterator[None]:
    update = update_add(report=submitted(), text="Still leaking")
    flag_times(AUTO_HIDE_FLAGGERS, update=update)
    yield
    update_publish(updates=[ReportUpdate.objects.get(pk=update.pk)], moderator="mod", reason="fair")


@step("update_mark_spam", "moderate_updates")
def a_moderator_marks_an_update_as_spam() -> Iterator[None]:
    update = update_add(report=submitted(), text="Buy cheap pills")
    yield
    update_mark_spam(updates=[ReportUpdate.objects.get(pk=update.pk)], moderator="mod", reason="advertising")


@step()
def the_reporter_asks_for_removal() -> Iterator[None]:
    report = submitted()
    yield
    report_request_removal(report=report, reason="I sent it by mistake")


@step()
def the_reporter_hides_their_name() -> Iterator[None]:
    report = submitted(name="Thandi")
    yield
    report_hide_name(report=report)


@step()
def a_resident_is_affected_too_by_a_duplicate() -> Iterator[None]:
    original, duplicate = submitted(), submitted()
    report_mark_duplicate(reports=[fresh(duplicate)], original=fresh(original), moderator="mod", reason="same")
    yield
    affected_add(report=fresh(duplicate), session_key="neighbour", address="10.4.0.1")


# --- The ban list, edits, photos and removal (issue 15's later slices) ------------------------------------------


@step("report_submit", "hidden_on_arrival_record")
def a_listed_sender_sends_a_report_that_is_stored_hidden() -> Iterator[None]:
    ban_add(kind="domain", value="spam.example", moderator="mod", reason="adverts")
    yield
    submitted(name="Shop", email="sales@spam.example")


@step("update_add", "hidden_on_arrival_record")
def a_listed_sender_adds_an_update_that_is_stored_hidden() -> Iterator[None]:
    report = submitted()
    ban_add(kind="address", value="10.9.0.1", moderator="mod", reason="adverts")
    yield
    update_add(report=report, text="Fixed, buy my pumps", fixed=True, address="10.9.0.1")


def started(item: Report | ReportUpdate) -> int:
    kind = "report" if isinstance(item, Report) else "report_update"
    return latest_action_id(target_type=kind, target_id=item.pk)


@step("report_edit", "_report_save")
def a_moderator_edits_a_report_into_news_and_its_state_follows() -> Iterator[None]:
    report = submitted()
    yield
    report_edit(report=fresh(report), moderator="mod", reason="it is news", started=started(report),
                title="New pipe laid", report_type="progress_update")


@step("report_revert_field", "_report_save")
def a_moderator_puts_a_reports_type_back() -> Iterator[None]:
    report = submitted()
    report_edit(report=fresh(report), moderator="mod", reason="news", started=started(report),
                report_type="progress_update")
    yield
    report_revert_field(report=fresh(report), field="report_type", moderator="mod", reason="it was a problem",
                        started=started(report))


@step("update_edit", "update_revert_field")
def a_moderator_edits_an_update_and_puts_it_back() -> Iterator[None]:
    update = update_add(report=submitted(), text="Call 082 555 0101")
    update_edit(update=update, moderator="mod", reason="a phone number", started=started(update), text="Call me")
    yield
    update_revert_field(update=ReportUpdate.objects.get(pk=update.pk), field="text", moderator="mod",
                        reason="the number is the municipality's", started=started(update))


def with_photo() -> Report:
    return submitted(photos=[PhotoUpload(photo_bytes((400, 300)), "leak.jpg")])


@step("photo_redact")
def a_moderator_redacts_a_photo() -> Iterator[None]:
    report = with_photo()
    yield
    photo_redact(photo=report.photos.get(), boxes=[(0, 0, 50, 40)], moderator="mod", reason="a face")


@step("photo_hide", "photo_show")
def a_moderator_hides_a_photo_then_shows_it() -> Iterator[None]:
    report = with_photo()
    photo_hide(photo=report.photos.get(), moderator="mod", reason="a number plate")
    yield
    photo_show(photo=report.photos.get(), moderator="mod", reason="it was blurred already")


@step("report_delete", "report_set_state", "moderate", "_recount_affected")
def a_moderator_removes_an_original_report_with_duplicates_and_updates() -> Iterator[None]:
    original, duplicate = submitted(), submitted()
    update_add(report=original, text="Fixed", fixed=True)
    report_mark_duplicate(reports=[fresh(duplicate)], original=fresh(original), moderator="mod", reason="same")
    yield
    report_delete(report=fresh(original), moderator="mod", reason="illegal content")


@step("update_delete", "_undo_effect")
def a_moderator_removes_an_update_that_said_fixed() -> Iterator[None]:
    update = update_add(report=submitted(), text="Fixed", fixed=True)
    yield
    update_delete(update=ReportUpdate.objects.get(pk=update.pk), moderator="mod", reason="illegal content")


# --- The tests -----------------------------------------------------------------------------------------------


def run_step(run: StepFunction) -> tuple[int, list[str]]:
    """Prepare, snapshot, act; returns how many rows the act wrote and the changes it left unrecorded."""
    steps = run()
    next(steps)
    before, marks = snapshot(), Marks.now()
    next(steps, None)
    written, named = marks.named_since()
    return written, audit_gaps(before, snapshot(), named)


@pytest.mark.parametrize("writer", STEPS, ids=lambda s: s.name)
def test_each_writer_leaves_a_row_for_every_status_or_state_it_changes(writer: Step) -> None:
    written, gaps = run_step(writer.run)
    assert written >= 1, f"{writer.name} wrote no AdminAction or change-log row"
    assert gaps == [], f"{writer.name} changed these without a row naming them: {gaps}"


def test_a_status_change_without_a_row_fails_the_check() -> None:
    def silent_hide() -> Iterator[None]:
        report = submitted()
        yield
        Report.objects.filter(pk=report.pk).update(status=ReportStatus.FLAGGED)

    written, gaps = run_step(silent_hide)
    assert written == 0 and len(gaps) == 1 and "flagged" in gaps[0]


def test_an_update_state_change_recorded_only_on_another_item_fails_the_check() -> None:
    def half_recorded() -> Iterator[None]:
        report = submitted()
        update = update_add(report=report, text="Still leaking")
        yield
        ReportUpdate.objects.filter(pk=update.pk).update(status=ReportStatus.SPAM)
        report_add_note(reports=[fresh(report)], note="n", moderator="mod", reason="r")

    written, gaps = run_step(half_recorded)
    assert written >= 1 and len(gaps) == 1 and gaps[0].startswith("report_update")


# --- Every writer is walked ----------------------------------------------------------------------------------

STATE_FIELDS = {"status", "state"}
# Calls that write the fields they are given (reads such as filter() name fields too and are left out).
WRITING_CALLS = {"update", "create", "bulk_create", "update_or_create", "get_or_create", "Report", "ReportUpdate",
                 "moderate", "moderate_updates"}
REPORTS_APP = Path(inspect.getfile(Report)).parent


def _writes_a_state(function: ast.FunctionDef) -> bool:
    for node in ast.walk(function):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = [t for target in node.targets
                       for t in (target.elts if isinstance(target, ast.Tuple) else [target])]
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        if any(isinstance(t, ast.Attribute) and t.attr in STATE_FIELDS for t in targets):
            return True
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            for keyword in node.keywords:
                if name in WRITING_CALLS and keyword.arg in STATE_FIELDS:
                    return True
                if keyword.arg == "changes" and isinstance(keyword.value, ast.Dict) and any(
                        isinstance(key, ast.Constant) and key.value in STATE_FIELDS for key in keyword.value.keys):
                    return True
    return False


def state_writers(source: str) -> set[str]:
    return {node.name for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.FunctionDef) and _writes_a_state(node)}


def test_the_source_scan_finds_a_silent_writer() -> None:
    source = ("def hide(report):\n    report.status = 'flagged'\n    report.save()\n"
              "def bulk(qs):\n    qs.update(state='fixed')\n"
              "def reader(qs):\n    return qs.filter(status='published')\n")
    assert state_writers(source) == {"hide", "bulk"}


def test_every_function_of_the_reports_app_that_writes_a_status_or_a_state_is_walked_by_a_step() -> None:
    found: dict[str, str] = {}
    for path in sorted(REPORTS_APP.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for name in state_writers(path.read_text()):
            found[name] = str(path.relative_to(REPORTS_APP.parent))
    covered = {name for writer in STEPS for name in writer.covers}
    missing = {name: where for name, where in found.items() if name not in covered}
    assert missing == {}, f"add a step for each of these writers (and name it in `covers`): {missing}"
