"""Loading projects: the run report, the municipality matcher and the batched upsert every source uses.

Projects are loaded in transactions of `INGESTION_BATCH_SIZE` records: the existing projects of a batch are read
in one query (with budgets), a project whose content hash is unchanged is skipped (one UPDATE of
`last_scraped_at` per batch), changed ones go through `project_upsert_from_source` (field diffs, locked fields
kept, change log in the same transaction) and new ones are created in bulk. A batch that fails is replayed record
by record so that one bad record is reported (run `partial`) without losing the others; a lost database
session is no bad record, and ends the run with the batch rolled back.

Municipalities are matched by MDB code, then by normalised name; unmatched records are stored without a
municipality and listed in the run's report, never dropped silently.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, InterfaceError, OperationalError, transaction

from changelog.models import ChangeSource, ChangeType, EntityType
from changelog.services import ChangeEntry, change_log_record_many, to_json_value
from ingestion.normalise import normalise_municipality_name
from municipalities.models import Municipality
from municipalities.services import municipality_locate_points, municipality_refresh_totals
from projects.demo import demo_data_remove
from projects.models import Budget, Project
from projects.services import BudgetLine, content_hash, project_upsert_from_source

REPORT_LIST_LIMIT = 500

_T = TypeVar("_T")


@dataclass
class RunReport:
    """What a run tells a maintainer beyond its counts. Lists are capped; their totals are not."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    sections: dict[str, Any] = field(default_factory=dict)
    lists: dict[str, list[Any]] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, item: Any) -> None:
        self.totals[name] = self.totals.get(name, 0) + 1
        items = self.lists.setdefault(name, [])
        if len(items) < REPORT_LIST_LIMIT:
            items.append(to_json_value(item))

    def note(self, text: str) -> None:
        self.add("notes", text)

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = dict(self.sections)
        for name, items in self.lists.items():
            data[name] = items
            if self.totals[name] > len(items):
                data[f"{name}_total"] = self.totals[name]
        return to_json_value(data)


def _chunks(items: Sequence[_T], size: int) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), max(size, 1)):
        yield items[start : start + size]


class MunicipalityMatcher:
    """Find a municipality by MDB code, then by normalised name (ignoring "Local Municipality", case, spaces)."""

    def __init__(self) -> None:
        self.by_code: dict[str, Municipality] = {}
        names: dict[str, list[Municipality]] = {}
        for municipality in Municipality.objects.all():
            self.by_code[municipality.code.upper()] = municipality
            for name in {municipality.name, municipality.long_name.split(",")[0] if municipality.long_name else ""}:
                if name:
                    names.setdefault(normalise_municipality_name(name), []).append(municipality)
        # A name shared by two municipalities (a district and a local, say) is no match at all.
        self.by_name = {key: found[0] for key, found in names.items() if len({m.pk for m in found}) == 1}

    def match(self, code: str | None, name: str | None) -> Municipality | None:
        if code and (found := self.by_code.get(code.strip().upper())):
            return found
        if name:
            return self.by_name.get(normalise_municipality_name(name))
        return None


@dataclass
class ProjectItem:
    """One project ready for `project_upsert_from_source`."""

    external_id: str
    values: dict[str, Any]
    budgets: list[BudgetLine]


def remove_demo_data(report: RunReport) -> None:
    """The first run that brings real projects removes the demo data (call inside a transaction)."""
    if Project.objects.filter(is_demo=True).exists():
        report.sections["demo_projects_removed"] = demo_data_remove()


def _is_bad_record_error(error: Exception) -> bool:
    # A stopped or restarted database (or a session it ended) is no record's fault: replaying the batch record by
    # record would report good records as bad, or load some of them once the server is back (a run half-written
    # from that batch on). It ends the run instead, with the batch in flight rolled back (ingestion.services).
    if isinstance(error, OperationalError | InterfaceError):
        return False
    return isinstance(error, DatabaseError | ValidationError | ValueError)


def load_projects(
    *, source: str, items: Sequence[ProjectItem], report: RunReport, fetched_at: dt.datetime,
    progress: Callable[[], None] | None = None,
) -> set[str]:
    """Upsert projects in batches; return the codes of municipalities whose projects changed. `progress` is
    called after each batch, outside its transaction (the run's heartbeat)."""
    touched: set[str] = set()
    for number, batch in enumerate(_chunks(items, settings.INGESTION_BATCH_SIZE)):
        if progress is not None and number:
            progress()
        counts = RunReport()
        try:
            with transaction.atomic():
                touched |= _load_batch(source, batch, fetched_at, counts)
            _merge_counts(report, counts)
        except Exception as error:
            if not _is_bad_record_error(error):
                raise
            # Replay the batch one record at a time to keep the good ones and name the bad one.
            for item in batch:
                single = RunReport()
                try:
                    with transaction.atomic():
                        touched |= _load_batch(source, [item], fetched_at, single)
                    _merge_counts(report, single)
                except Exception as record_error:
                    if not _is_bad_record_error(record_error):
                        raise
                    report.failed += 1
                    report.add("errors", {"external_id": item.external_id, "error": str(record_error)[:500]})
    return touched


def _merge_counts(report: RunReport, batch: RunReport) -> None:
    report.created += batch.created
    report.updated += batch.updated
    report.unchanged += batch.unchanged
    for name, items in batch.lists.items():
        for item in items:
            report.add(name, item)


def _load_batch(source: str, batch: Sequence[ProjectItem], fetched_at: dt.datetime, counts: RunReport) -> set[str]:
    """Load one batch inside the caller's transaction; counts and report lists go to `counts` (merged on commit).

    Three queries decide what each record needs: the (external_id, content hash) pairs of the batch; full rows
    (with budgets) only for projects whose hash differs; new projects are created in bulk.
    """
    hashes = {item.external_id: content_hash(item.values, item.budgets) for item in batch}
    stored = {
        external_id: (pk, digest)
        for external_id, pk, digest in Project.objects.filter(source=source, external_id__in=list(hashes))
        .values_list("external_id", "pk", "content_hash")
    }
    unchanged_pks = [stored[key][0] for key, digest in hashes.items() if key in stored and stored[key][1] == digest]
    counts.unchanged += len(unchanged_pks)
    if unchanged_pks:
        Project.objects.filter(pk__in=unchanged_pks).update(last_scraped_at=fetched_at)
    changed = [
        item for item in batch
        if item.external_id in stored and stored[item.external_id][1] != hashes[item.external_id]
    ]
    new = [item for item in batch if item.external_id not in stored]

    touched: set[str] = set()
    existing = {
        project.external_id: project
        for project in Project.objects.filter(source=source, external_id__in=[item.external_id for item in changed])
        .select_related("municipality")
        .prefetch_related("budgets")
    } if changed else {}
    for item in changed:
        project = existing[item.external_id]
        old_code = project.municipality_code or None
        outcome = project_upsert_from_source(
            source=source, external_id=item.external_id, values=item.values, budgets=item.budgets,
            fetched_at=fetched_at, existing=project,
        )
        if outcome.action == "updated":
            counts.updated += 1
            new_code = outcome.project.municipality_code or None
            touched |= {code for code in (old_code, new_code) if code}
        else:
            counts.unchanged += 1
        if outcome.skipped_locked:
            counts.add("skipped_locked", {"external_id": item.external_id, "project_id": outcome.project.pk,
                                          "values": outcome.skipped_locked})
    if new:
        touched |= _create_projects(source, new, hashes, fetched_at)
        counts.created += len(new)
    return touched


def _create_projects(
    source: str, items: Sequence[ProjectItem], hashes: dict[str, str], fetched_at: dt.datetime
) -> set[str]:
    """Create new projects with their budgets and "created" change-log rows in three bulk INSERTs.

    The same rows `project_upsert_from_source` writes for a new project (validated the same way), without its
    per-row queries: that is what lets a first harvest of thousands of projects load at hundreds per second.
    The change-log rows go through the change-recording service's batch call, as every change does.
    """
    projects: list[Project] = []
    budgets: list[Budget] = []
    entries: list[ChangeEntry] = []
    for item in items:
        project = Project(source=source, external_id=item.external_id, content_hash=hashes[item.external_id],
                          last_scraped_at=fetched_at, **item.values)
        if project.progress_percentage is not None:
            project.progress_changed_at = fetched_at
        project.full_clean(exclude=["municipality"], validate_unique=False, validate_constraints=False)
        projects.append(project)
        budgets.extend(
            Budget(project=project, budget_type=line.budget_type, financial_year=line.financial_year,
                   quarter=line.quarter, amount=line.amount, source=source, raw_data=dict(line.raw_data))
            for line in item.budgets
        )
        logged = {key: value for key, value in item.values.items() if key != "raw_data"}
        entries.append(ChangeEntry(
            entity_type=EntityType.PROJECT, entity_id=project.pk, change_type=ChangeType.CREATED,
            source=ChangeSource.ETL_PIPELINE, new_values=logged,
            municipality_code=project.municipality.code if project.municipality else "", project=project,
        ))
    Project.objects.bulk_create(projects)
    Budget.objects.bulk_create(budgets)
    change_log_record_many(entries=entries)
    return {project.municipality.code for project in projects if project.municipality}


def finish_municipalities(touched: set[str], report: RunReport) -> None:
    if not touched:
        return
    with transaction.atomic():
        report.sections["municipality_totals_refreshed"] = municipality_refresh_totals(codes=sorted(touched))
    # Municipalities the gazetteer cannot place take the median of their projects' locations.
    with transaction.atomic():
        located = municipality_locate_points()
    report.sections["municipalities_without_point"] = located.without_point
