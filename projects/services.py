"""Writes to projects and budgets.

`project_upsert_from_source` is the one path by which ingestion (and the demo loader) create and update
projects: it compares a content hash first (unchanged projects cost one comparison), then field by field,
keeps the fields a moderator locked (recording the value it did not write), and records each change in the
change log inside the caller's transaction.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from changelog.models import AdminAction, ChangeSource, ChangeType, EntityType
from changelog.services import change_log_record, to_json_value
from projects.models import LOCKABLE_FIELDS, Budget, Project

# Fields a source may set; anything else on Project belongs to the site (locks, hashes, timestamps).
SOURCE_FIELDS = (
    *LOCKABLE_FIELDS,
    "source_api_id",
    "function",
    "asset_class",
    "source_status",
    "raw_data",
    "is_demo",
)


@dataclass(frozen=True)
class BudgetLine:
    budget_type: str
    financial_year: str
    amount: Decimal
    quarter: int | None = None
    raw_data: Mapping[str, Any] = field(default_factory=dict)

    def key(self) -> tuple[str, str, int | None]:
        return (self.financial_year, self.budget_type, self.quarter)


@dataclass
class UpsertOutcome:
    project: Project
    action: str  # "created" | "updated" | "unchanged"
    changed_fields: list[str] = field(default_factory=list)
    skipped_locked: dict[str, Any] = field(default_factory=dict)


def content_hash(values: Mapping[str, Any], budgets: Iterable[BudgetLine]) -> str:
    """A stable hash of what the source said about one project (values and budgets)."""
    payload = {
        "values": {k: to_json_value(v) for k, v in sorted(values.items()) if k != "raw_data"},
        "budgets": sorted(
            [b.financial_year, b.budget_type, b.quarter, str(b.amount)] for b in budgets
        ),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _same(a: Any, b: Any) -> bool:
    # Amounts compare by value: a source sending "5" after "5.00" has changed nothing.
    if isinstance(a, Decimal) and isinstance(b, Decimal | int | str):
        try:
            return a == Decimal(str(b))
        except ArithmeticError:
            return False
    return to_json_value(a) == to_json_value(b)


def project_upsert_from_source(
    *,
    source: str,
    external_id: str,
    values: Mapping[str, Any],
    budgets: Iterable[BudgetLine] = (),
    fetched_at: Any = None,
    existing: Project | None = None,
) -> UpsertOutcome:
    """Create or update one project by its natural key (source + external_id). Call inside a transaction."""
    unknown = set(values) - set(SOURCE_FIELDS)
    if unknown:
        raise ValueError(f"fields a source may not set: {sorted(unknown)}")
    budgets = list(budgets)
    fetched_at = fetched_at or timezone.now()
    digest = content_hash(values, budgets)
    project = existing
    if project is None:
        project = Project.objects.filter(source=source, external_id=external_id).first()

    if project is None:
        project = Project(source=source, external_id=external_id, content_hash=digest, last_scraped_at=fetched_at)
        for name, value in values.items():
            setattr(project, name, value)
        if project.progress_percentage is not None:
            project.progress_changed_at = fetched_at
        project.full_clean(exclude=["municipality"], validate_unique=False, validate_constraints=False)
        project.save()
        _replace_budgets(project, budgets, source)
        change_log_record(
            entity_type=EntityType.PROJECT,
            entity_id=project.pk,
            change_type=ChangeType.CREATED,
            source=ChangeSource.ETL_PIPELINE,
            new_values={k: v for k, v in values.items() if k != "raw_data"},
            municipality_code=project.municipality_code,
            project=project,
        )
        return UpsertOutcome(project=project, action="created", changed_fields=sorted(values))

    if project.content_hash == digest:
        if project.last_scraped_at != fetched_at:
            Project.objects.filter(pk=project.pk).update(last_scraped_at=fetched_at)
        return UpsertOutcome(project=project, action="unchanged")

    old: dict[str, Any] = {}
    new: dict[str, Any] = {}
    skipped: dict[str, Any] = {}
    locked = set(project.locked_fields or [])
    for name, value in values.items():
        current = getattr(project, name)
        if name == "raw_data" or _same(current, value):
            continue
        if name in locked:
            skipped[name] = to_json_value(value)
            continue
        old[name], new[name] = current, value
        setattr(project, name, value)
    project.raw_data = values.get("raw_data", project.raw_data)
    if "progress_percentage" in new:
        project.progress_changed_at = fetched_at
    budget_changes = _replace_budgets(project, budgets, source)
    if budget_changes:
        old["budgets"], new["budgets"] = budget_changes
    project.content_hash = digest
    project.last_scraped_at = fetched_at
    project.save()
    if old or new:
        change_log_record(
            entity_type=EntityType.PROJECT,
            entity_id=project.pk,
            change_type=ChangeType.UPDATED,
            source=ChangeSource.ETL_PIPELINE,
            old_values=old,
            new_values={**new, **({"skipped_locked": skipped} if skipped else {})},
            municipality_code=project.municipality_code,
            project=project,
        )
    return UpsertOutcome(
        project=project, action="updated" if (old or new) else "unchanged", changed_fields=sorted(new),
        skipped_locked=skipped,
    )


def _replace_budgets(
    project: Project, budgets: list[BudgetLine], source: str
) -> tuple[dict[str, str], dict[str, str]] | None:
    """Make the project's budget rows equal to `budgets`; return (old, new) amounts by key if anything changed."""
    current = {(b.financial_year, b.budget_type, b.quarter): b for b in project.budgets.all()} if project.pk else {}
    wanted = {b.key(): b for b in budgets}
    old: dict[str, str] = {}
    new: dict[str, str] = {}
    for key, line in wanted.items():
        label = " ".join(str(part) for part in key if part is not None)
        row = current.get(key)
        if row is None:
            Budget.objects.create(
                project=project, budget_type=line.budget_type, financial_year=line.financial_year,
                quarter=line.quarter, amount=line.amount, source=source, raw_data=dict(line.raw_data),
            )
            new[label] = str(line.amount)
        elif row.amount != line.amount:
            old[label], new[label] = str(row.amount), str(line.amount)
            row.amount, row.raw_data = line.amount, dict(line.raw_data)
            row.save(update_fields=["amount", "raw_data", "updated_at"])
    for key, row in current.items():
        if key not in wanted:
            label = " ".join(str(part) for part in key if part is not None)
            old[label] = str(row.amount)
            row.delete()
    return (old, new) if (old or new) else None


class CorrectionError(ValueError):
    """A moderator's correction that cannot be applied; `field` names what to fix."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _require_reason(reason: str) -> str:
    if not reason or not reason.strip():
        raise CorrectionError("reason", "A reason is required for every correction.")
    return reason.strip()


def _log_moderation(
    *, project: Project, action: str, moderator: str, reason: str, old: dict[str, Any], new: dict[str, Any],
    metadata: dict[str, Any],
) -> None:
    AdminAction.objects.create(
        admin_name=moderator, target_type="project", target_id=str(project.pk), action=action, reason=reason,
        metadata={**metadata, "old": to_json_value(old), "new": to_json_value(new)},
    )
    # The change log is public history: it says that a moderator changed the project, not who or why
    # (that stays in the AdminAction), as for report moderation.
    change_log_record(
        entity_type=EntityType.PROJECT,
        entity_id=project.pk,
        change_type=ChangeType.UPDATED,
        source=ChangeSource.ADMIN_ACTION,
        old_values=old,
        new_values={**new, "action": action},
        municipality_code=project.municipality_code,
        project=project,
    )


@transaction.atomic
def project_correct(*, project: Project, values: Mapping[str, Any], moderator: str, reason: str) -> Project:
    """A moderator corrects one or more fields and locks them against ingestion.

    Writes one AdminAction (who, why, old and new values) and one change-log row for the whole correction.
    """
    reason = _require_reason(reason)
    not_lockable = sorted(set(values) - set(LOCKABLE_FIELDS))
    if not_lockable:
        raise CorrectionError(not_lockable[0], f"{', '.join(not_lockable)} cannot be corrected and locked.")
    if not values:
        raise CorrectionError("values", "Nothing to correct.")
    old_locked = list(project.locked_fields or [])
    old = {name: getattr(project, name) for name in values}
    for name, value in values.items():
        setattr(project, name, value)
    project.locked_fields = sorted(set(old_locked) | set(values))
    if "progress_percentage" in values and not _same(old["progress_percentage"], values["progress_percentage"]):
        project.progress_changed_at = timezone.now()
    project.full_clean(exclude=["municipality"], validate_unique=False)
    project.save()
    _log_moderation(
        project=project, action="correct", moderator=moderator, reason=reason,
        old={**old, "locked_fields": old_locked}, new={**values, "locked_fields": project.locked_fields},
        metadata={"fields": sorted(values)},
    )
    return project


@transaction.atomic
def project_unlock_fields(
    *, project: Project, field_names: Iterable[str], moderator: str, reason: str
) -> Project:
    """Lift locks so that the next ingestion run sets these fields from the source again. Values stay as they are."""
    reason = _require_reason(reason)
    names = sorted(set(field_names))
    old_locked = list(project.locked_fields or [])
    not_locked = [name for name in names if name not in old_locked]
    if not names or not_locked:
        raise CorrectionError("field_names", f"Not locked: {', '.join(not_locked) or '(none given)'}.")
    project.locked_fields = [name for name in old_locked if name not in names]
    # The content hash is cleared so that the next run compares field by field even when the source did not
    # change: the unlocked field then takes the source's value at once.
    project.content_hash = ""
    project.save(update_fields=["locked_fields", "content_hash", "updated_at"])
    _log_moderation(
        project=project, action="unlock", moderator=moderator, reason=reason,
        old={"locked_fields": old_locked}, new={"locked_fields": project.locked_fields}, metadata={"fields": names},
    )
    return project
