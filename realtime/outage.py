"""Saying once, in one line, that live clients could not be told.

Every push (the relay's change messages, the pipeline panel, a `system_error`) is best effort: what it carries is
committed and the relay sweep sends it when the channel layer is back. An ingestion run makes hundreds of pushes,
so while a run is under way the failures are only counted, and when the run ends one warning says what happened
("live clients were not told; the relay sweep will send N changes"). Outside a run each failure is one line. Never
a traceback: an unreachable Redis is an expected state, not a bug.
"""

from __future__ import annotations

import contextvars
import logging
from dataclasses import dataclass

from changelog.models import DataChangeLog

logger = logging.getLogger("realtime")


@dataclass
class _Window:
    label: str
    failures: int = 0
    first_error: str = ""


_window: contextvars.ContextVar[_Window | None] = contextvars.ContextVar("live_push_window", default=None)


def push_failed(what: str, error: BaseException | str) -> None:
    """A push could not reach the channel layer: counted during a run, one warning line otherwise."""
    reason = (str(error) or type(error).__name__) if isinstance(error, BaseException) else error
    window = _window.get()
    if window is not None:
        window.failures += 1
        window.first_error = window.first_error or reason
        logger.debug("%s: channel layer unreachable (%s)", what, reason)
        return
    logger.warning("%s: channel layer unreachable (%s); live clients were not told", what, reason)


def window_open(label: str) -> None:
    """Start counting push failures in this context (an ingestion run has started)."""
    if _window.get() is None:
        _window.set(_Window(label=label))


def window_close() -> None:
    """Stop counting; one warning if any push failed, naming what the sweep will send."""
    window = _window.get()
    _window.set(None)
    if window is None or not window.failures:
        return
    unsent = DataChangeLog.objects.unsent().count()
    logger.warning(
        "%s: live clients were not told (channel layer unreachable: %s); the relay sweep will send %d change(s) "
        "once it is back", window.label, window.first_error, unsent,
    )
