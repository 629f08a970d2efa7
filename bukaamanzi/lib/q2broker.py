"""django-q2's ORM broker, made to ride out a database outage (Q_CLUSTER "broker_class").

Stock django-q2 1.11 lets a database error escape from its broker: the sentinel builds its broker in its
``__init__`` (``Broker.__init__`` -> ``ORM.get_connection`` -> ``transaction.get_autocommit``, which connects), so a
cluster starting, or a sentinel starting, while PostgreSQL is down exits with code 1; the pusher's failed dequeue
makes it sleep 10 s and exit; the monitor's failed acknowledgement kills it. Here a database error is logged, the
broken connection is closed (so the next call connects again), and the broker answers "nothing for now":
no tasks, an empty queue. Acknowledging waits for the database instead of giving up, so a task that ran during
the outage is not run again; and a task that was never acknowledged keeps its row in the queue table, where the
lock's expiry (Q_CLUSTER "retry") delivers it again: nothing is lost, nothing is deleted on a guess.
"""

from __future__ import annotations

import logging
import time
from contextlib import suppress
from typing import Any

from django.db import DatabaseError, InterfaceError, OperationalError, connections
from django_q.brokers.orm import ORM
from django_q.conf import Conf

logger = logging.getLogger(__name__)

# The errors a stopped, restarting or unreachable server gives; anything else (a bug) still raises.
DOWN_ERRORS = (OperationalError, InterfaceError)
# How long acknowledging keeps trying; past it the row stays locked and is delivered again after "retry".
ACK_PATIENCE_S = 300.0
# One warning per process every WARN_EVERY_S while the database is away, not one per poll.
WARN_EVERY_S = 30.0
_last_warning = -WARN_EVERY_S


def _forget_connection(exc: Exception) -> None:
    global _last_warning  # noqa: PLW0603 (a per-process rate limit on one log line)
    if time.monotonic() - _last_warning >= WARN_EVERY_S:
        _last_warning = time.monotonic()
        logger.warning("task broker: database unavailable (%s); will try again", str(exc).splitlines()[0])
    with suppress(DatabaseError):  # the socket is already gone; close() has still dropped Django's handle on it
        connections[Conf.ORM].close()


class ResilientORM(ORM):
    @staticmethod
    def get_connection(list_key: str | None = None) -> Any:
        try:
            return ORM.get_connection(list_key)
        except DOWN_ERRORS as exc:
            # The queryset is lazy: handing it back unconnected lets the broker be built while the server is down.
            _forget_connection(exc)
            from django_q.models import OrmQ

            return OrmQ.objects.using(Conf.ORM)

    def queue_size(self) -> int:
        try:
            return super().queue_size()
        except DOWN_ERRORS as exc:
            _forget_connection(exc)
            return 0

    def lock_size(self) -> int:
        try:
            return super().lock_size()
        except DOWN_ERRORS as exc:
            _forget_connection(exc)
            return 0

    def dequeue(self) -> Any:
        try:
            return super().dequeue()
        except DOWN_ERRORS as exc:
            # A lock taken just before the error stays in the row and expires after "retry": delivered again later.
            _forget_connection(exc)
            time.sleep(Conf.POLL or 1)
            return None

    def delete(self, task_id: Any) -> None:
        # Used by acknowledge() and fail(): wait for the database, so the done task's row goes and is not re-run.
        deadline = time.monotonic() + ACK_PATIENCE_S
        while True:
            try:
                super().delete(task_id)
                return
            except DOWN_ERRORS as exc:
                _forget_connection(exc)
                if time.monotonic() > deadline:
                    logger.error("task broker: could not acknowledge task row %s; it will be delivered again",
                                 task_id)
                    return
                time.sleep(1)
