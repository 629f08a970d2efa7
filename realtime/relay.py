"""The outbox relay: sends committed, unsent change-log rows to channel-layer groups.

This first version is the hook point only; sending arrives with the live-updates work. Rows stay
`notification_sent=False` until a relay has delivered them, so nothing committed is lost meanwhile.
"""

from __future__ import annotations


def relay_after_commit() -> None:
    """Called once per committed transaction that wrote change-log rows."""
    return None
