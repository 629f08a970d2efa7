"""Moderators' edits of what residents wrote, with each field's original kept and put back on its own (issue 15).

A moderator may change a report's title, description, place, type and the name shown with it, and an update's
text and name shown. The first value of each edited field is kept in `original_values` (FixMyStreet's
`moderation_original_data`; a place as [lng, lat]); a revert puts that value back and forgets it. Each save that
changes something is one AdminAction ("edit" or "revert", metadata {"fields": [names]}: the names only, which
the email to the reporter reads) and one change-log row with the new public values, never the removed ones.
Older change-log rows of the item are rewritten to the current values (`changelog.services.change_log_rewrite`),
so that removed text leaves the feeds, the live pages' replay and the alert emails too.

The stale-form guard (FixMyStreet's `form_started`): a form carries `started`, the id of the newest AdminAction
on its item when it was shown (`latest_action_id`). The services lock the row and refuse with `ModeratedSince`
when a newer one exists, so a moderator never overwrites what another saved after they opened the page.
"""

from __future__ import annotations

import math
from typing import Any

from django.contrib.gis.geos import Point
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from changelog.models import AdminAction, ChangeSource, ChangeType, EntityType
from changelog.services import change_log_rewrite
from reports.errors import required_reason
from reports.lifecycle import LOGGED_TEXT
from reports.models import Report, ReportState, ReportStatus, ReportType, ReportUpdate, StateSetBy
from reports.services import ReportError, in_south_africa, log_report_change, public_point
from reports.states import PROBLEM_TYPES, UNRESOLVED

REPORT_EDITABLE = ("title", "description", "location", "report_type", "contributor_name")
UPDATE_EDITABLE = ("text", "contributor_name")
# What the change log carries of a report (reports.services._public_fields): these keys are rewritten in its
# older rows. The description is never logged. The type is a choice from a fixed list, never a resident's words,
# and the rows' sentences do not show it, so its history is left as it was.
REPORT_LOGGED = ("title", "location", "contributor_name")
# The target types of AdminAction rows about reports and updates (as reports.services and reports.lifecycle write).
REPORT_TARGET = "report"
UPDATE_TARGET = "report_update"


class ModeratedSince(Exception):
    """Someone moderated the item after the form was opened: nothing was saved (FixMyStreet's form_started)."""

    def __init__(self, latest: int) -> None:
        super().__init__(_("Someone moderated this since you opened it."))
        self.latest = latest


def latest_action_id(*, target_type: str, target_id: int) -> int:
    """The id of the newest AdminAction on the item (0 if none): what an edit form carries as `started`."""
    latest = AdminAction.objects.filter(target_type=target_type, target_id=str(target_id)).aggregate(
        latest=Max("pk"))["latest"]
    return int(latest or 0)


def _check_started(*, target_type: str, target_id: int, started: int) -> None:
    latest = latest_action_id(target_type=target_type, target_id=target_id)
    if latest > started:
        raise ModeratedSince(latest)



def _text(model: type[Report] | type[ReportUpdate], field: str, value: str, *, required: bool) -> str:
    """A text as typed, without surrounding blanks, within the model field's length."""
    value = value.strip()
    limit = getattr(model._meta.get_field(field), "max_length", None)
    if required and not value:
        raise ReportError(field, _("This field cannot be empty."))
    if limit is not None and len(value) > limit:
        raise ReportError(field, _("At most %(max)d characters.") % {"max": limit})
    return value


def _same(field: str, a: Any, b: Any) -> bool:
    if field == "location":  # to 6 decimals (about 10 cm), as the change log and the form show points
        return [round(float(v), 6) for v in a] == [round(float(v), 6) for v in b]
    return bool(a == b)


def _keep_original(originals: dict[str, Any], field: str, current: Any, new: Any) -> None:
    """Only a field's first value is kept; edited back to it, the field has nothing left to revert."""
    if field not in originals:
        originals[field] = current
    elif _same(field, originals[field], new):
        del originals[field]


def _moderated_at(originals: dict[str, Any]) -> Any:
    # The public page says "moderated on ..." while anything differs from what the sender wrote; once every field
    # is back to the sender's own words (reverted, or edited back), there is nothing to say.
    return timezone.now() if originals else None


# --- Reports ------------------------------------------------------------------------------------------------


def _report_value(report: Report, field: str) -> Any:
    """A report field as `original_values` keeps it (JSON-able: a point as [lng, lat])."""
    if field == "location":
        return [report.location.x, report.location.y]
    return getattr(report, field)


def _state_for_type(state: str, report_type: str) -> str:
    """The state a report keeps when its type changes: the same, unless it becomes impossible. Problems wait for a
    fix and news does not: a problem cannot stay "noted" (nobody could say it is fixed), so it is open; news
    cannot stay waiting for a fix (open, acknowledged, in progress: "is it fixed?" would be asked about it), so it
    is noted. Closed states and "duplicate" record what happened and stay."""
    if report_type in PROBLEM_TYPES:
        return ReportState.OPEN if state == ReportState.NOTED else state
    return ReportState.NOTED if state in UNRESOLVED else state


def _locked_report(pk: int, started: int) -> Report:
    report = Report.objects.select_for_update(of=("self",)).select_related("project").get(pk=pk)
    if report.status == ReportStatus.DRAFT:  # not sent yet: nothing public to moderate, nothing to log
        raise ReportError("report", _("This report is a draft its sender has not sent yet."))
    _check_started(target_type=REPORT_TARGET, target_id=report.pk, started=started)
    return report


def _set_report_field(report: Report, field: str, value: Any) -> list[str]:
    """Set one field; the columns to save."""
    if field == "location":
        lng, lat = (float(v) for v in value)
        report.location = Point(lng, lat, srid=4326)
        report.public_location = public_point(lng=lng, lat=lat, rough=report.location_is_rough)
        return ["location", "public_location"]
    setattr(report, field, value)
    return [field]


def _report_save(report: Report, changed: dict[str, Any], *, action: str, moderator: str, reason: str) -> Report:
    """Apply `changed` (field -> value as kept) to the locked report and record it: one AdminAction, older
    change-log rows rewritten, one new row."""
    originals = dict(report.original_values or {})
    old_state = report.state
    columns = {"original_values", "moderated_at", "reviewed_at"}
    for field, value in changed.items():
        if action == "edit":
            _keep_original(originals, field, _report_value(report, field), value)
        else:
            originals.pop(field, None)
        columns.update(_set_report_field(report, field, value))
    now = timezone.now()
    if "report_type" in changed:
        report.state = _state_for_type(report.state, report.report_type)
        if report.state != old_state:
            report.state_set_by, report.state_changed_at = StateSetBy.MODERATOR, now
            columns.update(("state", "state_set_by", "state_changed_at"))
    report.original_values, report.moderated_at, report.reviewed_at = originals, _moderated_at(originals), now
    report.save(update_fields=sorted(columns))
    fields = sorted(changed)
    AdminAction.objects.create(admin_name=moderator, target_type=REPORT_TARGET, target_id=str(report.pk),
                               action=action, reason=reason, metadata={"fields": fields})
    public = {"title": report.title, "location": report.public_location,
              "contributor_name": report.contributor_name, "report_type": report.report_type}
    change_log_rewrite(entity_type=EntityType.REPORT, entity_id=report.pk,
                       values={name: public[name] for name in REPORT_LOGGED if name in changed})
    # The new values only: keys missing from `old` count as changed. The title names the report in every row.
    old: dict[str, object] = {} if "title" in changed else {"title": report.title}
    new: dict[str, object] = {"title": report.title, **{name: public[name] for name in public if name in changed},
                              "moderated_fields": fields, "action": action}
    if report.state != old_state:
        old["state"], new["state"], new["state_set_by"] = old_state, report.state, report.state_set_by
    log_report_change(report, ChangeType.UPDATED, ChangeSource.ADMIN_ACTION, old=old, new=new)
    return report


def report_edit(
    *,
    report: Report,
    moderator: str,
    reason: str,
    started: int,
    title: str | None = None,
    description: str | None = None,
    lng: float | None = None,
    lat: float | None = None,
    report_type: str | None = None,
    contributor_name: str | None = None,
) -> Report:
    """Change the given fields of a report (None: leave it). Only fields whose value changes count; an edit that
    changes nothing is refused. Raises ReportError naming the field at fault, ModeratedSince when someone
    moderated the report after `started`."""
    reason = required_reason(reason)
    wanted: dict[str, Any] = {}
    if title is not None:
        wanted["title"] = _text(Report, "title", title, required=True)
    if description is not None:
        wanted["description"] = _text(Report, "description", description, required=True)
    if contributor_name is not None:
        wanted["contributor_name"] = _text(Report, "contributor_name", contributor_name, required=False)
    if report_type is not None:
        if report_type not in ReportType.values:
            raise ReportError("report_type", _("Choose one of the report types."))
        wanted["report_type"] = report_type
    if lng is not None or lat is not None:
        if lng is None or lat is None or not (math.isfinite(lng) and math.isfinite(lat)):
            raise ReportError("location", _("Give both the latitude and the longitude."))
        if not in_south_africa(lng, lat):
            raise ReportError("location", _("The location must be in South Africa."))
        wanted["location"] = [round(float(lng), 6), round(float(lat), 6)]
    with transaction.atomic():
        report = _locked_report(report.pk, started)
        changed = {name: value for name, value in wanted.items()
                   if not _same(name, _report_value(report, name), value)}
        if not changed:
            raise ReportError("edit", _("Nothing was changed."))
        return _report_save(report, changed, action="edit", moderator=moderator, reason=reason)


def report_revert_field(*, report: Report, field: str, moderator: str, reason: str, started: int) -> Report:
    """Put one field back to what the sender wrote (its kept original), which is then forgotten."""
    reason = required_reason(reason)
    with transaction.atomic():
        report = _locked_report(report.pk, started)
        if field not in REPORT_EDITABLE or field not in (report.original_values or {}):
            raise ReportError("field", _("This field has no kept original to put back."))
        return _report_save(report, {field: report.original_values[field]}, action="revert", moderator=moderator,
                            reason=reason)


# --- Updates ------------------------------------------------------------------------------------------------


def _locked_update(pk: int, started: int) -> ReportUpdate:
    update = ReportUpdate.objects.select_for_update(of=("self",)).select_related("report__project").get(pk=pk)
    _check_started(target_type=UPDATE_TARGET, target_id=update.pk, started=started)
    return update


def _update_save(update: ReportUpdate, changed: dict[str, str], *, action: str, moderator: str,
                 reason: str) -> ReportUpdate:
    originals = dict(update.original_values or {})
    for field, value in changed.items():
        if action == "edit":
            _keep_original(originals, field, getattr(update, field), value)
        else:
            originals.pop(field, None)
        setattr(update, field, value)
    update.original_values, update.moderated_at = originals, _moderated_at(originals)
    update.reviewed_at = timezone.now()
    update.save(update_fields=[*sorted(changed), "original_values", "moderated_at", "reviewed_at"])
    fields = sorted(changed)
    report = update.report
    AdminAction.objects.create(admin_name=moderator, target_type=UPDATE_TARGET, target_id=str(update.pk),
                               action=action, reason=reason,
                               metadata={"fields": fields, "report_id": str(report.pk)})
    # An update's words are in its report's rows (reports.lifecycle.update_add), as far as LOGGED_TEXT.
    logged = {"text": ("update_text", update.text[:LOGGED_TEXT]),
              "contributor_name": ("update_name", update.contributor_name)}
    values = dict(logged[name] for name in fields)
    change_log_rewrite(entity_type=EntityType.REPORT, entity_id=report.pk, values=values,
                       match={"update_id": update.pk})
    log_report_change(report, ChangeType.UPDATED, ChangeSource.ADMIN_ACTION,
                      old={"title": report.title, "update_id": update.pk},
                      new={"title": report.title, "update_id": update.pk, **values, "moderated_fields": fields,
                           "action": action})
    return update


def update_edit(*, update: ReportUpdate, moderator: str, reason: str, started: int, text: str | None = None,
                contributor_name: str | None = None) -> ReportUpdate:
    """Change an update's text or the name shown with it, as `report_edit` does for reports."""
    reason = required_reason(reason)
    wanted: dict[str, str] = {}
    if text is not None:
        wanted["text"] = _text(ReportUpdate, "text", text, required=True)
    if contributor_name is not None:
        wanted["contributor_name"] = _text(ReportUpdate, "contributor_name", contributor_name, required=False)
    with transaction.atomic():
        update = _locked_update(update.pk, started)
        changed = {name: value for name, value in wanted.items() if getattr(update, name) != value}
        if not changed:
            raise ReportError("edit", _("Nothing was changed."))
        return _update_save(update, changed, action="edit", moderator=moderator, reason=reason)


def update_revert_field(*, update: ReportUpdate, field: str, moderator: str, reason: str,
                        started: int) -> ReportUpdate:
    """Put one field of an update back to what its sender wrote."""
    reason = required_reason(reason)
    with transaction.atomic():
        update = _locked_update(update.pk, started)
        if field not in UPDATE_EDITABLE or field not in (update.original_values or {}):
            raise ReportError("field", _("This field has no kept original to put back."))
        return _update_save(update, {field: str(update.original_values[field])}, action="revert",
                            moderator=moderator, reason=reason)
