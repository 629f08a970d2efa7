"""Signed links for the person who sent a report: no account, so the link itself is the proof.

One salt per purpose, so a link to manage a report cannot be replayed as an answer to "is it fixed?" or the
other way round. Neither expires: a report lives for years and its sender may come back to it. (A draft's link,
for the report form's confirmation step, lasts a day.)
"""

from __future__ import annotations

from django.core import signing

REPORTER = "reports.reporter"
ANSWER = "reports.questionnaire"
DRAFT = "reports.draft"  # the form's confirmation step: publish this draft (for a day, as long as drafts live)
DRAFT_SECONDS = 86400


class BadToken(Exception):
    """The link was altered or belongs to another purpose or report."""


def reporter_token(report_id: int) -> str:
    return signing.dumps(report_id, salt=REPORTER)


def answer_token(report_id: int, answer: str) -> str:
    return signing.dumps([report_id, answer], salt=ANSWER)


def draft_token(report_id: int) -> str:
    return signing.dumps(report_id, salt=DRAFT)


def read_draft(token: str) -> int:
    """The draft's id; BadToken when altered or older than a day."""
    try:
        value = signing.loads(token, salt=DRAFT, max_age=DRAFT_SECONDS)
    except signing.BadSignature as exc:
        raise BadToken(str(exc)) from exc
    if not isinstance(value, int) or isinstance(value, bool):
        raise BadToken("not an id")
    return value


def read_reporter(token: str, report_id: int) -> None:
    """Raises BadToken unless the token is this report's private link."""
    try:
        value = signing.loads(token, salt=REPORTER)
    except signing.BadSignature as exc:
        raise BadToken(str(exc)) from exc
    if value != report_id or isinstance(value, bool):
        raise BadToken("another report")


def read_answer(token: str, report_id: int) -> str:
    """The answer a link carries, if it is this report's; BadToken otherwise."""
    try:
        value = signing.loads(token, salt=ANSWER)
    except signing.BadSignature as exc:
        raise BadToken(str(exc)) from exc
    if not (isinstance(value, list) and len(value) == 2 and value[0] == report_id and isinstance(value[1], str)):
        raise BadToken("another report")
    return value[1]
