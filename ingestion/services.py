"""The ingestion pipeline: one path for every source, from fetch to change log.

A run goes through these steps, and each one can end it:

1. **Start**: an `IngestionRun` row is created. The database allows one queued or running run per source
   (a unique constraint), so a second one is recorded as `refused` instead of overlapping. A run whose worker
   died (older than `INGESTION_STALE_AFTER_SECONDS`) is marked failed first. While a source's circuit breaker
   is open, the run is recorded as `skipped` without a request.
2. **Fetch and parse everything** before writing anything, through the shared HTTP session (`ingestion.http`)
   or from saved responses (`--from-file`). A page that is not what the parser knows raises
   `SourceFormatError`: the run fails with that message and nothing is written.
3. **Hash what was fetched.** Equal to the last successful run of the same source and kind: the run is recorded
   as `no_change` and nothing else is written. Municipal Money is hashed on the response bodies; the DWS pages
   on what was parsed from them, because their ViewState and validation tokens differ on every request.
4. **Load** in transactions of `INGESTION_BATCH_SIZE` records: existing projects of a batch are read in one query
   (with budgets), a project whose content hash is unchanged is skipped (one UPDATE of `last_scraped_at` per
   batch), the others go through `project_upsert_from_source`, which diffs fields, keeps locked fields and
   writes the change log in the same transaction. A batch that fails is replayed record by record so that one
   bad record is reported (run `partial`) without losing the others; batches already committed stay.
5. **Finish**: totals of touched municipalities are refreshed, the run records counts, unmatched records,
   skipped locked values and errors. A failure is announced to live clients (`realtime.notify`).

Municipalities are matched by MDB code, then by normalised name; unmatched records are stored without a
municipality and listed in the run's report, never dropped silently. Demo data is removed by the first run
that writes real data.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from changelog.models import ChangeSource, ChangeType, EntityType
from changelog.services import ChangeEntry, change_log_record, change_log_record_many, to_json_value
from ingestion import signals
from ingestion.http import SourceUnavailable, breaker_is_open
from ingestion.models import IngestionRun, RunStatus
from ingestion.normalise import normalise_municipality_name
from ingestion.sources import dws, municipal_money
from ingestion.sources.errors import SourceFormatError
from municipalities.models import CapitalSpend, Category, Municipality, Province
from municipalities.services import municipality_locate_points, municipality_refresh_totals
from projects.demo import demo_data_remove
from projects.models import Budget, Project, Source
from projects.services import BudgetLine, content_hash, project_upsert_from_source

logger = logging.getLogger(__name__)

TREASURY = "treasury"
DWS = "dws"
SOURCES = (TREASURY, DWS)
# The admin and older callers may name a source by its project source value.
SOURCE_ALIASES = {"treasury": TREASURY, "municipal_money": TREASURY, "dws": DWS}
KIND_FULL = "full"
KIND_CHANGE_CHECK = "change_check"
KINDS = {TREASURY: (KIND_FULL,), DWS: (KIND_FULL, KIND_CHANGE_CHECK)}
PROJECT_SOURCE = {TREASURY: Source.MUNICIPAL_MONEY, DWS: Source.DWS}
REPORT_LIST_LIMIT = 500

_T = TypeVar("_T")


class UnknownSource(ValueError):
    """`source` or `kind` is not one the pipeline knows; `field` names which."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name


def source_canonical(source: str) -> str:
    try:
        return SOURCE_ALIASES[source.strip().lower()]
    except KeyError:
        raise UnknownSource("source", f"Unknown source {source!r}: use one of {', '.join(SOURCES)}.") from None


# --------------------------------------------------------------------------------------------------------------
# The run report
# --------------------------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------------------------
# Run lifecycle
# --------------------------------------------------------------------------------------------------------------


def _expire_stale_runs(source: str) -> None:
    """A run left queued or running by a worker that died would block its source for ever."""
    limit = timezone.now() - dt.timedelta(seconds=settings.INGESTION_STALE_AFTER_SECONDS)
    IngestionRun.objects.active().of_source(source).filter(created_at__lt=limit).update(
        status=RunStatus.FAILED,
        finished_at=timezone.now(),
        error=f"Abandoned: still active after {settings.INGESTION_STALE_AFTER_SECONDS} s (its worker stopped).",
    )


def ingestion_start_run(
    *, source: str, kind: str = KIND_FULL, triggered_by: str = "", status: str = RunStatus.RUNNING
) -> IngestionRun:
    """Create a queued or running run, or a `refused` one when another run of the source is active."""
    source = source_canonical(source)
    if kind not in KINDS[source]:
        raise UnknownSource("kind", f"Unknown kind {kind!r} for {source}: use one of {', '.join(KINDS[source])}.")
    _expire_stale_runs(source)
    now = timezone.now()
    try:
        with transaction.atomic():
            run = IngestionRun.objects.create(
                source=source, kind=kind, status=status, triggered_by=triggered_by[:150],
                started_at=now if status == RunStatus.RUNNING else None,
            )
    except IntegrityError:
        active = IngestionRun.objects.active().of_source(source).first()
        what = f"run {active.pk} ({active.status}, {active.kind})" if active else "another run"
        run = IngestionRun.objects.create(
            source=source, kind=kind, status=RunStatus.REFUSED, triggered_by=triggered_by[:150],
            started_at=now, finished_at=now, error=f"Refused: {what} of {source} is under way.",
        )
    _announce_run_change()
    return run


def ingestion_queue_run(*, source: str, triggered_by: str, kind: str = KIND_FULL) -> IngestionRun:
    """Queue a run of one source on the django-q2 cluster; returns the run (status `queued`, or `refused`)."""
    from django_q.tasks import async_task  # at call time: it loads django-q2's broker, which only queuing needs

    run = ingestion_start_run(source=source, kind=kind, triggered_by=triggered_by, status=RunStatus.QUEUED)
    if run.status == RunStatus.QUEUED:
        # After commit: the worker must find the run row when it picks the task up.
        transaction.on_commit(
            lambda: async_task("ingestion.tasks.ingestion_task", run.pk, task_name=f"ingest {run.source} #{run.pk}")
        )
    return run


def ingestion_execute_run(*, run_id: int, from_path: Path | None = None, force: bool = False) -> IngestionRun:
    """Run a queued run (the task entry point). A run that is not queued any more is left as it is."""
    claimed = IngestionRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
        status=RunStatus.RUNNING, started_at=timezone.now()
    )
    run = IngestionRun.objects.get(pk=run_id)
    if not claimed:
        logger.warning("Ingestion run %s is %s, not queued: not run again", run_id, run.status)
        return run
    _announce_run_change()
    return _execute(run, from_path=from_path, force=force)


def ingestion_run_now(
    *, source: str, kind: str = KIND_FULL, triggered_by: str = "", from_path: Path | None = None, force: bool = False
) -> IngestionRun:
    """Run one source in this process (the `ingest` command); refused if another run of it is active."""
    run = ingestion_start_run(source=source, kind=kind, triggered_by=triggered_by, status=RunStatus.RUNNING)
    if run.status == RunStatus.REFUSED:
        return run
    return _execute(run, from_path=from_path, force=force)


def _execute(run: IngestionRun, *, from_path: Path | None, force: bool) -> IngestionRun:
    report = RunReport()
    status, error = RunStatus.SUCCESS, ""
    try:
        if from_path is None and breaker_is_open(run.source):
            status = RunStatus.SKIPPED
            error = f"{run.source} is failing: its circuit breaker is open; no request was made."
        else:
            pipeline = TreasuryPipeline if run.source == TREASURY else DwsPipeline
            status, error = pipeline(run, report, from_path=from_path, force=force).run()
    except SourceFormatError as exc:
        status, error = RunStatus.FAILED, f"The source's format was not recognised: {exc}. Nothing was written."
    except SourceUnavailable as exc:
        status, error = RunStatus.FAILED, f"The source could not be fetched: {exc}. Nothing was written."
    except Exception as exc:  # a run must always be closed and reported, whatever went wrong
        logger.exception("Ingestion run %s of %s failed", run.pk, run.source)
        status, error = RunStatus.FAILED, f"Unexpected error: {type(exc).__name__}: {exc}"

    run.status = status
    run.error = error
    run.finished_at = timezone.now()
    run.created_count, run.updated_count = report.created, report.updated
    run.unchanged_count, run.failed_count = report.unchanged, report.failed
    run.report = report.as_json()
    run.save()
    _announce_run_change()
    if status in (RunStatus.FAILED, RunStatus.PARTIAL):
        _announce_failure(run)
    if status == RunStatus.SUCCESS and run.source == DWS and run.kind == KIND_CHANGE_CHECK and not from_path:
        # The summaries changed: fetch the projects behind them now rather than at the next hourly sync.
        ingestion_queue_run(source=DWS, kind=KIND_FULL, triggered_by=f"change check run {run.pk}")
    return run


def _announce_run_change() -> None:
    """Open pipeline status pages show the run's new state (`realtime` listens to `run_changed`). After commit
    (at once outside a transaction), so the push renders what is committed."""
    transaction.on_commit(lambda: signals.run_changed.send(sender=IngestionRun))


def _announce_failure(run: IngestionRun) -> None:
    signals.run_failed.send(sender=IngestionRun, run=run)


# --------------------------------------------------------------------------------------------------------------
# Shared loading helpers
# --------------------------------------------------------------------------------------------------------------


def _chunks(items: Sequence[_T], size: int) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), max(size, 1)):
        yield items[start : start + size]


def _digest(parts: Iterable[bytes]) -> str:
    hasher = hashlib.sha256()
    for part in parts:
        hasher.update(hashlib.sha256(part).digest())
    return hasher.hexdigest()


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


def _remove_demo_data(report: RunReport) -> None:
    if Project.objects.filter(is_demo=True).exists():
        report.sections["demo_projects_removed"] = demo_data_remove()


def _is_bad_record_error(error: Exception) -> bool:
    return isinstance(error, DatabaseError | ValidationError | ValueError)


def load_projects(*, source: str, items: Sequence[ProjectItem], report: RunReport, fetched_at: dt.datetime) -> set[str]:
    """Upsert projects in batches; return the codes of municipalities whose projects changed."""
    touched: set[str] = set()
    for batch in _chunks(items, settings.INGESTION_BATCH_SIZE):
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


def _finish_municipalities(touched: set[str], report: RunReport) -> None:
    if not touched:
        return
    with transaction.atomic():
        report.sections["municipality_totals_refreshed"] = municipality_refresh_totals(codes=sorted(touched))
    # Municipalities the gazetteer cannot place take the median of their projects' locations.
    with transaction.atomic():
        located = municipality_locate_points()
    report.sections["municipalities_without_point"] = located.without_point


def _log_municipality(municipality: Municipality, old: dict[str, Any], new: dict[str, Any]) -> None:
    change_log_record(
        entity_type=EntityType.MUNICIPALITY, entity_id=municipality.pk, change_type=ChangeType.UPDATED,
        source=ChangeSource.ETL_PIPELINE, old_values=old, new_values=new, municipality_code=municipality.code,
    )


def _last_hash(source: str, kind: str) -> str | None:
    last = (
        IngestionRun.objects.of_source(source).successful().filter(kind=kind).exclude(fetched_hash="")
        .order_by("-created_at", "-pk").first()
    )
    return last.fetched_hash if last else None


def _json_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(path.glob("*.json"))
        if not files:
            raise SourceFormatError(f"{path}: no .json files in the directory")
        return files
    if not path.exists():
        raise SourceFormatError(f"{path}: no such file or directory")
    return [path]


# --------------------------------------------------------------------------------------------------------------
# Municipal Money (National Treasury)
# --------------------------------------------------------------------------------------------------------------


def treasury_external_id(record: municipal_money.ProjectRecord) -> str:
    """Stable and readable: code/project number/hash of the whole natural key (descriptions can be long)."""
    digest = hashlib.sha256("\x1f".join(record.natural_key).encode()).hexdigest()[:16]
    return f"{record.municipality_code}/{record.project_number[:400]}/{digest}"


def _latest_amount(record: municipal_money.ProjectRecord, phase: str, year: str | None = None) -> Decimal | None:
    matching = [e for e in record.expenditures if e.budget_phase.casefold() == phase]
    if year is not None:
        in_year = [e for e in matching if e.financial_year == year]
        matching = in_year or matching
    return max(matching, key=lambda e: e.financial_year).amount if matching else None


def treasury_project_item(
    record: municipal_money.ProjectRecord, municipality: Municipality | None, report: RunReport
) -> ProjectItem:
    """Municipal Money gives no total cost or status. `budget_allocated` is the "Budget year" amount of the
    project's latest implementation year (else its latest budget year); `budget_spent` is the latest audited
    outcome. Every phase and year is kept as a Budget row."""
    external_id = treasury_external_id(record)
    allocated = _latest_amount(record, "budget year", record.latest_implementation_year)
    spent = _latest_amount(record, "audited outcome")
    for name, amount in (("budget_allocated", allocated), ("budget_spent", spent)):
        if amount is not None and amount < 0:
            report.add("notes", f"{external_id}: negative {name} {amount} not stored (kept in its budget rows)")
    # JSON-safe (amounts arrive as Decimal); the search vector is the source's own index, not data.
    raw = to_json_value({key: value for key, value in record.raw.items() if key != "content_search"})
    values: dict[str, Any] = {
        "municipality": municipality,
        "name": (record.description or record.project_number or external_id)[:500],
        "description": record.description,
        "project_type": record.project_type[:200],
        "function": record.function[:200],
        "asset_class": record.asset_class[:200],
        "ward": record.ward_location[:100],
        "location": Point(record.longitude, record.latitude, srid=4326)
        if record.latitude is not None and record.longitude is not None else None,
        "budget_allocated": allocated if allocated is None or allocated >= 0 else None,
        "budget_spent": spent if spent is None or spent >= 0 else None,
        "source_api_id": str(record.api_id),
        "raw_data": raw,
        "is_demo": False,
    }
    # Identical repeated rows are one budget line (a conflicting repeat is refused before this point).
    lines = {
        (e.budget_phase[:100], e.financial_year): BudgetLine(
            budget_type=e.budget_phase[:100], financial_year=e.financial_year, amount=e.amount
        )
        for e in record.expenditures
    }
    budgets = list(lines.values())
    return ProjectItem(external_id=external_id, values=values, budgets=budgets)


def _conflicting_expenditure(record: municipal_money.ProjectRecord) -> str:
    seen: dict[tuple[str, str], Decimal] = {}
    for expenditure in record.expenditures:
        key = (expenditure.budget_phase, expenditure.financial_year)
        if key in seen and seen[key] != expenditure.amount:
            return f"two amounts for {key[0]} {key[1]}: {seen[key]} and {expenditure.amount}"
        seen[key] = expenditure.amount
    return ""


def _default_capital_years(today: dt.date) -> list[int]:
    """The last three completed municipal financial years (they end on 30 June)."""
    current_end = today.year + 1 if today.month >= 7 else today.year
    return [current_end - 3, current_end - 2, current_end - 1]


@dataclass
class TreasuryHarvest:
    bodies: list[bytes] = field(default_factory=list)
    geography: list[municipal_money.MunicipalityRecord] = field(default_factory=list)
    projects: list[municipal_money.ProjectRecord] = field(default_factory=list)
    capital: list[municipal_money.CapitalSpendRecord] = field(default_factory=list)
    declared_count: int | None = None


class TreasuryPipeline:
    source = TREASURY

    def __init__(self, run: IngestionRun, report: RunReport, *, from_path: Path | None, force: bool) -> None:
        self.run_row, self.report, self.from_path, self.force = run, report, from_path, force

    def harvest(self) -> TreasuryHarvest:
        return self._harvest_files(self.from_path) if self.from_path else self._harvest_network()

    def _harvest_network(self) -> TreasuryHarvest:
        harvest = TreasuryHarvest()
        fetched, harvest.geography = municipal_money.fetch_geography(settings.MUNICIPAL_MONEY_URL)
        harvest.bodies.append(fetched.body)
        pages = municipal_money.fetch_projects(settings.MUNICIPAL_MONEY_URL, page_size=settings.TREASURY_PAGE_SIZE)
        for fetched_page, page in pages:
            harvest.bodies.append(fetched_page.body)
            harvest.projects.extend(page.results)
            harvest.declared_count = page.count
        codes = sorted(Municipality.objects.current().values_list("code", flat=True))
        years = settings.TREASURY_CAPITAL_YEARS or _default_capital_years(timezone.localdate())
        for amount_type in settings.TREASURY_CAPITAL_AMOUNT_TYPES:
            for year in years:
                for fetched_cube, records in municipal_money.fetch_capital_spend(
                    settings.MUNICIPAL_DATA_URL, codes, year, amount_type, settings.TREASURY_CAPITAL_BATCH
                ):
                    harvest.bodies.append(fetched_cube.body)
                    harvest.capital.extend(records)
        return harvest

    def _harvest_files(self, path: Path) -> TreasuryHarvest:
        """Saved responses: each JSON file is recognised by its shape (geography array, projects page, cube)."""
        harvest = TreasuryHarvest()
        for file in _json_files(path):
            body = file.read_bytes()
            try:
                payload = municipal_money.load_json(body)
            except SourceFormatError as error:
                raise SourceFormatError(f"{file.name}: {error}") from error
            harvest.bodies.append(body)
            if isinstance(payload, list):
                harvest.geography.extend(municipal_money.parse_geography(payload))
            elif "results" in payload:
                harvest.projects.extend(municipal_money.parse_projects_page(payload).results)
            elif "cells" in payload:
                harvest.capital.extend(municipal_money.parse_capital_aggregate(payload))
            else:
                raise SourceFormatError(
                    f"{file.name}: neither a geography array, a projects page ('results') nor a cube ('cells')"
                )
        return harvest

    def run(self) -> tuple[RunStatus, str]:
        harvest = self.harvest()
        digest = _digest(harvest.bodies)
        self.run_row.fetched_hash = digest
        self.report.sections["fetched"] = {
            "responses": len(harvest.bodies), "municipalities": len(harvest.geography),
            "projects": len(harvest.projects), "capital_cells": len(harvest.capital),
        }
        if not self.force and digest == _last_hash(self.source, self.run_row.kind):
            return RunStatus.NO_CHANGE, ""
        fetched_at = timezone.now()
        matcher = MunicipalityMatcher()

        items = self._project_items(harvest.projects, matcher)
        self.report.sections["fetched"]["water_projects"] = len(items)
        if items:
            with transaction.atomic():
                _remove_demo_data(self.report)
        if harvest.geography:
            self._load_geography(harvest.geography)
            matcher = MunicipalityMatcher()
        touched = load_projects(source=Source.MUNICIPAL_MONEY, items=items, report=self.report, fetched_at=fetched_at)
        if harvest.capital:
            self._load_capital(harvest.capital, matcher, fetched_at)
        _finish_municipalities(touched, self.report)
        return (RunStatus.PARTIAL, f"{self.report.failed} record(s) could not be stored") if self.report.failed else (
            RunStatus.SUCCESS, ""
        )

    def _project_items(
        self, records: list[municipal_money.ProjectRecord], matcher: MunicipalityMatcher
    ) -> list[ProjectItem]:
        keywords = [keyword for keyword in settings.WATER_PROJECT_KEYWORDS if keyword.strip()]
        by_key: dict[str, ProjectItem] = {}
        not_water = 0
        for record in records:
            if not record.is_water_related(keywords):
                not_water += 1
                continue
            municipality = matcher.match(record.municipality_code, record.municipality_name)
            if municipality is None:
                self.report.add("unmatched", {
                    "kind": "project", "api_id": record.api_id, "municipality_code": record.municipality_code,
                    "municipality_name": record.municipality_name, "project_number": record.project_number,
                })
            conflict = _conflicting_expenditure(record)
            if conflict:
                # Two amounts for one phase and year: which is right cannot be known, so the record is refused.
                self.report.failed += 1
                self.report.add("errors", {"api_id": record.api_id, "external_id": treasury_external_id(record),
                                           "error": conflict})
                continue
            item = treasury_project_item(record, municipality, self.report)
            if item.external_id in by_key:
                self.report.note(f"duplicate natural key {item.external_id} (API ids "
                                 f"{by_key[item.external_id].values['source_api_id']} and {record.api_id}): last kept")
            by_key[item.external_id] = item
        self.report.sections["skipped_not_water"] = not_water
        return list(by_key.values())

    def _load_geography(self, records: list[municipal_money.MunicipalityRecord]) -> None:
        """Names refreshed, disestablished ones marked; codes are never deleted or given to another."""
        counts = {"renamed": 0, "disestablished": 0, "created": 0}
        with transaction.atomic():
            existing = {m.code.upper(): m for m in Municipality.objects.select_for_update()}
            for record in records:
                code = record.geo_code.upper()
                municipality = existing.get(code)
                if municipality is None:
                    self._create_municipality(record, existing, counts)
                    continue
                old: dict[str, Any] = {}
                new: dict[str, Any] = {}
                for name, value in (("name", record.name[:200]), ("long_name", record.long_name[:250]),
                                    ("disestablished", record.is_disestablished)):
                    if getattr(municipality, name) != value:
                        old[name], new[name] = getattr(municipality, name), value
                        setattr(municipality, name, value)
                if not new:
                    continue
                counts["renamed"] += "name" in new
                counts["disestablished"] += bool(new.get("disestablished"))
                municipality.save(update_fields=[*new, "updated_at"])
                _log_municipality(municipality, old, new)
        self.report.sections["municipalities"] = counts

    def _create_municipality(
        self, record: municipal_money.MunicipalityRecord, existing: dict[str, Municipality], counts: dict[str, int]
    ) -> None:
        if record.is_disestablished:
            return  # a code retired before our reference list: nothing to show under it
        if record.category not in Category.values or record.province_code not in Province.values:
            self.report.add("unmatched", {"kind": "municipality", "code": record.geo_code, "name": record.name,
                                          "reason": "unknown category or province"})
            return
        district = existing.get(record.parent_code.upper()) if record.parent_level == "district" else None
        municipality = Municipality.objects.create(
            code=record.geo_code.upper(), name=record.name[:200], long_name=record.long_name[:250],
            province=record.province_code, category=record.category, district=district,
        )
        existing[municipality.code] = municipality
        counts["created"] += 1
        change_log_record(
            entity_type=EntityType.MUNICIPALITY, entity_id=municipality.pk, change_type=ChangeType.CREATED,
            source=ChangeSource.ETL_PIPELINE, new_values={"code": municipality.code, "name": municipality.name},
            municipality_code=municipality.code,
        )

    def _load_capital(
        self, records: list[municipal_money.CapitalSpendRecord], matcher: MunicipalityMatcher, fetched_at: dt.datetime
    ) -> None:
        """One row per municipality, financial year and amount type, as the cube reports it (never summed)."""
        wanted: dict[tuple[str, str, str], tuple[Municipality, Decimal]] = {}
        not_reported = 0
        for record in records:
            if record.amount is None:
                not_reported += 1  # "not reported" is not R0: no row
                continue
            municipality = matcher.match(record.municipality_code, None)
            if municipality is None:
                self.report.add("unmatched", {"kind": "capital_spend", "municipality_code": record.municipality_code})
                continue
            wanted[(municipality.pk.hex, record.financial_year, record.amount_type)] = (municipality, record.amount)
        created = updated = 0
        with transaction.atomic():
            current = {
                (row.municipality_id.hex, row.financial_year, row.amount_type): row
                for row in CapitalSpend.objects.filter(municipality_id__in={m.pk for m, _ in wanted.values()})
            }
            new_rows, changed_rows = [], []
            changes: dict[str, tuple[Municipality, dict[str, Any], dict[str, Any]]] = {}
            for key, (municipality, amount) in wanted.items():
                label = f"capital_spend {key[1]} {key[2]}"
                row = current.get(key)
                if row is None:
                    new_rows.append(CapitalSpend(municipality=municipality, financial_year=key[1], amount_type=key[2],
                                                 amount=amount, fetched_at=fetched_at))
                elif row.amount != amount:
                    changes.setdefault(municipality.code, (municipality, {}, {}))[1][label] = row.amount
                    row.amount, row.fetched_at = amount, fetched_at
                    changed_rows.append(row)
                else:
                    continue
                changes.setdefault(municipality.code, (municipality, {}, {}))[2][label] = amount
            CapitalSpend.objects.bulk_create(new_rows)
            CapitalSpend.objects.bulk_update(changed_rows, ["amount", "fetched_at"])
            created, updated = len(new_rows), len(changed_rows)
            for municipality, old, new in changes.values():
                _log_municipality(municipality, old, new)
        self.report.sections["capital_spend"] = {"created": created, "updated": updated, "not_reported": not_reported}


# --------------------------------------------------------------------------------------------------------------
# DWS Project Monitoring Dashboard
# --------------------------------------------------------------------------------------------------------------


def dws_external_id(municipality_code: str, row: dws.DwsProjectRow) -> str:
    return f"{municipality_code or 'unknown'}/{row.project_number[:400]}"


def dws_project_item(row: dws.DwsProjectRow, municipality: Municipality | None, code: str, report: RunReport,
                     page_url: str) -> ProjectItem:
    external_id = dws_external_id(code, row)
    progress = row.progress_percent
    if progress is not None and not (0 <= progress <= 100):
        report.note(f"{external_id}: progress {progress}% outside 0-100, not stored")
        progress = None
    amounts = {"budget_allocated": row.total_cost, "budget_spent": row.expenditure}
    for name, amount in list(amounts.items()):
        if amount is not None and amount < 0:
            report.note(f"{external_id}: negative {name} {amount} not stored")
            amounts[name] = None
    values: dict[str, Any] = {
        "municipality": municipality,
        "name": row.name[:500],
        "project_type": row.programme[:200],
        "status": row.status,
        "source_status": row.status_text[:200],
        "start_date": row.start_date,
        "end_date": row.end_date,
        "progress_percentage": progress,
        "contractor": row.contractor[:300],
        **amounts,
        "raw_data": {"row": row.raw, "detail_url": row.detail_url, "page_url": page_url},
        "is_demo": False,
    }
    return ProjectItem(external_id=external_id, values=values, budgets=[])


@dataclass
class DwsHarvest:
    summaries: list[dws.MunicipalitySummary] = field(default_factory=list)
    # (municipality code from the summary or "", page url, rows)
    grids: list[tuple[str, str, list[dws.DwsProjectRow]]] = field(default_factory=list)
    pages_without_grid: list[str] = field(default_factory=list)
    index_is_dashboard: bool = False


def _summary_json(summary: dws.MunicipalitySummary) -> dict[str, Any]:
    return {"name": summary.name, "code": summary.code, "count": summary.project_count,
            "value": str(summary.total_value), "url": summary.dashboard_url}


class DwsPipeline:
    source = DWS

    def __init__(self, run: IngestionRun, report: RunReport, *, from_path: Path | None, force: bool) -> None:
        self.run_row, self.report, self.from_path, self.force = run, report, from_path, force

    def harvest(self) -> DwsHarvest:
        return self._harvest_files(self.from_path) if self.from_path else self._harvest_network()

    def _harvest_network(self) -> DwsHarvest:
        harvest = DwsHarvest()
        index_url = settings.DWS_PMD_URL.rstrip("/") + "/" + settings.DWS_INDEX_PATH.lstrip("/")
        _, index = dws.fetch_index(index_url)
        harvest.summaries, harvest.index_is_dashboard = index.summaries, index.is_dashboard_index
        if index.has_project_grid:
            harvest.grids.append(("", index_url, self._grid_of(index_url)))
        if self.run_row.kind == KIND_FULL:
            for summary in index.summaries:
                if not summary.dashboard_url:
                    self.report.note(f"{summary.code}: the index gives no link to its dashboard page")
                    continue
                found = dws.fetch_municipality_projects(summary.dashboard_url, max_pages=settings.DWS_MAX_GRID_PAGES)
                if found.has_project_grid:
                    harvest.grids.append((summary.code, found.url, found.rows))
                else:
                    harvest.pages_without_grid.append(summary.code)
        return harvest

    def _grid_of(self, url: str) -> list[dws.DwsProjectRow]:
        return dws.fetch_municipality_projects(url, max_pages=settings.DWS_MAX_GRID_PAGES).rows

    def _harvest_files(self, path: Path) -> DwsHarvest:
        """A saved page, or a directory with `index.html` and `<MDB code>.html` pages of municipalities."""
        harvest = DwsHarvest()
        if path.is_dir():
            index_file = path / "index.html"
            if not index_file.exists():
                raise SourceFormatError(f"{path}: a saved DWS directory needs an index.html")
            others = {file.stem.upper(): file for file in path.glob("*.html") if file != index_file}
        elif path.exists():
            index_file, others = path, {}
        else:
            raise SourceFormatError(f"{path}: no such file or directory")
        text = index_file.read_text(encoding="utf-8")
        index = dws.parse_index_page(text)
        harvest.summaries, harvest.index_is_dashboard = index.summaries, index.is_dashboard_index
        if index.has_project_grid:
            harvest.grids.append(("", str(index_file), dws.parse_project_grid(text)))
        for summary in index.summaries:
            file = others.get(summary.code)
            if file is None:
                continue
            page_text = file.read_text(encoding="utf-8")
            if dws.parse_index_page(page_text).has_project_grid:
                harvest.grids.append((summary.code, str(file), dws.parse_project_grid(page_text)))
            else:
                harvest.pages_without_grid.append(summary.code)
        return harvest

    def run(self) -> tuple[RunStatus, str]:
        harvest = self.harvest()
        canonical = {
            "summaries": [_summary_json(s) for s in harvest.summaries],
            "grids": [[code, [row.raw for row in rows]] for code, _, rows in harvest.grids],
            "without_grid": harvest.pages_without_grid,
        }
        digest = _digest([json.dumps(canonical, sort_keys=True, ensure_ascii=False).encode()])
        self.run_row.fetched_hash = digest
        rows_total = sum(len(rows) for _, _, rows in harvest.grids)
        self.report.sections["fetched"] = {
            "municipality_lines": len(harvest.summaries), "project_rows": rows_total,
            "pages_without_grid": harvest.pages_without_grid,
        }
        if not harvest.summaries and not harvest.grids:
            if harvest.index_is_dashboard:
                return RunStatus.PARTIAL, (
                    "The DWS dashboard index was recognised, but it lists no municipality and holds no project "
                    "grid: nothing was stored."
                )
            raise SourceFormatError("the DWS page lists no municipality line and holds no project grid")
        if not self.force and digest == _last_hash(self.source, self.run_row.kind):
            return RunStatus.NO_CHANGE, ""

        fetched_at = timezone.now()
        matcher = MunicipalityMatcher()
        with transaction.atomic():
            _remove_demo_data(self.report)
        self._load_summaries(harvest.summaries, matcher, fetched_at)
        items = self._project_items(harvest, matcher)
        touched = load_projects(source=Source.DWS, items=items, report=self.report, fetched_at=fetched_at)
        _finish_municipalities(touched, self.report)
        if self.report.failed:
            return RunStatus.PARTIAL, f"{self.report.failed} record(s) could not be stored"
        return RunStatus.SUCCESS, ""

    def _load_summaries(
        self, summaries: list[dws.MunicipalitySummary], matcher: MunicipalityMatcher, fetched_at: dt.datetime
    ) -> None:
        changed = 0
        with transaction.atomic():
            for summary in summaries:
                municipality = matcher.match(summary.code, summary.name)
                if municipality is None:
                    self.report.add("unmatched", {"kind": "dws_summary", **_summary_json(summary)})
                    continue
                wanted = {
                    "dws_project_count": summary.project_count,
                    "dws_total_value": summary.total_value,
                    "dashboard_url": (summary.dashboard_url or "")[:1000],
                }
                old = {
                    name: getattr(municipality, name) for name in wanted if getattr(municipality, name) != wanted[name]
                }
                if not old:
                    continue
                new = {name: wanted[name] for name in old}
                for name, value in new.items():
                    setattr(municipality, name, value)
                municipality.dws_fetched_at = fetched_at
                municipality.save(update_fields=[*new, "dws_fetched_at", "updated_at"])
                _log_municipality(municipality, old, new)
                changed += 1
        self.report.sections["dws_summaries_changed"] = changed

    def _project_items(self, harvest: DwsHarvest, matcher: MunicipalityMatcher) -> list[ProjectItem]:
        by_key: dict[str, ProjectItem] = {}
        for code, url, rows in harvest.grids:
            for row in rows:
                municipality = matcher.match(code or None, row.municipality or row.water_services_authority)
                if municipality is None:
                    self.report.add("unmatched", {"kind": "dws_project", "project_number": row.project_number,
                                                  "municipality": row.municipality, "page": url})
                item = dws_project_item(row, municipality, code or (municipality.code if municipality else ""),
                                        self.report, url)
                if item.external_id in by_key:
                    self.report.note(f"project {item.external_id} listed twice: last kept")
                by_key[item.external_id] = item
        return list(by_key.values())

