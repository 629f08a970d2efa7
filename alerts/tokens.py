"""The signed links in alert emails: no account and no password, so the link itself is the proof.

Each purpose has its own salt, so a confirmation link cannot be replayed as an unsubscribe link or the other
way round. Confirmation links expire with the unconfirmed sign-up; unsubscribe and manage links do not (an
unsubscribe link in a year-old email must still work, RFC 8058).
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing

CONFIRM = "alerts.confirm"
UNSUBSCRIBE = "alerts.unsubscribe"
MANAGE = "alerts.manage"
NO_QUESTIONNAIRE = "alerts.no_questionnaire"  # an address asks never to get "is it fixed?" again


class BadToken(Exception):
    """The link was altered, belongs to another purpose, or has expired."""


def make(purpose: str, value: int | list[int]) -> str:
    """A link token for an id (confirm, manage) or a list of alert ids (unsubscribe from what an email covers)."""
    return signing.dumps(value, salt=purpose)


def read(purpose: str, token: str) -> int | list[int]:
    max_age = settings.ALERT_CONFIRM_DAYS * 86400 if purpose == CONFIRM else None
    try:
        value = signing.loads(token, salt=purpose, max_age=max_age)
    except signing.BadSignature as exc:  # SignatureExpired is a BadSignature
        raise BadToken(str(exc)) from exc
    if isinstance(value, bool) or not (
            isinstance(value, int) or (isinstance(value, list) and all(isinstance(v, int) for v in value))):
        raise BadToken("not an id")
    return value


def read_ids(purpose: str, token: str) -> list[int]:
    value = read(purpose, token)
    return value if isinstance(value, list) else [value]


def read_id(purpose: str, token: str) -> int:
    value = read(purpose, token)
    if not isinstance(value, int):
        raise BadToken("not an id")
    return value
