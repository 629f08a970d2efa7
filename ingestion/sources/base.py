"""What every source shares: a base class that owns the run, and the registry of sources.

A source is a small class (as UK-Polling-Stations' council importers are): it sets its name, title, credit and
schedules, and overrides a few hooks. `IngestionSource.run()` is the one path every source takes:

1. **Harvest** everything first, from the network through the shared HTTP session or from saved files
   (`harvest_network` / `harvest_files`); nothing is written yet. A page or response that is not what the parser
   knows raises `SourceFormatError` and the run fails with nothing written.
2. **Fingerprint** the harvest. Equal to the last successful run of the same source and kind: `no_change`, and
   nothing else is written.
3. **Load**: reference data first (`load_reference`, e.g. Treasury's geography, so that everything after it can
   match the municipalities it brings), then the projects (`project_items` -> `ingestion.loader.load_projects`),
   then extras (`load_extras`, e.g. capital spending or the dashboard's own summaries).

To add a source, see "Adding a source" in docs/ingestion.md.
"""

from __future__ import annotations

import abc
import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise

from bukaamanzi.lib.schedules import PlannedSchedule
from bukaamanzi.lib.sources import SourceInfo, source_info_register, source_info_unregister
from ingestion.loader import (
    MunicipalityMatcher,
    ProjectItem,
    RunReport,
    finish_municipalities,
    load_projects,
    remove_demo_data,
)
from ingestion.models import IngestionRun, RunStatus
from ingestion.sources.errors import SourceFormatError
from ingestion.workers import heartbeat

KIND_FULL = "full"
KIND_CHANGE_CHECK = "change_check"
SCHEDULED_TASK = "ingestion.tasks.scheduled_ingestion"


class UnknownSource(ValueError):
    """`source` or `kind` is not one the pipeline knows; `field` names which."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name


@dataclass
class Harvest:
    """What a source fetched. `bodies` are what the default fingerprint hashes; sources add their own fields."""

    bodies: list[bytes] = field(default_factory=list)


H = TypeVar("H", bound=Harvest)


def digest_of(parts: Iterable[bytes]) -> str:
    hasher = hashlib.sha256()
    for part in parts:
        hasher.update(hashlib.sha256(part).digest())
    return hasher.hexdigest()


def digest_of_json(value: Any) -> str:
    return digest_of([json.dumps(value, sort_keys=True, ensure_ascii=False).encode()])


class IngestionSource(abc.ABC, Generic[H]):
    """One data source. Subclasses set the class attributes and implement the harvest and item hooks."""

    name: ClassVar[str]  # the one name: projects, runs, breakers, `manage.py ingest <name>`, the sync API
    title: ClassVar[str | Promise]
    credit: ClassVar[str]
    url: ClassVar[str] = ""
    licence: ClassVar[str] = ""
    terms_url: ClassVar[str] = ""
    aliases: ClassVar[tuple[str, ...]] = ()  # older names still accepted on input, never stored
    kinds: ClassVar[tuple[str, ...]] = (KIND_FULL,)
    saved_files_help: ClassVar[str] = ""  # what `--from-file` takes, for `manage.py ingest --help`

    def __init__(self, run: IngestionRun, report: RunReport, *, from_path: Path | None, force: bool) -> None:
        self.run_row, self.report, self.from_path, self.force = run, report, from_path, force

    # ---- description -----------------------------------------------------------------------------------------

    @classmethod
    def info(cls) -> SourceInfo:
        return SourceInfo(name=cls.name, title=cls.title, credit=cls.credit, url=cls.url, licence=cls.licence,
                          terms_url=cls.terms_url)

    @classmethod
    def schedules(cls, now: dt.datetime) -> list[PlannedSchedule]:
        """The schedules `setup_schedules` upserts for this source (none by default: runs on demand only)."""
        return []

    @classmethod
    def scheduled(cls, name: str, *, kind: str = KIND_FULL, **timing: Any) -> PlannedSchedule:
        return PlannedSchedule(name=name, func=SCHEDULED_TASK, kwargs={"source": cls.name, "kind": kind}, **timing)

    # ---- hooks -------------------------------------------------------------------------------------------------

    @abc.abstractmethod
    def harvest_network(self) -> H:
        """Fetch everything this run needs through `ingestion.http` (nothing written)."""

    @abc.abstractmethod
    def harvest_files(self, path: Path) -> H:
        """Read the same from saved responses or pages (`manage.py ingest <name> --from-file PATH`)."""

    @abc.abstractmethod
    def project_items(self, harvest: H, matcher: MunicipalityMatcher) -> list[ProjectItem]:
        """The harvest's projects, ready for `load_projects`; unmatched municipalities go in the report."""

    def fingerprint(self, harvest: H) -> str:
        return digest_of(harvest.bodies)

    def describe(self, harvest: H) -> dict[str, Any]:
        """The run report's "fetched" section."""
        return {"responses": len(harvest.bodies)}

    def check(self, harvest: H) -> tuple[RunStatus, str] | None:
        """A reason to end the run before loading (raise SourceFormatError for a page that is not understood)."""
        return None

    def load_reference(self, harvest: H, fetched_at: dt.datetime) -> None:
        """Reference data that matching depends on (municipalities), loaded before the projects."""

    def load_extras(self, harvest: H, matcher: MunicipalityMatcher, fetched_at: dt.datetime) -> None:
        """Anything else the source carries (capital spending, dashboard summaries), loaded after the projects."""

    def follow_up_kind(self) -> str | None:
        """A kind of run of this source to queue once this one has succeeded (a change check's full sync)."""
        return None

    # ---- the run -----------------------------------------------------------------------------------------------

    def run(self) -> tuple[RunStatus, str]:
        harvest = self.harvest_files(self.from_path) if self.from_path else self.harvest_network()
        self.heartbeat()
        digest = self.fingerprint(harvest)
        self.run_row.fetched_hash = digest
        self.report.sections["fetched"] = self.describe(harvest)
        if (ended := self.check(harvest)) is not None:
            return ended
        if not self.force and digest == self._last_hash():
            return RunStatus.NO_CHANGE, ""

        fetched_at = timezone.now()
        self.load_reference(harvest, fetched_at)
        matcher = MunicipalityMatcher()
        items = self.project_items(harvest, matcher)
        self.report.sections["fetched"]["projects_to_load"] = len(items)
        if items:
            with transaction.atomic():
                remove_demo_data(self.report)
        touched = load_projects(
            source=self.name, items=items, report=self.report, fetched_at=fetched_at, progress=self.heartbeat
        )
        self.load_extras(harvest, matcher, fetched_at)
        self.heartbeat()
        finish_municipalities(touched, self.report)
        if self.report.failed:
            return RunStatus.PARTIAL, f"{self.report.failed} record(s) could not be stored"
        return RunStatus.SUCCESS, ""

    def heartbeat(self) -> None:
        """Tell other hosts this run is alive (ingestion.workers); called between transactions, never in one."""
        heartbeat(self.run_row)

    def _last_hash(self) -> str | None:
        last = (
            IngestionRun.objects.of_source(self.name).successful().filter(kind=self.run_row.kind)
            .exclude(fetched_hash="").order_by("-created_at", "-pk").first()
        )
        return last.fetched_hash if last else None


def json_files(path: Path) -> list[Path]:
    """`path` itself, or the .json files of a directory, sorted; a missing path is a format error."""
    if path.is_dir():
        files = sorted(path.glob("*.json"))
        if not files:
            raise SourceFormatError(f"{path}: no .json files in the directory")
        return files
    if not path.exists():
        raise SourceFormatError(f"{path}: no such file or directory")
    return [path]


# ------------------------------------------------------------------------------------------------------------
# The registry
# ------------------------------------------------------------------------------------------------------------

SourceClass = type[IngestionSource[Any]]
_sources: dict[str, SourceClass] = {}


def register(source: SourceClass) -> SourceClass:
    """Make a source known to the run service, `manage.py ingest`, the schedules, status pages and credits.
    Usable as a class decorator."""
    _sources[source.name] = source
    source_info_register(source.info())
    return source


def unregister(name: str) -> None:
    _sources.pop(name, None)
    source_info_unregister(name)


def registered_sources() -> Iterator[SourceClass]:
    yield from _sources.values()


def source_names() -> list[str]:
    return list(_sources)


def source_class(name: str) -> SourceClass:
    """The source called `name` (or an alias of it, any case); UnknownSource names the field otherwise."""
    wanted = name.strip().lower()
    for source in _sources.values():
        if wanted == source.name or wanted in source.aliases:
            return source
    raise UnknownSource("source", f"Unknown source {name!r}: use one of {', '.join(_sources)}.")
