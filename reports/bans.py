"""The ban list: email addresses, email domains and client addresses whose reports and updates are stored
hidden.

Some senders only send abuse, and flagging each of their posts lets it be seen until residents or moderators
act. A listed sender's reports and updates are stored as spam the moment they arrive, with an AdminAction by
"system" naming the ban that matched, and without a change-log row: so nothing is pushed to live pages, put in
feeds or matched to alerts, and no email goes to the sender (those go to published reports only). The sender is
answered exactly as anyone else, so that a ban is not simply worked around by changing what is listed.

What is listed:

- an email address, lower-cased;
- an email domain, lower-cased, which covers its subdomains too ("example.org" covers "mail.example.org").
  "@example.org" is taken as "example.org"; "someone@example.org" is refused, because listing the domain of
  an address given by mistake for it (a whole mail provider, say) would hide many innocent senders;
- a client address, only ever as its keyed hash (`reports.keys.sender_key`): the key shown on a report's or an
  update's admin page, or an IP address typed by a moderator, which is hashed at once and never stored.

Listing and unlisting are each one AdminAction (target "ban") with a required reason. Unlisting does not publish
what was hidden meanwhile: moderators publish those one by one if they should be seen.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from changelog.models import AdminAction
from reports.errors import ReportError, required_reason
from reports.keys import sender_key
from reports.models import Ban, BanKind, Report, ReportUpdate

SYSTEM = "system"  # who hides a listed sender's posts in the moderation log
BAN_VALUE_MAX = 254
KEY_PATTERN = re.compile(r"[0-9a-f]{64}")



def ban_value(*, kind: str, value: str) -> str:
    """The value as it is listed: see the module's docstring. Raises ReportError("value" or "kind")."""
    value = value.strip()
    if kind == BanKind.EMAIL:
        value = value.lower()
        try:
            validate_email(value)
        except ValidationError as exc:
            raise ReportError("value", _("This is not an email address.")) from exc
        return value
    if kind == BanKind.DOMAIN:
        value = value.lower().removeprefix("@").rstrip(".")
        if "@" in value:
            raise ReportError("value", _("This is an email address: list it as an email address, or give only "
                                         "the part after the @ to list the whole domain."))
        try:
            validate_email(f"someone@{value}")  # Django's own rule for the domain part of an address
        except ValidationError as exc:
            raise ReportError("value", _("This is not an email domain (such as example.org).")) from exc
        if "." not in value:
            raise ReportError("value", _("This is not an email domain (such as example.org)."))
        return value
    if kind == BanKind.ADDRESS:
        if KEY_PATTERN.fullmatch(value.lower()):
            return value.lower()
        try:
            ipaddress.ip_address(value)
        except ValueError as exc:
            raise ReportError("value", _("Give an IP address (it is hashed at once, never stored) or the address "
                                         "key shown on a report's or an update's page.")) from exc
        return sender_key(value)
    raise ReportError("kind", _("Choose what to list: an email address, an email domain or a client address."))


def ban_add(*, kind: str, value: str, moderator: str, reason: str, metadata: dict[str, object] | None = None) -> Ban:
    """Put a sender on the ban list with one AdminAction. Raises ReportError for bad input, a missing reason or a
    sender already listed. `metadata` adds details to the AdminAction (such as the report it came from)."""
    reason = required_reason(reason)
    value = ban_value(kind=kind, value=value)
    if len(value) > BAN_VALUE_MAX:
        raise ReportError("value", _("At most %(max)d characters.") % {"max": BAN_VALUE_MAX})
    try:
        with transaction.atomic():
            ban = Ban.objects.create(kind=kind, value=value, reason=reason, created_by=moderator)
            AdminAction.objects.create(admin_name=moderator, target_type="ban", target_id=str(ban.pk), action="ban",
                                       reason=reason, metadata={**(metadata or {}), "kind": kind, "value": value})
    except IntegrityError as exc:  # the unique (kind, value): listed already, perhaps a moment ago
        raise ReportError("value", _("This is on the ban list already.")) from exc
    return ban


def ban_remove(*, ban: Ban, moderator: str, reason: str) -> None:
    """Take a sender off the ban list with one AdminAction. What they sent meanwhile stays hidden."""
    reason = required_reason(reason)
    with transaction.atomic():
        AdminAction.objects.create(admin_name=moderator, target_type="ban", target_id=str(ban.pk), action="unban",
                                   reason=reason, metadata={"kind": ban.kind, "value": ban.value})
        Ban.objects.filter(pk=ban.pk).delete()


def _domains(email: str) -> list[str]:
    """The domain of an address and each domain above it with a dot: mail.example.org, example.org."""
    parts = email.rpartition("@")[2].split(".")
    return [".".join(parts[start:]) for start in range(len(parts) - 1)]


def banned_sender(*, email: str, address: str = "", key: str = "") -> Ban | None:
    """The ban that matches a sender (their email, their client `address` or its stored `key`), or None. One
    query, or none when there is nothing to look up."""
    email = email.strip().lower()
    key = key or sender_key(address)
    matches = Q()
    if email:
        matches |= Q(kind=BanKind.EMAIL, value=email) | Q(kind=BanKind.DOMAIN, value__in=_domains(email))
    if key:
        matches |= Q(kind=BanKind.ADDRESS, value=key)
    if not matches:
        return None
    return Ban.objects.filter(matches).order_by("pk").first()


def _hidden_reason(ban: Ban) -> str:
    # Stored in the moderation log, like the system's other reasons: the ban's kind and listed value (for an
    # address, its key), never the sender's address.
    return (f"Hidden on arrival: the sender is on the ban list (ban {ban.pk}, {ban.kind} {ban.value}, listed by "
            f"{ban.created_by}).")


def hidden_on_arrival_record(*, ban: Ban, report: Report | None = None, update: ReportUpdate | None = None) -> None:
    """The one AdminAction for a listed sender's report or update, which its writer stored hidden."""
    metadata: dict[str, object] = {"ban_id": ban.pk, "kind": ban.kind, "value": ban.value}
    if update is not None:
        target_type, target_id = "report_update", update.pk
        metadata["report_id"] = str(update.report_id)
    else:
        assert report is not None
        target_type, target_id = "report", report.pk
    AdminAction.objects.create(admin_name=SYSTEM, target_type=target_type, target_id=str(target_id),
                               action="banned_sender", reason=_hidden_reason(ban), metadata=metadata)


def _sender_value(item: Report | ReportUpdate, kind: str) -> str:
    email = item.contributor.email.strip().lower() if item.contributor is not None else ""
    what = (_("Report %(id)s") if isinstance(item, Report) else _("Update %(id)s")) % {"id": item.pk}
    if kind == BanKind.ADDRESS:
        if not item.sender_key:
            raise ReportError("kind", _("%(what)s has no address key (it was sent before they were kept): "
                                        "list its email or domain instead.") % {"what": what})
        return item.sender_key
    if kind in (BanKind.EMAIL, BanKind.DOMAIN):
        if not email:
            raise ReportError("kind", _("%(what)s was sent without an email address: list its address key "
                                        "instead.") % {"what": what})
        return email if kind == BanKind.EMAIL else email.rpartition("@")[2]
    raise ReportError("kind", _("Choose what to list: an email address, an email domain or a client address."))


def ban_add_senders(*, items: Sequence[Report | ReportUpdate], kind: str, moderator: str, reason: str) -> int:
    """List the senders of reports or updates by their email, their email's domain or their address key (a
    moderation action in the admin). Senders listed already are left as they are; an item without what is to
    be listed refuses the whole action (ReportError), so that no sender is silently missed. Returns how many
    items' senders are now listed."""
    reason = required_reason(reason)
    values: dict[str, Report | ReportUpdate] = {}
    for item in items:
        values.setdefault(_sender_value(item, kind), item)
    with transaction.atomic():
        for value, item in values.items():
            if ban_value_listed(kind=kind, value=value):
                continue
            source = "report_id" if isinstance(item, Report) else "update_id"
            ban_add(kind=kind, value=value, moderator=moderator, reason=reason, metadata={source: str(item.pk)})
    return len(items)


def ban_value_listed(*, kind: str, value: str) -> bool:
    return Ban.objects.filter(kind=kind, value=value).exists()
