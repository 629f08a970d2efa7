"""Writes that move a report through its life: updates from residents and state changes by moderators.

The page, the API and the admin call these, so each records the same change-log rows (the public history, live
pages, feeds and alerts read them) and, for a moderator, one AdminAction per report, in one transaction. The
rules for which state may follow which are in `reports.states`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from changelog.models import AdminAction, ChangeSource, ChangeType
from reports.bans import banned_sender, hidden_on_arrival_record
from reports.errors import required_reason
from reports.keys import sender_key
from reports.models import (
    Affected,
    Flag,
    Report,
    ReportState,
    ReportStatus,
    ReportUpdate,
    StateSetBy,
    UpdateEffect,
    UpdatePhoto,
)
from reports.services import (
    PhotoUpload,
    ReportError,
    clean_uploads,
    contributor_for,
    log_report_change,
    moderate,
    photo_store,
)
from reports.states import can_mark_fixed, can_reopen

MAX_UPDATE_PHOTOS = 3
UPDATE_TEXT_MAX = 5000
# How much of an update's text the change log (and so feeds, pushes and alerts) carries.
LOGGED_TEXT = 300


def _effect(report: Report, *, fixed: bool | None, by_reporter: bool) -> UpdateEffect:
    """What the update does to the state: "fixed" from anyone, "not fixed" (reopen) from the reporter only.
    A "not fixed" from anyone else, or about a report that is not closed, is an ordinary update."""
    if fixed is True:
        if report.state == ReportState.NOTED:
            raise ReportError("fixed", "Only problems can be marked fixed: this report tells news.")
        if report.state == ReportState.DUPLICATE:
            raise ReportError("fixed", "This report is a duplicate: say it is fixed on the original report.")
        return UpdateEffect.FIXED if can_mark_fixed(report.state) else UpdateEffect.NONE
    if fixed is False and by_reporter and can_reopen(report.state):
        return UpdateEffect.REOPENED
    return UpdateEffect.NONE


def update_effect(report: Report, *, fixed: bool | None, by_reporter: bool = False) -> UpdateEffect:
    """What an update would do to the report's state (nothing where it may not): for answering a sender on the
    ban list as if their update were published."""
    try:
        return _effect(report, fixed=fixed, by_reporter=by_reporter)
    except ReportError:
        return UpdateEffect.NONE


def update_add(
    *,
    report: Report,
    text: str,
    fixed: bool | None = None,
    name: str = "",
    email: str = "",
    photos: Sequence[PhotoUpload] = (),
    by_reporter: bool = False,
    address: str = "",
    language: str = "",
) -> ReportUpdate:
    """Add an update to a published report; it may mark the problem fixed or (from the reporter) reopen it.
    Raises ReportError naming the field at fault. `address` is the sender's client address (only its keyed hash
    is kept); `language` is the page's, for the emails to the sender. A sender on the ban list (reports.bans)
    gets the update back stored as spam: it changes nothing on the report and writes no change-log row."""
    text = text.strip()
    if not text:
        raise ReportError("text", "Say what happened: the update's text is required.")
    if len(text) > UPDATE_TEXT_MAX:
        raise ReportError("text", f"The update's text must be at most {UPDATE_TEXT_MAX} characters.")
    if report.status != ReportStatus.PUBLISHED:
        raise ReportError("report", "This report is not public, so it cannot be updated.")
    cleaned = clean_uploads(photos, limit=MAX_UPDATE_PHOTOS, what="an update")
    key = sender_key(address)
    ban = banned_sender(email=email, key=key)
    with transaction.atomic():
        # The row is locked so that two updates at once both see (and log) the state the other left.
        report = Report.objects.select_for_update(of=("self",)).select_related("project").get(pk=report.pk)
        effect = _effect(report, fixed=fixed, by_reporter=by_reporter)  # refuses a listed sender's the same way
        if ban is not None:
            effect = UpdateEffect.NONE
        old_state, old_set_by = report.state, report.state_set_by
        update = ReportUpdate.objects.create(
            report=report, contributor=contributor_for(name=name, email=email, language=language),
            contributor_name=name.strip(),
            text=text, by_reporter=by_reporter, effect=effect,
            previous_state=old_state if effect != UpdateEffect.NONE else "",
            status=ReportStatus.PUBLISHED if ban is None else ReportStatus.SPAM, sender_key=key,
        )
        for photo, alt_text in cleaned:
            photo_store(photo=UpdatePhoto(update=update, alt_text=alt_text), upload=photo)
        if ban is not None:
            hidden_on_arrival_record(ban=ban, update=update)
            return update
        if effect != UpdateEffect.NONE:
            report.state = ReportState.FIXED if effect == UpdateEffect.FIXED else ReportState.OPEN
            report.state_set_by = StateSetBy.REPORTER if by_reporter else StateSetBy.RESIDENT
            # The update's own time: hiding it later undoes the state only if nothing changed it since.
            report.state_changed_at = update.created_at
            report.save(update_fields=["state", "state_set_by", "state_changed_at"])
        log_report_change(
            report, ChangeType.UPDATED, ChangeSource.COMMUNITY_REPORT,
            old={"title": report.title, "state": old_state, "state_set_by": old_set_by},
            new={"title": report.title, "state": report.state, "state_set_by": report.state_set_by,
                 "update_id": update.pk, "update_text": text[:LOGGED_TEXT],
                 "update_name": update.contributor_name},
        )
    return update


# --- Moderators -------------------------------------------------------------------------------------------

MODERATOR_STATES = frozenset(ReportState) - {ReportState.DUPLICATE}


def report_set_state(*, reports: Sequence[Report], state: str, moderator: str, reason: str) -> int:
    """Set the public state of reports (a duplicate is marked with `report_mark_duplicate`, which names the
    original)."""
    if state not in MODERATOR_STATES:
        raise ReportError("state", "Choose a state; a duplicate is marked with its original.")
    originals = {report.duplicate_of_id for report in reports} - {None}
    with transaction.atomic():
        count = moderate(reports=reports, moderator=moderator, action="set_state", reason=reason,
                         changes={"state": state, "state_set_by": StateSetBy.MODERATOR,
                                  "state_changed_at": timezone.now(), "duplicate_of": None})
        for original in Report.objects.filter(pk__in=originals):  # no longer duplicates: no longer counted there
            _recount_affected(original)
    return count


def report_mark_duplicate(*, reports: Sequence[Report], original: Report, moderator: str, reason: str) -> int:
    """Mark reports as duplicates of `original`; its page lists them. A duplicate of a duplicate points to the
    first original, so lists never chain."""
    while original.duplicate_of_id is not None and original.duplicate_of is not None:
        original = original.duplicate_of
    if original.status != ReportStatus.PUBLISHED:
        raise ReportError("original", "The original report must be public.")
    if any(report.pk == original.pk for report in reports):
        raise ReportError("original", "A report cannot be a duplicate of itself.")
    with transaction.atomic():
        count = moderate(reports=reports, moderator=moderator, action="mark_duplicate", reason=reason,
                         changes={"state": ReportState.DUPLICATE, "state_set_by": StateSetBy.MODERATOR,
                                  "state_changed_at": timezone.now(), "duplicate_of": original},
                         metadata={"original_id": str(original.pk)})
        # Reports that pointed at one of these now point at the original itself, each with a change-log row (the
        # audit names every report whose original changed).
        repointed = list(Report.objects.filter(duplicate_of__in=[r.pk for r in reports]).select_related("project"))
        Report.objects.filter(pk__in=[r.pk for r in repointed]).update(duplicate_of=original)
        for report in repointed:
            log_report_change(report, ChangeType.UPDATED, ChangeSource.ADMIN_ACTION,
                              old={"title": report.title, "duplicate_of": report.duplicate_of_id},
                              new={"title": report.title, "duplicate_of": original.pk, "action": "mark_duplicate"})
        _recount_affected(original)
    return count


def _recount_affected(original: Report) -> None:
    """The original's "affected too" count once duplicates are joined to it or leave: each distinct person who
    tapped on any of the group (a browser, or an address on a day when there was no browser), plus one for each
    duplicate's own reporter."""
    group = [original.pk, *Report.objects.filter(duplicate_of=original).values_list("pk", flat=True)]
    people = {browser or f"{address}:{day}" for browser, address, day in
              Affected.objects.filter(report__in=group).values_list("browser_key", "address_key", "day")}
    count = len(people) + len(group) - 1
    if count != original.affected_count:
        old = original.affected_count
        Report.objects.filter(pk=original.pk).update(affected_count=count)
        original.affected_count = count
        log_report_change(original, ChangeType.UPDATED, ChangeSource.ADMIN_ACTION,
                          old={"affected_count": old}, new={"affected_count": count})


def moderate_updates(*, updates: Sequence[ReportUpdate], moderator: str, action: str, reason: str,
                     status: str, reviewed: bool = True, metadata: dict[str, object] | None = None) -> int:
    """Hide or publish updates: one AdminAction each and a change-log row on its report, so live pages,
    feeds and alerts drop (or show again) the update at once."""
    reason = required_reason(reason)
    now = timezone.now()
    with transaction.atomic():
        for update in updates:
            old = update.status
            update.status = status
            if reviewed:  # the system's automatic hide is not a review
                update.reviewed_at = now
            update.save(update_fields=["status", "reviewed_at"])
            AdminAction.objects.create(
                admin_name=moderator, target_type="report_update", target_id=str(update.pk), action=action,
                reason=reason, metadata={**(metadata or {}), "report_id": str(update.report_id),
                                                 "old": {"status": old}},
            )
            report = Report.objects.select_for_update(of=("self",)).select_related("project").get(pk=update.report_id)
            old_values: dict[str, object] = {"title": report.title, "update_id": update.pk, "update_status": old}
            new_values: dict[str, object] = {"title": report.title, "update_id": update.pk, "update_status": status,
                                             "action": action}
            if _undo_effect(report, update, hiding=status != ReportStatus.PUBLISHED, now=now):
                old_values["state"], new_values["state"] = update.state_set_to, report.state
            log_report_change(report, ChangeType.UPDATED, ChangeSource.ADMIN_ACTION, old=old_values, new=new_values)
    return len(updates)


def _undo_effect(report: Report, update: ReportUpdate, *, hiding: bool, now: dt.datetime) -> bool:
    """A hidden update's "fixed" (or reopen) is undone if it is still what set the report's state; the state
    goes back to what it was before. True when the state changed."""
    if not hiding or update.effect == UpdateEffect.NONE or not update.previous_state:
        return False
    if report.state != update.state_set_to or report.state_changed_at != update.created_at:
        return False  # changed again since: leave it to the moderator
    report.state, report.state_set_by, report.state_changed_at = update.previous_state, StateSetBy.MODERATOR, now
    report.save(update_fields=["state", "state_set_by", "state_changed_at"])
    return True


def update_flag(*, updates: Sequence[ReportUpdate], moderator: str, reason: str) -> int:
    return moderate_updates(updates=updates, moderator=moderator, action="flag", reason=reason,
                             status=ReportStatus.FLAGGED)


def update_publish(*, updates: Sequence[ReportUpdate], moderator: str, reason: str) -> int:
    """Publish again; residents' flags on the updates are cleared (their flaggers cannot flag them again)."""
    with transaction.atomic():
        count = moderate_updates(updates=updates, moderator=moderator, action="unflag", reason=reason,
                                 status=ReportStatus.PUBLISHED)
        Flag.objects.filter(update__in=[u.pk for u in updates], cleared_at__isnull=True).update(
            cleared_at=timezone.now())
    return count


def update_mark_spam(*, updates: Sequence[ReportUpdate], moderator: str, reason: str) -> int:
    return moderate_updates(updates=updates, moderator=moderator, action="spam", reason=reason,
                             status=ReportStatus.SPAM)
