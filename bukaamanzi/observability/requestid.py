"""The request id: taken from X-Request-ID when well-formed (a proxy such as nginx's $request_id set it), made
here otherwise, and kept in a context variable so that every log line and every task queued carries it."""

from __future__ import annotations

import re
import uuid

import structlog

HEADER = "X-Request-ID"
META_KEY = "HTTP_X_REQUEST_ID"
# Letters, digits and . _ - only, at most 128: it goes into log lines and a response header verbatim, so nothing
# that could forge a line, a field or a header passes.
_WELL_FORMED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def parse_request_id(value: str | None) -> str | None:
    """`value` if it is a usable request id, else None."""
    if value and _WELL_FORMED.fullmatch(value):
        return value
    return None


def new_request_id() -> str:
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    value = structlog.contextvars.get_contextvars().get("request_id")
    return value if isinstance(value, str) else None
