"""The Department of Water and Sanitation's Project Monitoring Dashboard as an ingestion source.

The parsers and fetchers are in `ingestion.sources.dws`. A `change_check` run reads only the index (each
municipality's "<N> Projects with a Total value" line); when it changed, the full sync is queued at once rather
than at the next hourly run. A `full` run also reads every municipality's project grid. The pages' ViewState and
validation tokens differ on every request, so the fingerprint is taken from what was parsed, not the bytes.

A value the grid shows that cannot be read (a progress of "abc" or 140 %) is not worth a whole municipality's
rows: that one value is stored as NULL, noted and counted in the run report (`values_not_stored`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from bukaamanzi.lib.schedules import MINUTES, PlannedSchedule, every_minutes
from ingestion.loader import MunicipalityMatcher, ProjectItem, RunReport
from ingestion.models import RunStatus
from ingestion.sources import dws
from ingestion.sources.base import KIND_CHANGE_CHECK, KIND_FULL, Harvest, IngestionSource, digest_of_json
from ingestion.sources.errors import SourceFormatError
from municipalities.models import Municipality
from municipalities.services import DashboardSummary, municipality_record_dashboard_summaries


@dataclass
class DwsHarvest(Harvest):
    summaries: list[dws.MunicipalitySummary] = field(default_factory=list)
    # (municipality code from the summary or "", page url, rows)
    grids: list[tuple[str, str, list[dws.DwsProjectRow]]] = field(default_factory=list)
    pages_without_grid: list[str] = field(default_factory=list)
    index_is_dashboard: bool = False


class Dws(IngestionSource[DwsHarvest]):
    name = dws.SOURCE_NAME
    title = _("Department of Water and Sanitation, Project Monitoring Dashboard")
    credit = "Department of Water and Sanitation, Project Monitoring Dashboard"
    url = "https://ws.dws.gov.za/pmd/"
    licence = "Published by the Department of Water and Sanitation"
    terms_url = ""  # the dashboard's "Terms of Service" link goes nowhere ("#"); see docs/ingestion.md
    kinds = (KIND_FULL, KIND_CHANGE_CHECK)
    saved_files_help = "an HTML page, or a directory with index.html and <MDB code>.html pages"

    @classmethod
    def schedules(cls, now: dt.datetime) -> list[PlannedSchedule]:
        check = every_minutes(settings.SCHEDULE_DWS_CHECK_MINUTES, setting="SCHEDULE_DWS_CHECK_MINUTES")
        full = every_minutes(settings.SCHEDULE_DWS_FULL_MINUTES, setting="SCHEDULE_DWS_FULL_MINUTES")
        return [
            cls.scheduled("ingest dws change check", kind=KIND_CHANGE_CHECK, schedule_type=MINUTES, minutes=check,
                          next_run=now + dt.timedelta(minutes=1)),
            cls.scheduled("ingest dws full sync", schedule_type=MINUTES, minutes=full,
                          next_run=now + dt.timedelta(minutes=full)),
        ]

    # ---- harvest -----------------------------------------------------------------------------------------------

    def harvest_network(self) -> DwsHarvest:
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

    def harvest_files(self, path: Path) -> DwsHarvest:
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

    def fingerprint(self, harvest: DwsHarvest) -> str:
        return digest_of_json({
            "summaries": [_summary_json(s) for s in harvest.summaries],
            "grids": [[code, [row.raw for row in rows]] for code, _, rows in harvest.grids],
            "without_grid": harvest.pages_without_grid,
        })

    def describe(self, harvest: DwsHarvest) -> dict[str, Any]:
        return {"municipality_lines": len(harvest.summaries),
                "project_rows": sum(len(rows) for _, _, rows in harvest.grids),
                "pages_without_grid": harvest.pages_without_grid}

    def check(self, harvest: DwsHarvest) -> tuple[RunStatus, str] | None:
        if harvest.summaries or harvest.grids:
            return None
        if harvest.index_is_dashboard:
            return RunStatus.PARTIAL, (
                "The DWS dashboard index was recognised, but it lists no municipality and holds no project "
                "grid: nothing was stored."
            )
        raise SourceFormatError("the DWS page lists no municipality line and holds no project grid")

    def follow_up_kind(self) -> str | None:
        # The summaries changed: fetch the projects behind them now rather than at the next hourly sync.
        return KIND_FULL if self.run_row.kind == KIND_CHANGE_CHECK and not self.from_path else None

    # ---- load --------------------------------------------------------------------------------------------------

    def project_items(self, harvest: DwsHarvest, matcher: MunicipalityMatcher) -> list[ProjectItem]:
        by_key: dict[str, ProjectItem] = {}
        for code, url, rows in harvest.grids:
            for row in rows:
                municipality = matcher.match(code or None, row.municipality or row.water_services_authority)
                if municipality is None:
                    self.report.add("unmatched", {"kind": "dws_project", "project_number": row.project_number,
                                                  "municipality": row.municipality, "page": url})
                item = project_item(row, municipality, code or (municipality.code if municipality else ""),
                                    self.report, url)
                if item.external_id in by_key:
                    self.report.note(f"project {item.external_id} listed twice: last kept")
                by_key[item.external_id] = item
        return list(by_key.values())

    def load_extras(self, harvest: DwsHarvest, matcher: MunicipalityMatcher, fetched_at: dt.datetime) -> None:
        summaries: list[DashboardSummary] = []
        for summary in harvest.summaries:
            municipality = matcher.match(summary.code, summary.name)
            if municipality is None:
                self.report.add("unmatched", {"kind": "dws_summary", **_summary_json(summary)})
                continue
            summaries.append(DashboardSummary(municipality=municipality, project_count=summary.project_count,
                                              total_value=summary.total_value,
                                              dashboard_url=summary.dashboard_url or ""))
        self.report.sections["dws_summaries_changed"] = municipality_record_dashboard_summaries(
            summaries=summaries, fetched_at=fetched_at
        )


def external_id_of(municipality_code: str, row: dws.DwsProjectRow) -> str:
    return f"{municipality_code or 'unknown'}/{row.project_number[:400]}"


def project_item(row: dws.DwsProjectRow, municipality: Municipality | None, code: str, report: RunReport,
                 page_url: str) -> ProjectItem:
    external_id = external_id_of(code, row)
    for problem in row.values_not_read:
        report.add("values_not_stored", {"external_id": external_id, "page": page_url, **problem})
    amounts = {"budget_allocated": row.total_cost, "budget_spent": row.expenditure}
    for name, amount in list(amounts.items()):
        if amount is not None and amount < 0:
            report.add("values_not_stored", {"external_id": external_id, "page": page_url, "field": name,
                                             "value": str(amount), "reason": "negative amount"})
            amounts[name] = None
    values: dict[str, Any] = {
        "municipality": municipality,
        "name": row.name[:500],
        "project_type": row.programme[:200],
        "status": row.status,
        "source_status": row.status_text[:200],
        "start_date": row.start_date,
        "end_date": row.end_date,
        "progress_percentage": row.progress_percent,
        "contractor": row.contractor[:300],
        **amounts,
        "raw_data": {"row": row.raw, "detail_url": row.detail_url, "page_url": page_url},
        "is_demo": False,
    }
    return ProjectItem(external_id=external_id, values=values, budgets=[])


def _summary_json(summary: dws.MunicipalitySummary) -> dict[str, Any]:
    return {"name": summary.name, "code": summary.code, "count": summary.project_count,
            "value": str(summary.total_value), "url": summary.dashboard_url}
