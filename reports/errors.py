"""The one error the report services raise for input a resident or a moderator can fix.

It lives below every service (`reports.services` re-exports it, where callers import it from) so that the
lowest modules, such as the ban list (`reports.bans`, which `reports.services` calls), can raise it too
without an import cycle.
"""

from __future__ import annotations

from django.utils.translation import gettext as _


class ReportError(ValueError):
    """Invalid report input; `field` names what to fix."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def required_reason(reason: str) -> str:
    """The moderator's reason, trimmed; every moderation action is recorded with one."""
    if not reason or not reason.strip():
        raise ReportError("reason", _("A reason is required for every moderation action."))
    return reason.strip()
