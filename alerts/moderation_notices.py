"""Moderation notices: a resident who gave an email with a report or an update gets one email per moderation
action that changed what the public sees of it, saying what changed and the moderator's reason, with a way to
reply (issue 15).

The moderation log (`changelog.AdminAction`) is the outbox, as the change log is for alerts: each pass of
`send_alerts` writes a `Delivery` for every told action not yet delivered, and `alerts.delivery` sends it with
the same leases, retries, bounces and pauses as every other email, over `EMAIL_URL`. A unique constraint on the
delivery's action allows one per action, so two senders writing at once write it once, and a sender that dies
mid-send leaves it to the next pass. A paused address's notice is written as given up, so the action is settled.

Only actions of the last `NOTICE_WITHIN` are told: deploying this does not mail years of moderation history,
and a worker that was down for a few days still tells everything that happened meanwhile.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from alerts.models import Delivery, DeliveryKind
from alerts.reporters import subscribers_for
from changelog.models import AdminAction
from reports.models import Contributor, Report, ReportStatus, ReportUpdate


class Told(NamedTuple):
    """What an action did, in the words of a notice about a report and about an update."""

    report: Promise
    update: Promise


# The moderations a sender is told about, each with its words: the keys are the one list of told actions.
# Edits and reverts name the fields (%(fields)s), never the text removed or put back.
#
# Not told, on purpose:
# - "auto_hide": the system hid the item after residents' flags, pending a moderator's review; the review
#   ("flag", "spam" or "unflag") is told, so the sender hears the decision, not a count of anonymous flaggers.
# - "note": internal notes are for moderators only.
# - "ban", "unban", "banned_sender": the ban list is internal; telling a banned sender would show them how to
#   come back under another address.
# - "link_project", "set_state", "mark_duplicate": filing and the problem's progress, not a change to what the
#   sender wrote; they are in the report's public history, and its alerts tell followers (the sender included).
# - "removal_requested" is the sender's own request; the project actions ("correct", "unlock") are not theirs.
TOLD_ACTIONS: dict[str, Told] = {
    "flag": Told(gettext_lazy("A moderator hid your report: the public no longer sees it."),
                 gettext_lazy("A moderator hid your update: the public no longer sees it.")),
    "unflag": Told(gettext_lazy("A moderator published your report again: the public sees it."),
                   gettext_lazy("A moderator published your update again: the public sees it.")),
    "spam": Told(gettext_lazy("A moderator marked your report as spam: the public no longer sees it."),
                 gettext_lazy("A moderator marked your update as spam: the public no longer sees it.")),
    "edit": Told(gettext_lazy("A moderator edited your report. Changed: %(fields)s."),
                 gettext_lazy("A moderator edited your update. Changed: %(fields)s.")),
    "revert": Told(gettext_lazy("A moderator put back what you first wrote in your report. Put back: %(fields)s."),
                   gettext_lazy("A moderator put back what you first wrote in your update. Put back: %(fields)s.")),
    "redact_photo": Told(gettext_lazy("A moderator covered part of a photo on your report before showing it."),
                         gettext_lazy("A moderator covered part of a photo on your update before showing it.")),
    "hide_photo": Told(gettext_lazy("A moderator hid a photo on your report: the public no longer sees it."),
                       gettext_lazy("A moderator hid a photo on your update: the public no longer sees it.")),
    "show_photo": Told(gettext_lazy("A moderator showed a photo on your report again."),
                       gettext_lazy("A moderator showed a photo on your update again.")),
    "delete": Told(gettext_lazy("A moderator deleted your report: it is no longer on the site."),
                   gettext_lazy("A moderator deleted your update: it is no longer on the site.")),
}
FIELD_ACTIONS = frozenset({"edit", "revert"})
DELETE = "delete"
REPORT, UPDATE = "report", "report_update"  # AdminAction.target_type of the items whose senders are told

NOTICE_WITHIN = dt.timedelta(days=7)
BATCH = 500  # actions read per query


def _item_id(value: object) -> int | None:
    """An id from the moderation log (a string there, an int or null in metadata); None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _owed(*, since: dt.datetime, after: int) -> list[AdminAction]:
    """Told actions on reports and updates since `since` with no delivery yet, by id after `after`."""
    delivered = Delivery.objects.filter(admin_action=OuterRef("pk"))
    return list(AdminAction.objects.filter(target_type__in=(REPORT, UPDATE), action__in=TOLD_ACTIONS,
                                           created_at__gte=since, pk__gt=after)
                .filter(~Exists(delivered)).order_by("pk")
                .only("pk", "target_type", "target_id", "action", "metadata")[:BATCH])


def _recipients(actions: list[AdminAction]) -> dict[int, tuple[str, str]]:
    """Action id -> (email, language) of the item's sender, for those who gave an email, in three queries.

    The sender is the item's contributor; a deleted item's comes from the action (Contributor rows outlive
    what they sent). An update the reporter added from the report's private link has no contributor of its own:
    its sender is the report's."""
    report_ids = {i for a in actions if a.target_type == REPORT and a.action != DELETE
                  if (i := _item_id(a.target_id)) is not None}
    update_ids = {i for a in actions if a.target_type == UPDATE and a.action != DELETE
                  if (i := _item_id(a.target_id)) is not None}
    reports = dict(Report.objects.filter(pk__in=report_ids).values_list("pk", "contributor_id"))
    updates = {pk: contributor_id if contributor_id is not None or not by_reporter else report_contributor_id
               for pk, contributor_id, by_reporter, report_contributor_id in ReportUpdate.objects.filter(
                   pk__in=update_ids).values_list("pk", "contributor_id", "by_reporter", "report__contributor_id")}
    senders: dict[int, int | None] = {}
    for action in actions:
        item_id = _item_id(action.target_id)
        if action.action == DELETE:
            senders[action.pk] = _item_id((action.metadata or {}).get("contributor_id"))
        elif item_id is not None:
            # An item gone while its notice waited is told by its deletion's notice, not here.
            senders[action.pk] = (reports if action.target_type == REPORT else updates).get(item_id)
    contributors = {pk: (email, language) for pk, email, language in Contributor.objects.filter(
        pk__in={c for c in senders.values() if c is not None}).exclude(email="").values_list(
        "pk", "email", "language")}
    return {action_id: contributors[c] for action_id, c in senders.items() if c in contributors}


def moderation_deliveries_create(*, now: dt.datetime | None = None) -> int:
    """Write a delivery for each told moderation action owed (given up at once for paused addresses); returns
    how many were written. A few queries per BATCH actions, whatever their number."""
    now = now or timezone.now()
    written, after = 0, 0
    while True:
        actions = _owed(since=now - NOTICE_WITHIN, after=after)
        if not actions:
            return written
        after = actions[-1].pk
        recipients = _recipients(actions)
        subscribers = subscribers_for({email.strip().lower() for email, _language in recipients.values()})
        deliveries = []
        for action_id, (email, language) in recipients.items():
            subscriber = subscribers[email.strip().lower()]
            delivery = Delivery(subscriber=subscriber, kind=DeliveryKind.MODERATION, admin_action_id=action_id,
                                next_attempt_at=now, language=language or settings.LANGUAGE_CODE)
            if subscriber.paused_at is not None:  # settled, as the other emails to senders are
                delivery.given_up_at, delivery.last_error = now, "The address is paused."
            deliveries.append(delivery)
        # One another sender wrote meanwhile is skipped by the unique constraint, not written twice.
        Delivery.objects.bulk_create(deliveries, ignore_conflicts=True)
        written += len(deliveries)
        if len(actions) < BATCH:
            return written


@dataclass(frozen=True)
class Notice:
    """What a moderation notice tells, read when it is sent."""

    action: AdminAction
    is_update: bool
    sent_at: dt.datetime | None  # when the item was sent (a deleted item's, as the action recorded it)
    report: Report | None  # the report, or the update's report, while it exists
    private_link: bool  # the recipient sent the report, so its private link is theirs to have

    @property
    def deleted(self) -> bool:
        return self.action.action == DELETE

    def what_changed(self) -> str:
        """The action in words, in the active language."""
        told = TOLD_ACTIONS[self.action.action]
        sentence = str(told.update if self.is_update else told.report)
        if self.action.action in FIELD_ACTIONS:
            return sentence % {"fields": ", ".join(self.field_names()) or _("some details")}
        return sentence

    def field_names(self) -> list[str]:
        """The changed fields as the admin names them (their verbose names), in the active language; a name the
        model does not have is left out rather than shown raw."""
        model = ReportUpdate if self.is_update else Report
        names = []
        for name in (self.action.metadata or {}).get("fields") or []:
            try:
                label = getattr(model._meta.get_field(str(name)), "verbose_name", None)
            except FieldDoesNotExist:
                continue
            if label:
                names.append(str(label))
        return names

    @property
    def report_is_public(self) -> bool:
        """Whether the report's public page shows it (its link is then worth giving)."""
        return self.report is not None and self.report.status == ReportStatus.PUBLISHED


def notice_of(action: AdminAction) -> Notice | None:
    """The notice of a told action; None when its item is gone and the action is not the deletion (that one's
    own notice tells the sender)."""
    is_update = action.target_type == UPDATE
    item_id = _item_id(action.target_id)
    if action.action == DELETE:
        metadata = action.metadata or {}
        try:
            sent_at = parse_datetime(str(metadata.get("created_at") or ""))
        except ValueError:  # well formed but not a date: the notice goes without it
            sent_at = None
        if sent_at is not None and timezone.is_naive(sent_at):
            sent_at = timezone.make_aware(sent_at, dt.UTC)
        report = None
        if is_update:  # the report an update was on may still be there
            report_id = _item_id(metadata.get("report_id"))
            report = Report.objects.filter(pk=report_id).first() if report_id is not None else None
        return Notice(action=action, is_update=is_update, sent_at=sent_at, report=report, private_link=False)
    if item_id is None:
        return None
    if is_update:
        update = ReportUpdate.objects.select_related("report").filter(pk=item_id).first()
        if update is None:
            return None
        # Only the reporter's own updates (sent from the private link) come with it: anyone else who added an
        # update must not get the reporter's powers.
        return Notice(action=action, is_update=True, sent_at=update.created_at, report=update.report,
                      private_link=update.by_reporter)
    report = Report.objects.filter(pk=item_id).first()
    if report is None:
        return None
    return Notice(action=action, is_update=False, sent_at=report.created_at, report=report, private_link=True)
