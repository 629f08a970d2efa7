"""What a change or a failed ingestion run is called as a webhook event, and the body sent for it (pure).

The body follows the Standard Webhooks payload shape: `{"type", "timestamp", "data"}`. A change's data is the
change-log row as live clients get it, with its id as `change_id`, so a receiver can drop a change it already has
(and ask the API for the entity's current state).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from changelog.models import ChangeType, DataChangeLog, EntityType
from ingestion.models import IngestionRun
from webhooks.models import EventType


def event_type_of(change: DataChangeLog) -> str | None:
    """The event a change is, or None when it is none we send (municipalities, deletions)."""
    if change.entity_type == EntityType.PROJECT:
        return {ChangeType.CREATED: EventType.PROJECT_CREATED,
                ChangeType.UPDATED: EventType.PROJECT_UPDATED}.get(ChangeType(change.change_type))
    if change.entity_type == EntityType.BUDGET and change.project_id:
        return EventType.PROJECT_UPDATED  # a project's budget is part of the project to its readers
    if change.entity_type == EntityType.REPORT:
        if change.change_type == ChangeType.CREATED:
            return EventType.REPORT_CREATED
        if change.change_type == ChangeType.UPDATED:
            # A new state is its own event (the one most receivers want); each change makes one event only.
            return EventType.REPORT_STATE_CHANGED if "state" in (change.field_changes or ()) \
                else EventType.REPORT_UPDATED
    return None


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def change_payload(change: DataChangeLog, event_type: str) -> dict[str, Any]:
    return {
        "type": event_type,
        "timestamp": _iso(change.created_at),
        "data": {
            "change_id": change.pk,
            "entity_type": change.entity_type,
            "entity_id": change.entity_id,
            "change_type": change.change_type,
            "changes": change.field_changes,
            "old_values": change.old_values,
            "new_values": change.new_values,
            "source": change.source,
            "project_id": change.project_id or None,
            "municipality_code": change.municipality_code or None,
        },
    }


def run_payload(run: IngestionRun) -> dict[str, Any]:
    return {
        "type": EventType.INGESTION_FAILED.value,
        "timestamp": _iso(run.finished_at),
        "data": {
            "run_id": run.pk,
            "source": run.source,
            "kind": run.kind,
            "status": run.status,
            "error": run.error,
            "started_at": _iso(run.started_at),
            "finished_at": _iso(run.finished_at),
        },
    }
