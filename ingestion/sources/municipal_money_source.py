"""National Treasury's Municipal Money as an ingestion source: geography, capital projects and capital spending.

The parsers and fetchers are in `ingestion.sources.municipal_money`; this class says what a run of it harvests
and how the harvest becomes rows. Municipal Money gives no total cost or status: `budget_allocated` is the
"Budget year" amount of the project's latest implementation year (else its latest budget year) and
`budget_spent` the latest audited outcome; every phase and year is kept as a Budget row. Only projects whose
function or asset class is about water or sanitation (`WATER_PROJECT_KEYWORDS`) are kept.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.gis.geos import Point
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bukaamanzi.lib.schedules import DAILY, PlannedSchedule, next_daily
from changelog.services import to_json_value
from ingestion.loader import MunicipalityMatcher, ProjectItem, RunReport
from ingestion.sources import municipal_money
from ingestion.sources.base import Harvest, IngestionSource, json_files
from ingestion.sources.errors import SourceFormatError
from municipalities.models import Municipality
from municipalities.services import (
    CapitalAmount,
    MunicipalityFacts,
    capital_spend_sync,
    municipality_sync_from_source,
)
from projects.services import BudgetLine


@dataclass
class MunicipalMoneyHarvest(Harvest):
    geography: list[municipal_money.MunicipalityRecord] = field(default_factory=list)
    projects: list[municipal_money.ProjectRecord] = field(default_factory=list)
    capital: list[municipal_money.CapitalSpendRecord] = field(default_factory=list)


class MunicipalMoney(IngestionSource[MunicipalMoneyHarvest]):
    name = municipal_money.SOURCE_NAME
    title = _("National Treasury, Municipal Money")
    credit = "National Treasury, Municipal Money"
    url = "https://municipalmoney.gov.za"
    licence = "Open data published by National Treasury"
    terms_url = "https://municipalmoney.gov.za/terms"
    aliases = ("treasury",)  # its name before one name was used everywhere; still accepted on input
    saved_files_help = "a JSON file or a directory of them (geography array, projects pages, capital_v2 aggregates)"

    @classmethod
    def schedules(cls, now: dt.datetime) -> list[PlannedSchedule]:
        return [cls.scheduled("ingest treasury daily", schedule_type=DAILY, next_run=next_daily(
            settings.SCHEDULE_TREASURY_DAILY_AT, now, setting="SCHEDULE_TREASURY_DAILY_AT"))]

    # ---- harvest -----------------------------------------------------------------------------------------------

    def harvest_network(self) -> MunicipalMoneyHarvest:
        harvest = MunicipalMoneyHarvest()
        fetched, harvest.geography = municipal_money.fetch_geography(settings.MUNICIPAL_MONEY_URL)
        harvest.bodies.append(fetched.body)
        for fetched_page, page in municipal_money.fetch_projects(
            settings.MUNICIPAL_MONEY_URL, page_size=settings.TREASURY_PAGE_SIZE
        ):
            harvest.bodies.append(fetched_page.body)
            harvest.projects.extend(page.results)
        # The municipalities to ask about are the geography's own (fetched above), not what the database
        # holds: on a first run the database has none yet, and the capital spending must come in that run.
        codes = sorted({record.geo_code.upper() for record in harvest.geography if not record.is_disestablished}
                       | set(Municipality.objects.current().values_list("code", flat=True)))
        years = settings.TREASURY_CAPITAL_YEARS or default_capital_years(timezone.localdate())
        for amount_type in settings.TREASURY_CAPITAL_AMOUNT_TYPES:
            for year in years:
                for fetched_cube, records in municipal_money.fetch_capital_spend(
                    settings.MUNICIPAL_DATA_URL, codes, year, amount_type, settings.TREASURY_CAPITAL_BATCH
                ):
                    harvest.bodies.append(fetched_cube.body)
                    harvest.capital.extend(records)
        return harvest

    def harvest_files(self, path: Path) -> MunicipalMoneyHarvest:
        """Saved responses: each JSON file is recognised by its shape (geography array, projects page, cube)."""
        harvest = MunicipalMoneyHarvest()
        for file in json_files(path):
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

    def describe(self, harvest: MunicipalMoneyHarvest) -> dict[str, Any]:
        return {"responses": len(harvest.bodies), "municipalities": len(harvest.geography),
                "projects": len(harvest.projects), "capital_cells": len(harvest.capital)}

    # ---- load --------------------------------------------------------------------------------------------------

    def load_reference(self, harvest: MunicipalMoneyHarvest, fetched_at: dt.datetime) -> None:
        if not harvest.geography:
            return
        result = municipality_sync_from_source(facts=[municipality_facts(record) for record in harvest.geography])
        self.report.sections["municipalities"] = result.counts
        for item in result.unmatched:
            self.report.add("unmatched", item)

    def project_items(self, harvest: MunicipalMoneyHarvest, matcher: MunicipalityMatcher) -> list[ProjectItem]:
        keywords = [keyword for keyword in settings.WATER_PROJECT_KEYWORDS if keyword.strip()]
        by_key: dict[str, ProjectItem] = {}
        not_water = 0
        for record in harvest.projects:
            if not record.is_water_related(keywords):
                not_water += 1
                continue
            municipality = matcher.match(record.municipality_code, record.municipality_name)
            if municipality is None:
                self.report.add("unmatched", {
                    "kind": "project", "api_id": record.api_id, "municipality_code": record.municipality_code,
                    "municipality_name": record.municipality_name, "project_number": record.project_number,
                })
            if conflict := conflicting_expenditure(record):
                # Two amounts for one phase and year: which is right cannot be known, so the record is refused.
                self.report.failed += 1
                self.report.add("errors", {"api_id": record.api_id, "external_id": external_id_of(record),
                                           "error": conflict})
                continue
            item = project_item(record, municipality, self.report)
            if item.external_id in by_key:
                self.report.note(f"duplicate natural key {item.external_id} (API ids "
                                 f"{by_key[item.external_id].values['source_api_id']} and {record.api_id}): last kept")
            by_key[item.external_id] = item
        self.report.sections["skipped_not_water"] = not_water
        self.report.sections["fetched"]["water_projects"] = len(by_key)
        return list(by_key.values())

    def load_extras(
        self, harvest: MunicipalMoneyHarvest, matcher: MunicipalityMatcher, fetched_at: dt.datetime
    ) -> None:
        if not harvest.capital:
            return
        reported = [
            CapitalAmount(municipality_code=record.municipality_code, financial_year=record.financial_year,
                          amount_type=record.amount_type, amount=record.amount)
            for record in harvest.capital if record.amount is not None
        ]
        result = capital_spend_sync(
            amounts=reported,
            source=self.name, fetched_at=fetched_at,
        )
        for item in result.unmatched:
            self.report.add("unmatched", item)
        # "not reported" is not R0: such a cell makes no row.
        self.report.sections["capital_spend"] = {**result.counts, "not_reported": len(harvest.capital) - len(reported)}


def municipality_facts(record: municipal_money.MunicipalityRecord) -> MunicipalityFacts:
    return MunicipalityFacts(
        code=record.geo_code, name=record.name, long_name=record.long_name, province=record.province_code,
        category=record.category, district_code=record.parent_code if record.parent_level == "district" else "",
        disestablished=record.is_disestablished,
    )


def external_id_of(record: municipal_money.ProjectRecord) -> str:
    """Stable and readable: code/project number/hash of the whole natural key (descriptions can be long)."""
    digest = hashlib.sha256("\x1f".join(record.natural_key).encode()).hexdigest()[:16]
    return f"{record.municipality_code}/{record.project_number[:400]}/{digest}"


def _latest_amount(record: municipal_money.ProjectRecord, phase: str, year: str | None = None) -> Decimal | None:
    matching = [e for e in record.expenditures if e.budget_phase.casefold() == phase]
    if year is not None:
        in_year = [e for e in matching if e.financial_year == year]
        matching = in_year or matching
    return max(matching, key=lambda e: e.financial_year).amount if matching else None


def project_item(record: municipal_money.ProjectRecord, municipality: Municipality | None,
                 report: RunReport) -> ProjectItem:
    external_id = external_id_of(record)
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
    return ProjectItem(external_id=external_id, values=values, budgets=list(lines.values()))


def conflicting_expenditure(record: municipal_money.ProjectRecord) -> str:
    seen: dict[tuple[str, str], Decimal] = {}
    for expenditure in record.expenditures:
        key = (expenditure.budget_phase, expenditure.financial_year)
        if key in seen and seen[key] != expenditure.amount:
            return f"two amounts for {key[0]} {key[1]}: {seen[key]} and {expenditure.amount}"
        seen[key] = expenditure.amount
    return ""


def default_capital_years(today: dt.date) -> list[int]:
    """The last three completed municipal financial years (they end on 30 June)."""
    current_end = today.year + 1 if today.month >= 7 else today.year
    return [current_end - 3, current_end - 2, current_end - 1]
