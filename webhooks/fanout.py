"""The fan-out: committed changes and failed ingestion runs turned into events and one delivery per subscription.

It reads the change log as the relay does (an outbox, oldest first), in the worker's webhooks pass (queued after
every commit that wrote changes, and every minute), but keeps its own mark, so neither waits for the other and the
change log needs no column of ours. The mark is a floor plus a set: every change at or below `FanoutFloor.change_id`
is done, and `ChangeSeen` lists those above it that are. Ids commit out of order on PostgreSQL (a transaction can
take id 10 and commit after id 11's), so a bare cursor could step over a change still being committed; the floor
only moves over changes older than `FLOOR_GRACE`, longer than any transaction that writes changes, and what lies
above it is read again until it is seen.

Events, deliveries and marks of a batch are written in one transaction, under one lock (PostgreSQL: an
advisory lock; SpatiaLite: the write lock every transaction takes), so a change makes its deliveries once
however many processes run the fan-out, and a worker that dies mid-batch leaves the batch for the next one.

A subscription hears of what happens after it was made, and only of active subscriptions at the time.
Failed ingestion runs are not in the change log: the runs that failed in the last `RUN_LOOKBACK` and have no
event yet are read at each pass.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Exists, Max, Min, OuterRef
from django.utils import timezone

from changelog.models import DataChangeLog
from ingestion.models import IngestionRun, RunStatus
from municipalities.models import Municipality
from webhooks.events import change_payload, event_type_of, run_payload
from webhooks.models import ChangeSeen, Delivery, Event, EventType, FanoutFloor, Subscription

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
FLOOR_GRACE = dt.timedelta(minutes=10)
RUN_LOOKBACK = dt.timedelta(days=1)
_PG_LOCK_KEY = 0x7768_6B73  # "whks": any constant, the same in every process


@dataclass(frozen=True)
class _Wanted:
    """A subscription as the fan-out matches it (read once per batch)."""

    pk: int
    created_at: dt.datetime
    event_types: frozenset[str]
    municipality_code: str
    province: str

    def wants(self, event_type: str, at: dt.datetime) -> bool:
        return event_type in self.event_types and at >= self.created_at

    def covers(self, municipality_code: str, province: str | None) -> bool:
        """The area filters (a change with no municipality passes neither)."""
        if self.municipality_code and self.municipality_code != municipality_code.upper():
            return False
        return not (self.province and self.province != province)


def _subscriptions() -> list[_Wanted]:
    return [_Wanted(pk, created_at, frozenset(types or ()), code.upper(), province)
            for pk, created_at, types, code, province in Subscription.objects.active().values_list(
                "pk", "created_at", "event_types", "municipality_code", "province")]


def fanout_pending() -> int:
    """Fan out every unseen change and failed run; returns the number of deliveries written."""
    written = 0
    while True:
        made, read = _locked(_change_batch)
        written += made
        if read < BATCH_SIZE:
            break
    made, _read = _locked(_run_batch)
    return written + made


def _locked(step: Callable[[], tuple[int, int]]) -> tuple[int, int]:
    try:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = %s",
                                   [f"{int(settings.RELAY_LOCK_TIMEOUT_SECONDS * 1000)}ms"])
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PG_LOCK_KEY])
            return step()
    except DatabaseError as exc:
        text = str(exc).lower()
        if "lock timeout" in text or "database is locked" in text:
            # Another fan-out holds the lock: it (or the next sweep) does this work.
            logger.warning("Webhook fan-out lock busy; leaving the work to the holder")
            return 0, 0
        raise


def _change_batch() -> tuple[int, int]:
    floor, _created = FanoutFloor.objects.get_or_create(pk=1)
    seen = ChangeSeen.objects.filter(change_id=OuterRef("pk"))
    changes = list(DataChangeLog.objects.filter(pk__gt=floor.change_id).exclude(Exists(seen)).order_by("pk")
                   [:BATCH_SIZE])
    written = 0
    if changes:
        subscriptions = _subscriptions()
        written = _write(changes, subscriptions) if subscriptions else 0
        ChangeSeen.objects.bulk_create([ChangeSeen(change_id=c.pk) for c in changes], ignore_conflicts=True)
    _move_floor(floor)
    return written, len(changes)


def _write(changes: list[DataChangeLog], subscriptions: list[_Wanted]) -> int:
    codes = {c.municipality_code.upper() for c in changes if c.municipality_code}
    provinces = dict(Municipality.objects.filter(code__in=codes).values_list("code", "province")) if codes else {}
    provinces = {code.upper(): province for code, province in provinces.items()}
    events: list[Event] = []
    owed: dict[int, list[int]] = defaultdict(list)  # index in events -> subscription ids
    for change in changes:
        event_type = event_type_of(change)
        if event_type is None:
            continue
        code = change.municipality_code or ""
        wanting = [s.pk for s in subscriptions
                   if s.wants(event_type, change.created_at) and s.covers(code, provinces.get(code.upper()))]
        if wanting:
            owed[len(events)] = wanting
            events.append(Event(type=event_type, change_id=change.pk, payload=change_payload(change, event_type)))
    return _events_and_deliveries(events, owed)


def _events_and_deliveries(events: list[Event], owed: dict[int, list[int]]) -> int:
    if not events:
        return 0
    Event.objects.bulk_create(events)  # ids come back (RETURNING on PostgreSQL and SQLite)
    now = timezone.now()
    deliveries = [Delivery(subscription_id=sub, event_id=events[index].pk, next_attempt_at=now)
                  for index, subs in owed.items() for sub in subs]
    Delivery.objects.bulk_create(deliveries, batch_size=1000, ignore_conflicts=True)
    return len(deliveries)


def _move_floor(floor: FanoutFloor) -> None:
    """Raise the floor over changes older than FLOOR_GRACE that are all seen, and forget their marks."""
    old_enough = DataChangeLog.objects.filter(pk__gt=floor.change_id, created_at__lt=timezone.now() - FLOOR_GRACE)
    candidate = old_enough.aggregate(top=Max("pk"))["top"]
    if candidate is None:
        return
    unseen = DataChangeLog.objects.filter(pk__gt=floor.change_id, pk__lte=candidate).exclude(
        Exists(ChangeSeen.objects.filter(change_id=OuterRef("pk")))).aggregate(first=Min("pk"))["first"]
    new_floor = candidate if unseen is None else unseen - 1
    if new_floor > floor.change_id:
        FanoutFloor.objects.filter(pk=floor.pk).update(change_id=new_floor)
        ChangeSeen.objects.filter(change_id__lte=new_floor).delete()


def _run_batch() -> tuple[int, int]:
    since = timezone.now() - RUN_LOOKBACK
    runs = list(IngestionRun.objects.filter(status=RunStatus.FAILED, finished_at__gte=since).exclude(
        Exists(Event.objects.filter(run_id=OuterRef("pk")))).order_by("pk")[:BATCH_SIZE])
    if not runs:
        return 0, 0
    subscriptions = _subscriptions()
    events: list[Event] = []
    owed: dict[int, list[int]] = {}
    for run in runs:
        assert run.finished_at is not None
        # A source fails for every place at once: the area filters do not apply.
        wanting = [s.pk for s in subscriptions if s.wants(EventType.INGESTION_FAILED, run.finished_at)]
        if wanting:
            owed[len(events)] = wanting
            events.append(Event(type=EventType.INGESTION_FAILED, run_id=run.pk, payload=run_payload(run)))
    return _events_and_deliveries(events, owed), len(runs)
