"""Writing the change log: every change to public data records DataChangeLog rows in its transaction.

Callers are services that already hold the transaction that writes the row; this module only shapes the log
entries (JSON-safe values, the entity's group keys, the project's status and type at the change) so that
every writer records changes the same way. `change_log_record` writes one entry; `change_log_record_many`
writes a batch in one INSERT (bulk creation paths) and shapes each entry exactly as the single path does.
`change_log_rewrite` is the one exception to "rows are never changed": moderators' edits remove text from
earlier rows (see its docstring).

After the transaction commits, `changes_committed` is sent once (see `changelog.signals` for why a signal):
the relay in `realtime` listens to it and sends the new rows to live clients.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from django.contrib.gis.geos import GEOSGeometry, Point
from django.db import transaction

from changelog.models import ChangeType, DataChangeLog
from changelog.signals import changes_committed


class ProjectFacts(Protocol):
    """What the change log keeps of the project a change belongs to (a `projects.Project` satisfies it)."""

    pk: Any
    status: str
    project_type: str


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


@dataclass(frozen=True)
class ChangeEntry:
    """One change to record. `project` (when the change belongs to one) gives the project id, status and type
    that live clients filter on; pass it as it is after the change."""

    entity_type: str
    entity_id: object
    change_type: str
    source: str
    old_values: Mapping[str, Any] = field(default_factory=dict)
    new_values: Mapping[str, Any] = field(default_factory=dict)
    municipality_code: str = ""
    project: ProjectFacts | None = None


def change_log_record(
    *,
    entity_type: str,
    entity_id: object,
    change_type: str,
    source: str,
    old_values: Mapping[str, Any] | None = None,
    new_values: Mapping[str, Any] | None = None,
    municipality_code: str = "",
    project: ProjectFacts | None = None,
) -> DataChangeLog:
    """Record one change. Must run inside the transaction that made it (so both commit or neither does)."""
    entry = ChangeEntry(
        entity_type=entity_type, entity_id=entity_id, change_type=change_type, source=source,
        old_values=old_values or {}, new_values=new_values or {}, municipality_code=municipality_code,
        project=project,
    )
    row = _row(entry)
    row.save(force_insert=True)
    _announce_after_commit_once()
    return row


def change_log_record_many(*, entries: Iterable[ChangeEntry]) -> list[DataChangeLog]:
    """Record a batch of changes in one INSERT, inside the transaction that made them (bulk creation)."""
    rows = DataChangeLog.objects.bulk_create([_row(entry) for entry in entries])
    if rows:
        _announce_after_commit_once()
    return rows


def change_log_rewrite(
    *, entity_type: str, entity_id: object, values: Mapping[str, Any], match: Mapping[str, Any] | None = None
) -> int:
    """Put `values` in place of the same keys in the old and new values of one entity's earlier rows (only keys
    a row already has; with `match`, only rows whose new values hold each of its items). Returns how many rows
    changed. Must run inside the transaction of the change that calls for it.

    The log is otherwise append-only. This exists because it is public history: the feeds, the live pages'
    replay and the alert emails read these rows, not the report. When a moderator removes what a resident wrote
    (a name, a phone number, abuse), the removed text must go from the older rows too, or it stays public for
    good; the rows keep their facts (what changed, when, from where) and show the values as they are now.
    `field_changes` is left alone: it names fields, never values. Nothing is re-sent: live clients get the edit's
    own new row, and what was already pushed or emailed cannot be recalled.
    """
    shaped = {key: to_json_value(value) for key, value in values.items()}
    wanted = {key: to_json_value(value) for key, value in (match or {}).items()}
    changed = []
    for row in DataChangeLog.objects.for_entity(entity_type, entity_id).only("pk", "old_values", "new_values"):
        new = row.new_values if isinstance(row.new_values, dict) else {}
        if any(key not in new or new[key] != value for key, value in wanted.items()):
            continue
        dirty = False
        for side in (row.old_values, row.new_values):
            if not isinstance(side, dict):
                continue
            for key, value in shaped.items():
                if key in side and side[key] != value:
                    side[key], dirty = value, True
        if dirty:
            changed.append(row)
    DataChangeLog.objects.bulk_update(changed, ["old_values", "new_values"])
    return len(changed)


def _row(entry: ChangeEntry) -> DataChangeLog:
    old = {k: to_json_value(v) for k, v in entry.old_values.items()}
    new = {k: to_json_value(v) for k, v in entry.new_values.items()}
    if entry.change_type == ChangeType.UPDATED:
        fields = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    else:
        fields = sorted(set(old) | set(new))
    project = entry.project
    return DataChangeLog(
        entity_type=entry.entity_type,
        entity_id=str(entry.entity_id),
        change_type=entry.change_type,
        source=entry.source,
        old_values=old,
        new_values=new,
        field_changes=fields,
        municipality_code=entry.municipality_code or "",
        project_id=str(project.pk) if project is not None else "",
        project_status=project.status if project is not None else "",
        project_type=project.project_type[:200] if project is not None else "",
    )


def _announce_after_commit_once() -> None:
    # One announcement per transaction is enough (the relay sends every unsent row); an ingestion batch writes
    # hundreds of rows, and a callback per row would make as many empty relay runs after the commit.
    # Atomic blocks nest, so a callback still queued was registered in a block that encloses this one or that
    # has already been released into it; either way it runs whenever this row commits (a rolled-back
    # savepoint removes its callbacks from the queue).
    connection = transaction.get_connection()
    if connection.in_atomic_block and any(func is _announce for _, func, _ in connection.run_on_commit):
        return
    transaction.on_commit(_announce)


def _announce() -> None:
    changes_committed.send(sender=DataChangeLog)


# What a removed value reads as: empty, so every reader (history sentences, feeds, alert emails, live clients)
# treats the key as saying nothing, exactly as when it was never written.
REMOVED = ""


def change_log_scrub(*, rows: Iterable[DataChangeLog], keep: Collection[str]) -> int:
    """Blank every value in these rows' old and new values whose key is not in `keep`; returns how many rows.

    The change log is append-only because it is the public history, and so it is the one exception: when a
    moderator removes a report or an update for illegal content, its text must not live on in the history,
    feeds, replays to live clients or alert emails, which all read these rows. Only the values go: the rows,
    their keys, times and ids stay, so the history still shows that something happened and the relay's and the
    alerts' marks stay true. Rows the alerts have not matched yet are marked matched: removed content is no
    news to email about.
    """
    scrubbed = list(rows)
    for row in scrubbed:
        row.old_values = {k: (v if k in keep else REMOVED) for k, v in (row.old_values or {}).items()}
        row.new_values = {k: (v if k in keep else REMOVED) for k, v in (row.new_values or {}).items()}
        row.alerts_matched = True
    # One statement for all of them, as change_log_rewrite writes its rows (not one UPDATE a row).
    DataChangeLog.objects.bulk_update(scrubbed, ["old_values", "new_values", "alerts_matched"])
    return len(scrubbed)
