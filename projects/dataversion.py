"""The data version: what the public data looks like now, as a short string that changes with every write.

Cached API bodies, map grids and insight figures are keyed by it, so none is served after the data it was built
from changed. Reading it is one cheap query (three index look-ups): the newest change-log id (every service write
records one: projects, budgets, reports, "affected too", moderation, deletions), the newest project `updated_at`
(writes that bypass the services, such as seeds) and the newest `last_scraped_at` (ingestion refreshes the fetch
date of unchanged projects without logging).

On PostgreSQL a page process does not ask per request: the database pushes the version. Triggers on the project
and change-log tables (migration projects/0007) send a notification carrying the writing transaction's id when it
commits, and a thread in each page process (`enable_push`, called by the WSGI and ASGI entry points) listens and
keeps the version in memory. A warm read then touches no database at all (issue 19 and 17's "hot reads"). Why
this is as fresh as the query, and fresher:
- PostgreSQL delivers notifications when, and only when, the transaction commits, in commit order, to every
  listener; a transaction id is never reused. So a pushed version names exactly one committed state, and the
  processes move through the same versions in the same order (the shared insights cache stays shared).
- The query could miss a transaction that took its change-log id before another's but committed after it; the
  push sees every commit, deletions included.
- The pushed version arrives a few milliseconds after a commit. For the process's own writes that could be too
  late for the resident's next request, so for a second after a write request (`LocalWriteGuard`) the process
  asks the database as before.
- While the listening connection is down (the database restarting, say), the version is unknown and every read
  asks the database as before; when it is back, the listener reads the version once and listens again.
Elsewhere (SpatiaLite, which has no notifications; the django-q2 worker; management commands; tests in one
transaction, which never commit) every call asks the database.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import connection, connections
from django.http import HttpRequest, HttpResponse

from changelog.models import DataChangeLog
from projects.models import Project

CHANNEL = "bukaamanzi_data_version"
APPLICATION_NAME = "bukaamanzi data version listener"
PUSHED_PREFIX = "tx"  # a pushed version: "tx" and the id of the transaction whose commit it names
# How long after a write request this process asks the database instead of trusting the push.
LOCAL_WRITE_SECONDS = 1.0
# How often an idle listener checks its connection; a dead one is replaced within this.
IDLE_CHECK_SECONDS = 10.0
# How often the listener wakes to see whether it should stop.
WAKE_SECONDS = 0.5
RETRY_SECONDS = 1.0
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

logger = logging.getLogger(__name__)


def _version_sql() -> str:
    log, project = DataChangeLog._meta.db_table, Project._meta.db_table
    qn = connection.ops.quote_name
    return (
        f"SELECT (SELECT MAX(id) FROM {qn(log)}), (SELECT MAX(updated_at) FROM {qn(project)}), "  # noqa: S608
        f"(SELECT MAX(last_scraped_at) FROM {qn(project)})"
    )


def _format(row: tuple[object, ...]) -> str:
    return ":".join(str(part) for part in row)


def queried_version() -> str:
    """The version as the database says it now (one query on Django's connection of this thread)."""
    with connection.cursor() as cursor:
        cursor.execute(_version_sql())
        return _format(cursor.fetchone() or ())


class _Pushed:
    """The version the listener last heard, and until when this process's own writes make it untrusted."""

    def __init__(self) -> None:
        self.version: str | None = None
        self.wanted = False  # enable_push() was called: listen in this process and its forks
        self.heard = 0  # notifications heard by this process's listener
        self.distrust_until = 0.0
        self.pid: int | None = None  # the process the listener thread runs in (a fork has no thread)
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None
        self.lock = threading.Lock()


_pushed = _Pushed()


def data_version() -> str:
    """What the public data looks like now: the pushed version when there is a trusted one, else the query's."""
    return pushed_version() or queried_version()


def shared_version(version: str) -> str:
    """The name every process gives the state `version` names: itself when it was queried, else the query's now.

    A pushed version ("tx" and the transaction id) is known only to listening processes; a cache shared with
    processes that do not listen (the worker warming the insights) must be keyed by the queried form.
    """
    return queried_version() if version.startswith(PUSHED_PREFIX) else version


def pushed_version() -> str | None:
    """The version heard from the database, free to read; None when there is none to trust (not PostgreSQL, the
    listener not connected, or this process wrote a moment ago)."""
    if _pushed.wanted and _pushed.pid != os.getpid():
        _start_listener()  # a forked child: its parent's thread did not come along
    version = _pushed.version
    if version is not None and time.monotonic() >= _pushed.distrust_until:
        return version
    return None


def push_enabled() -> bool:
    return bool(getattr(settings, "DATA_VERSION_PUSH", False)) and connection.vendor == "postgresql"


def enable_push() -> None:
    """Listen in this process (and in any child forked from it) when the setting is on and the database is
    PostgreSQL; the page server's entry points call it."""
    if push_enabled():
        _pushed.wanted = True
        _start_listener()


def _start_listener() -> None:
    with _pushed.lock:
        if _pushed.pid == os.getpid():
            return
        _pushed.pid, _pushed.version = os.getpid(), None
        _pushed.stop = threading.Event()
        _pushed.thread = threading.Thread(target=_listen_forever, args=(_pushed.stop,),
                                          name="data-version-listener", daemon=True)
        _pushed.thread.start()


def disable_push() -> None:
    """Stop the listener and forget its version (tests; a process that is about to drop its database)."""
    with _pushed.lock:
        thread, _pushed.thread, _pushed.pid, _pushed.wanted = _pushed.thread, None, None, False
        _pushed.stop.set()
    if thread is not None:
        thread.join(timeout=2 * WAKE_SECONDS + 5)
    _pushed.version, _pushed.distrust_until = None, 0.0


def notifications_heard() -> int:
    """How many versions this process has heard pushed (one per committed writing transaction)."""
    return _pushed.heard


def note_local_write() -> None:
    """A write request ran in this process: ask the database for a moment, until the push has surely caught up."""
    _pushed.distrust_until = time.monotonic() + LOCAL_WRITE_SECONDS


def _listen_forever(stop: threading.Event) -> None:
    failing = False
    while not stop.is_set():
        try:
            _listen_until(stop)
        except Exception:  # noqa: BLE001 (the database restarting, a network error: retried, logged once)
            if not failing:
                logger.warning("data version listener lost its connection; reading the version per request "
                               "until it is back", exc_info=True)
            failing = True
        else:
            failing = False
        _pushed.version = None
        stop.wait(RETRY_SECONDS)


def _connection_params() -> dict[str, Any]:
    params = dict(connections["default"].get_connection_params())
    for django_only in ("cursor_factory", "context", "prepare_threshold"):
        params.pop(django_only, None)
    params["application_name"] = APPLICATION_NAME  # so pg_stat_activity shows what the connection is for
    return params


def _listen_until(stop: threading.Event) -> None:
    import psycopg  # only on PostgreSQL

    with psycopg.connect(**_connection_params(), autocommit=True) as conn:
        conn.execute(f"LISTEN {CHANNEL}")
        # Read after listening: a commit in between is both in this read and in a notification that follows.
        row = conn.execute(_version_sql()).fetchone() or ()
        _pushed.version = _format(tuple(row))
        logger.info("listening for data version changes")
        checked = time.monotonic()
        while not stop.is_set():
            for notice in conn.notifies(timeout=WAKE_SECONDS):
                _pushed.version = PUSHED_PREFIX + notice.payload
                _pushed.heard += 1
                checked = time.monotonic()
            if time.monotonic() - checked > IDLE_CHECK_SECONDS:
                conn.execute("SELECT 1")  # quiet for a while: prove the connection is alive, or raise and reconnect
                checked = time.monotonic()


class LocalWriteGuard:
    """Middleware: after a request that may have written (any method but GET, HEAD, OPTIONS, TRACE), this
    process reads the data version from the database for LOCAL_WRITE_SECONDS (see the module's doc)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in SAFE_METHODS:
            return self.get_response(request)
        note_local_write()
        try:
            return self.get_response(request)
        finally:
            note_local_write()
