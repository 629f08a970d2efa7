"""The outbox relay: sends committed, unsent change-log rows to channel-layer groups, oldest first.

Where it runs: after every transaction that wrote change-log rows commits (`changelog.services` sends
`changes_committed` from `transaction.on_commit`; `realtime.receivers` calls `relay_after_commit`), in the web
process, the django-q2 worker and management commands alike, and every minute from the `relay_sweep` task, which
delivers rows left unsent while the channel layer was unreachable.

Why it is safe to run from several processes at once: one relay at a time holds a database lock while it reads
unsent rows, sends them and marks them sent (PostgreSQL: a transaction-scoped advisory lock plus
`SELECT ... FOR UPDATE SKIP LOCKED`; SpatiaLite: the write lock that `BEGIN IMMEDIATE` takes). A second relay
waits for the first, then finds only what is still unsent, so every row is sent once and in id order, which
is the order of commits for any one entity. A row is marked sent only after every group send for it
succeeded; if the channel layer fails part-way, the row stays unsent and is sent again later (consumers drop an
id they have already delivered, so a client never sees it twice).

It never raises into its caller: a web request whose change committed must not fail because Redis is down.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from changelog.models import DataChangeLog
from realtime import fragments
from realtime.groups import groups_for_change
from realtime.layers import groups_listened
from realtime.outage import push_failed

logger = logging.getLogger(__name__)

BATCH_SIZE = 200
# Any constant will do: it only has to be the same in every process that relays.
_PG_LOCK_KEY = 0x6275_6B61  # "buka"


@dataclass(frozen=True)
class Outgoing:
    """One change-log row as the channel layer carries it: the groups and the one message for all of them."""

    change_id: int
    groups: tuple[str, ...]
    message: dict[str, Any]


def wire_message(row: DataChangeLog) -> dict[str, Any]:
    """The `data_update` a client receives (also what replay sends): the contract's shape plus the id."""
    return {
        "type": "data_update",
        "id": row.pk,
        "timestamp": timezone.localtime(row.created_at).isoformat(),
        "data": {
            "entity_type": row.entity_type,
            "entity_id": row.entity_id,
            "change_type": row.change_type,
            "changes": row.field_changes,
            "old_values": row.old_values,
            "new_values": row.new_values,
            "source": row.source,
            "project_id": row.project_id or None,
            "municipality_code": row.municipality_code or None,
        },
    }


def match_values(row: DataChangeLog) -> dict[str, str]:
    """What consumers filter on, carried beside the message so that no consumer reads the database."""
    return {
        "entity_type": row.entity_type,
        "entity_id": row.entity_id,
        "project_id": row.project_id,
        "municipality_code": row.municipality_code.upper(),
        "status": row.project_status,
        "project_type": row.project_type,
    }


def outgoing_for(row: DataChangeLog) -> Outgoing:
    # Encoded once here rather than once per client in every consumer.
    text = json.dumps(wire_message(row), separators=(",", ":"), ensure_ascii=False)
    return Outgoing(
        change_id=row.pk,
        groups=tuple(groups_for_change(project_id=row.project_id, municipality_code=row.municipality_code)),
        message={"type": "change.update", "id": row.pk, "match": match_values(row), "text": text},
    )


def relay_after_commit() -> None:
    """Called once per committed transaction that wrote change-log rows. Never raises."""
    try:
        relay_pending()
    except Exception:  # the caller's change is committed; the sweep sends what this run could not
        logger.exception("Relay failed; unsent changes stay queued for the next run")


def relay_pending(*, max_rows: int | None = None) -> int:
    """Send unsent rows oldest first until none are left (or `max_rows`); return how many were sent.

    Raises nothing for an unreachable channel layer (it logs and leaves rows unsent); database errors other
    than a busy lock propagate to `relay_after_commit`, which logs them.
    """
    sent = 0
    while max_rows is None or sent < max_rows:
        batch = BATCH_SIZE if max_rows is None else min(BATCH_SIZE, max_rows - sent)
        delivered, claimed = _relay_batch(batch)
        sent += delivered
        if delivered < claimed or claimed < batch:
            break
    return sent


def _relay_batch(size: int) -> tuple[int, int]:
    try:
        with transaction.atomic():
            _take_relay_lock()
            rows = list(DataChangeLog.objects.select_for_update(skip_locked=True).unsent()[:size])
            if not rows:
                return 0, 0
            delivered = send_rows(rows)
            if delivered:
                DataChangeLog.objects.filter(pk__in=[row.pk for row in rows[:delivered]]).update(
                    notification_sent=True
                )
            return delivered, len(rows)
    except DatabaseError as exc:
        if _is_lock_timeout(exc):
            # Another relay holds the lock for longer than we wait: it (or the sweep) sends our rows.
            logger.warning("Relay lock busy; leaving unsent changes to the relay that holds it")
            return 0, 0
        raise


def _take_relay_lock() -> None:
    # SpatiaLite needs nothing more: settings open every transaction with BEGIN IMMEDIATE, which already holds
    # the database's single write lock until commit, so relays (and writers) queue behind each other.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = %s", [f"{int(settings.RELAY_LOCK_TIMEOUT_SECONDS * 1000)}ms"])
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PG_LOCK_KEY])


def _is_lock_timeout(exc: DatabaseError) -> bool:
    text = str(exc).lower()
    return "lock timeout" in text or "database is locked" in text


def send_rows(rows: Sequence[DataChangeLog]) -> int:
    """Send rows in order; return how many were fully sent (stops at the first failure)."""
    outgoing = [outgoing_for(row) for row in rows]
    try:
        listened = async_to_sync(_listened)(list(fragments.candidate_groups(rows)))
        return async_to_sync(_send_all)(outgoing, fragments.pushes_for(rows, listened))
    except Exception:  # async_to_sync itself failing (no loop available) must not break the caller either
        logger.exception("Relay could not run its sender")
        return 0


async def _listened(groups: list[str]) -> set[str]:
    """Open pages among `groups`; none if the layer cannot be asked (the send that follows will fail too)."""
    layer = get_channel_layer()
    if not groups or layer is None:
        return set()
    try:
        return await asyncio.wait_for(groups_listened(layer, groups), settings.RELAY_SEND_TIMEOUT_SECONDS)
    except Exception as exc:
        push_failed("Relay (which pages are open)", exc)
        return set()


async def _send_all(outgoing: Sequence[Outgoing], html: dict[int, list[tuple[str, dict[str, Any]]]]) -> int:
    layer = get_channel_layer()
    if layer is None:
        logger.warning("No channel layer configured; changes stay unsent")
        return 0
    timeout = settings.RELAY_SEND_TIMEOUT_SECONDS
    done = 0
    for item in outgoing:
        try:
            for group in item.groups:
                await asyncio.wait_for(layer.group_send(group, item.message), timeout)
            for group, message in html.get(item.change_id, []):
                await asyncio.wait_for(layer.group_send(group, message), timeout)
        except Exception as exc:  # Redis down, refused, timed out: all mean "try again later"
            push_failed(f"Relay ({len(outgoing) - done} change(s) left for the sweep)", exc)
            break
        done += 1
    return done
