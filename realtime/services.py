"""Writing the change log: every change to public data records one DataChangeLog row in its transaction.

Callers are services that already hold the transaction that writes the row; this module only shapes the log
entry (JSON-safe values, the entity's group keys) so that every writer records changes the same way. Sending
rows to live clients is the relay's job (`realtime.relay`), run on commit.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.contrib.gis.geos import GEOSGeometry, Point
from django.db import transaction

from realtime.models import ChangeType, DataChangeLog


def to_json_value(value: Any) -> Any:
    """Decimal as a string (exact), dates ISO, points as [lng, lat]: what the API and pushes show."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Point):
        return [round(value.x, 6), round(value.y, 6)]
    if isinstance(value, GEOSGeometry):
        return value.geojson
    if isinstance(value, Mapping):
        return {str(k): to_json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json_value(v) for v in value]
    if hasattr(value, "pk"):
        return str(value.pk)
    return str(value)


def change_log_record(
    *,
    entity_type: str,
    entity_id: object,
    change_type: str,
    source: str,
    old_values: Mapping[str, Any] | None = None,
    new_values: Mapping[str, Any] | None = None,
    municipality_code: str = "",
    project_id: uuid.UUID | str | None = "",
) -> DataChangeLog:
    """Record one change. Must run inside the transaction that made it (so both commit or neither does)."""
    old = {k: to_json_value(v) for k, v in (old_values or {}).items()}
    new = {k: to_json_value(v) for k, v in (new_values or {}).items()}
    if change_type == ChangeType.UPDATED:
        fields = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    else:
        fields = sorted(set(old) | set(new))
    project_status, project_type = _project_snapshot(project_id)
    entry = DataChangeLog.objects.create(
        entity_type=entity_type,
        entity_id=str(entity_id),
        change_type=change_type,
        source=source,
        old_values=old,
        new_values=new,
        field_changes=fields,
        municipality_code=municipality_code or "",
        project_id=str(project_id or ""),
        project_status=project_status,
        project_type=project_type,
    )
    _schedule_relay_once()
    return entry


def _project_snapshot(project_id: uuid.UUID | str | None) -> tuple[str, str]:
    """The project's status and type now (inside the writing transaction), for live clients' filters."""
    if not project_id:
        return "", ""
    from projects.models import Project  # late: projects' services import this module

    row = Project.objects.filter(pk=project_id).values_list("status", "project_type").first()
    return (row[0], row[1][:200]) if row else ("", "")


def _schedule_relay_once() -> None:
    # One relay run per transaction is enough (it sends every unsent row); an ingestion batch writes
    # hundreds of rows, and a callback per row would make as many empty relay runs after the commit.
    # Atomic blocks nest, so a callback still queued was registered in a block that encloses this one or that
    # has already been released into it; either way it runs whenever this row commits (a rolled-back
    # savepoint removes its callbacks from the queue).
    connection = transaction.get_connection()
    if connection.in_atomic_block and any(func is _schedule_relay for _, func, _ in connection.run_on_commit):
        return
    transaction.on_commit(_schedule_relay)


def _schedule_relay() -> None:
    # Imported late: the relay needs the channel layer, which the models layer must not import.
    from realtime import relay

    relay.relay_after_commit()
