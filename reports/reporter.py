"""What the person who sent a report can do from its private link or the "is it fixed?" email: answer, hide
their name, ask for removal. (Their updates go through `reports.lifecycle.update_add` with `by_reporter`.)

Each writes the change log like any other writer, and asking for removal leaves an AdminAction for moderators.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from changelog.models import AdminAction, ChangeSource, ChangeType, EntityType
from changelog.services import change_log_rewrite
from reports.models import QuestionnaireAnswer, Report, ReportState, StateSetBy
from reports.services import ReportError, log_report_change
from reports.states import can_mark_fixed, can_reopen

REMOVAL_TEXT_MAX = 2000


def questionnaire_answer(*, report: Report, answer: str) -> Report:
    """Record the reporter's answer to "is it fixed?" and set the state by it: yes → fixed (says the reporter),
    no → open again if it had been closed, don't know → the state stays. A later answer replaces an earlier one."""
    try:
        answer = QuestionnaireAnswer(answer)
    except ValueError as exc:
        raise ReportError("answer", "The answer must be yes, no or dont_know.") from exc
    with transaction.atomic():
        report = Report.objects.select_for_update(of=("self",)).select_related("project").get(pk=report.pk)
        old = {"title": report.title, "state": report.state, "state_set_by": report.state_set_by,
               "questionnaire_answer": report.questionnaire_answer}
        now = timezone.now()
        if answer == QuestionnaireAnswer.YES and can_mark_fixed(report.state):
            report.state = ReportState.FIXED
        elif answer == QuestionnaireAnswer.NO and can_reopen(report.state):
            report.state = ReportState.OPEN
        if report.state != old["state"]:
            report.state_set_by, report.state_changed_at = StateSetBy.REPORTER, now
        report.questionnaire_answer, report.questionnaire_answered_at = answer, now
        report.save(update_fields=["state", "state_set_by", "state_changed_at", "questionnaire_answer",
                                   "questionnaire_answered_at"])
        log_report_change(report, ChangeType.UPDATED, ChangeSource.COMMUNITY_REPORT, old=old, new={
            "title": report.title, "state": report.state, "state_set_by": report.state_set_by,
            "questionnaire_answer": report.questionnaire_answer})
    return report


def report_hide_name(*, report: Report) -> Report:
    """The reporter's name is no longer shown with the report (moderators still see who sent it)."""
    if not report.contributor_name:
        return report
    with transaction.atomic():
        report.contributor_name = ""
        report.save(update_fields=["contributor_name"])
        # The name leaves the public history too (the change feed, live replays): its earlier rows are rewritten,
        # and this row does not repeat it.
        change_log_rewrite(entity_type=EntityType.REPORT, entity_id=report.pk, values={"contributor_name": ""})
        log_report_change(report, ChangeType.UPDATED, ChangeSource.COMMUNITY_REPORT,
                          old={"title": report.title}, new={"title": report.title, "contributor_name": ""})
    return report


def report_request_removal(*, report: Report, reason: str) -> Report:
    """Ask moderators to remove the report: the report stays as it is until one decides (the admin lists reports
    whose removal was asked)."""
    reason = reason.strip()
    if not reason:
        raise ReportError("reason", "Say why the report should be removed.")
    if len(reason) > REMOVAL_TEXT_MAX:
        raise ReportError("reason", f"The reason must be at most {REMOVAL_TEXT_MAX} characters.")
    with transaction.atomic():
        report.removal_requested_at = timezone.now()
        report.save(update_fields=["removal_requested_at"])
        AdminAction.objects.create(admin_name="reporter", target_type="report", target_id=str(report.pk),
                                   action="removal_requested", reason=reason)
    return report
