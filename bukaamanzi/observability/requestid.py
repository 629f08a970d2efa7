"""The request id: taken from X-Request-ID when well-formed (a proxy such as nginx's $request_id set it), made
here otherwise, and kept in a context variable so that every log line and every task queued carries it."""

from __future__ import annotations

import itertools
import os
import re

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


class _Ids:
    """A random prefix per process and a counter: 32 hex digits, unique across processes and restarts, for a
    fraction of a microsecond (uuid4 reads the kernel's random source each time: about 6 us, most of the
    middleware's cost). A forked worker takes a new prefix, so it never repeats its parent's ids."""

    prefix = ""
    counter: itertools.count[int] = itertools.count()

    @classmethod
    def reset(cls) -> None:
        cls.prefix = os.urandom(8).hex()
        cls.counter = itertools.count()


_Ids.reset()
os.register_at_fork(after_in_child=_Ids.reset)


def new_request_id() -> str:
    return f"{_Ids.prefix}{next(_Ids.counter):016x}"


def current_request_id() -> str | None:
    value = structlog.contextvars.get_contextvars().get("request_id")
    return value if isinstance(value, str) else None
