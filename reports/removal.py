"""Removal for illegal content: a report or an update deleted for good, with its photos' files, and its text
scrubbed from the public history; a tombstone AdminAction says who removed what, when and why.

The admin cannot delete reports or updates (their admins refuse the delete permission): hiding keeps the text for
moderators, which is right for spam and abuse but not for content that is illegal to keep (for example a photo
of a child, or someone's identity document). This is the one way to delete them, from the admin's "Remove for
illegal content" action, with a reason.

What goes: the item's row and what hangs on it (a report's updates, flags, "affected too" taps, photos, and the
alerts' items and emails about it), every photo file (original, thumbnail, share card; deleted after the
transaction commits, like redaction's), and the text in its earlier change-log rows (`change_log_scrub`). What
stays: the change-log rows themselves (by entity id, with their text blanked), a new change-log row saying it was
removed (live pages drop it), and the tombstone, which keeps no removed text: only the contributor's id and the
item's creation time.
"""

from __future__ import annotations

from collections import defaultdict

from django.db import transaction
from django.utils import timezone

from changelog.models import AdminAction, ChangeSource, ChangeType, DataChangeLog, EntityType
from changelog.services import change_log_scrub
from reports.errors import required_reason
from reports.lifecycle import _recount_affected, _undo_effect, report_set_state
from reports.models import Photo, Report, ReportPhoto, ReportUpdate, UpdatePhoto
from reports.redaction import delete_files_after_commit
from reports.services import log_report_change
from reports.states import initial_state

# Change-log keys that carry no sender's text (states, ids, what a moderator did): kept when an item is removed.
# Every other key (title, description, address, names, update text, location, and any key added later) is
# blanked, so a new field is scrubbed unless it is named here.
KEPT_KEYS = frozenset({"report_type", "status", "state", "state_set_by", "project", "update_id", "update_status",
                       "action", "affected_count", "photo_id"})
DUPLICATE_REASON = "The report it duplicated was removed for illegal content."



def _tombstone(*, moderator: str, reason: str, target_type: str, target_id: int, contributor_id: int | None,
               created_at: object, **extra: object) -> None:
    AdminAction.objects.create(
        admin_name=moderator, target_type=target_type, target_id=str(target_id), action="delete", reason=reason,
        metadata={"contributor_id": contributor_id,
                  "created_at": created_at.isoformat() if hasattr(created_at, "isoformat") else str(created_at),
                  **extra})


def _update_sender(update: ReportUpdate, report: Report) -> int | None:
    """Who sent the update: its contributor, or for one the reporter wrote from their private link (which has
    none of its own), the report's."""
    if update.contributor_id is None and update.by_reporter:
        return report.contributor_id
    return update.contributor_id


def report_delete(*, report: Report, moderator: str, reason: str) -> None:
    """Delete a report for illegal content, with everything hanging on it (see the module's docstring). Reports
    marked as its duplicates are set back to their first state (one AdminAction and change-log row each), and an
    original it duplicated is recounted."""
    reason = required_reason(reason)
    with transaction.atomic():
        report = Report.objects.select_for_update(of=("self",)).select_related("project", "duplicate_of").get(
            pk=report.pk)
        pk = report.pk
        photos: list[Photo] = [*ReportPhoto.objects.filter(report=report),
                               *UpdatePhoto.objects.filter(update__report=report)]
        _tombstone(moderator=moderator, reason=reason, target_type="report", target_id=pk,
                   contributor_id=report.contributor_id, created_at=report.created_at)
        # Its updates go with it: each gets its own tombstone, so the audit names every item that went (and each
        # update's sender is told, as for an update removed on its own).
        for update in ReportUpdate.objects.filter(report=report).order_by("pk"):
            _tombstone(moderator=moderator, reason=reason, target_type="report_update", target_id=update.pk,
                       contributor_id=_update_sender(update, report), created_at=update.created_at,
                       report_id=str(pk), with_report=True)
        change_log_scrub(rows=DataChangeLog.objects.for_entity(EntityType.REPORT, pk), keep=KEPT_KEYS)
        # After the scrub, so that this row keeps saying what happened; no title: it is the sender's text.
        log_report_change(report, ChangeType.DELETED, ChangeSource.ADMIN_ACTION, old={}, new={"action": "delete"})
        original = report.duplicate_of
        duplicates = list(Report.objects.filter(duplicate_of=report).order_by("pk"))
        report.delete()
        by_state: dict[str, list[Report]] = defaultdict(list)
        for duplicate in duplicates:
            duplicate.refresh_from_db()  # duplicate_of is now empty (SET_NULL)
            by_state[initial_state(duplicate.report_type)].append(duplicate)
        for state, reports in by_state.items():
            report_set_state(reports=reports, state=state, moderator=moderator, reason=DUPLICATE_REASON)
        if original is not None:
            _recount_affected(Report.objects.select_related("project").get(pk=original.pk))
        delete_files_after_commit(ReportPhoto.image.field.storage,
                                  [name for photo in photos for name in photo.stored_names])


def update_delete(*, update: ReportUpdate, moderator: str, reason: str) -> None:
    """Delete an update for illegal content, with its photos and flags. If it is still what set its report's
    state ("fixed", or reopened), the state goes back to what it was before, as when an update is hidden."""
    reason = required_reason(reason)
    with transaction.atomic():
        report = Report.objects.select_for_update(of=("self",)).select_related("project").get(pk=update.report_id)
        update = ReportUpdate.objects.get(pk=update.pk)
        pk = update.pk
        photos: list[Photo] = list(UpdatePhoto.objects.filter(update=update))
        _tombstone(moderator=moderator, reason=reason, target_type="report_update", target_id=pk,
                   contributor_id=_update_sender(update, report), created_at=update.created_at,
                   report_id=str(report.pk))
        # The update's rows are filed under its report; the report's title is not the update's text and stays.
        rows = [row for row in DataChangeLog.objects.for_entity(EntityType.REPORT, report.pk)
                if pk in ((row.new_values or {}).get("update_id"), (row.old_values or {}).get("update_id"))]
        change_log_scrub(rows=rows, keep=KEPT_KEYS | {"title"})
        old_values: dict[str, object] = {"title": report.title, "update_id": pk, "update_status": update.status}
        new_values: dict[str, object] = {"title": report.title, "update_id": pk, "action": "delete"}
        if _undo_effect(report, update, hiding=True, now=timezone.now()):
            old_values["state"], new_values["state"] = update.state_set_to, report.state
        log_report_change(report, ChangeType.UPDATED, ChangeSource.ADMIN_ACTION, old=old_values, new=new_values)
        update.delete()
        delete_files_after_commit(UpdatePhoto.image.field.storage,
                                  [name for photo in photos for name in photo.stored_names])
