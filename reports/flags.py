""""Report abuse": residents flag a report or an update; after AUTO_HIDE_FLAGGERS distinct flaggers the system
hides it pending review (Decidim's rule), as a moderator would, with an AdminAction by "system" naming the
reasons. Hidden items leave public pages, the API, feeds and alerts at once (they show published items only).

A flagger is a browser (its session) and a client address, kept as keyed hashes (`reports.affected`), one
flag each per item for ever: when a moderator restores an item its flags are cleared, and the same people
cannot hide it again by themselves.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from reports.affected import browser_key
from reports.keys import address_key
from reports.lifecycle import moderate_updates
from reports.models import Flag, FlagReason, Report, ReportStatus, ReportUpdate
from reports.services import ReportError, moderate

AUTO_HIDE_FLAGGERS = 3
FLAG_TEXT_MAX = 1000


class AlreadyFlagged(Exception):
    """This browser or this address has already flagged this item."""


@dataclass(frozen=True)
class FlagResult:
    flags: int  # active (not cleared) flags on the item
    hidden: bool  # this flag made the system hide it


def _auto_hide_reason(reasons: Counter[str]) -> str:
    listed = ", ".join(f"{FlagReason(reason).label} ({count})" for reason, count in reasons.most_common())
    return f"Hidden automatically: {sum(reasons.values())} residents flagged it: {listed}."


def flag_add(*, report: Report | None = None, update: ReportUpdate | None = None, reason: str, text: str = "",
             session_key: str = "", address: str) -> FlagResult:
    """Record a resident's flag on a published report or update; hide it when it reaches AUTO_HIDE_FLAGGERS.
    Raises ReportError (field named) for bad input and AlreadyFlagged for a second flag from the same person."""
    if (report is None) == (update is None):
        raise ValueError("Flag a report or an update, not both")
    if reason not in FlagReason.values:
        raise ReportError("reason", "Choose why: spam, offensive, personal_information, off_topic or other.")
    text = text.strip()
    if reason == FlagReason.OTHER and not text:
        raise ReportError("text", "Say what is wrong when the reason is “something else”.")
    if len(text) > FLAG_TEXT_MAX:
        raise ReportError("text", f"The details must be at most {FLAG_TEXT_MAX} characters.")
    target = report if report is not None else update
    assert target is not None
    if target.status != ReportStatus.PUBLISHED:
        raise ReportError("report", "This is not public.")
    try:
        with transaction.atomic():
            # The item's row is locked before the flag is written, so that flaggers of one item take turns: each
            # counts the flags of those before it. Without the lock, three flags at once each counted only their
            # own (uncommitted rows are invisible to the others) and none hid the item.
            model = Report if report is not None else ReportUpdate
            status = model._default_manager.select_for_update().values_list("status", flat=True).get(pk=target.pk)
            Flag.objects.create(report=report, update=update, reason=reason, text=text,
                                browser_key=browser_key(session_key) if session_key else "",
                                address_key=address_key(address))
            active = Flag.objects.filter(report=report, update=update, cleared_at__isnull=True)
            reasons = Counter(active.values_list("reason", flat=True))
            # A flag that waited on the lock while the one before it hid the item is kept for the moderator.
            hidden = status != ReportStatus.PUBLISHED or sum(reasons.values()) >= AUTO_HIDE_FLAGGERS
            if hidden and status == ReportStatus.PUBLISHED:
                _hide(report=report, update=update, reasons=reasons)
    except IntegrityError as exc:
        raise AlreadyFlagged from exc
    return FlagResult(flags=sum(reasons.values()), hidden=hidden)


def _hide(*, report: Report | None, update: ReportUpdate | None, reasons: Counter[str]) -> None:
    why = _auto_hide_reason(reasons)
    details: dict[str, object] = {"flag_reasons": dict(reasons)}
    if report is not None:
        locked = Report.objects.select_for_update(of=("self",)).select_related("project").get(pk=report.pk)
        if locked.status == ReportStatus.PUBLISHED:  # two last flags at once hide it once
            moderate(reports=[locked], moderator="system", action="auto_hide", reason=why,
                     changes={"status": ReportStatus.FLAGGED}, metadata=details, reviewed=False)
        return
    assert update is not None
    locked_update = ReportUpdate.objects.select_for_update(of=("self",)).select_related("report__project").get(
        pk=update.pk)
    if locked_update.status == ReportStatus.PUBLISHED:
        moderate_updates(updates=[locked_update], moderator="system", action="auto_hide", reason=why,
                         status=ReportStatus.FLAGGED, reviewed=False, metadata=details)
