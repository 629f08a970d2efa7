"""Municipal Money (National Treasury): municipalities, municipal capital projects and capital spend.

Source facts (shapes, quirks, licence) are in the project's research notes on the Municipal Money API; the
essentials the parsers rely on:

- `GET https://municipalmoney.gov.za/api/geography/geography/` returns a plain JSON array of every
  municipality (no pagination), each with `geo_code`, `name`, `category`, `is_disestablished`...
- `GET https://municipalmoney.gov.za/api/v1/infrastructure/projects/?limit=&offset=` returns the DRF envelope
  `{"count", "next", "previous", "results": [project, ...]}`; each project nests `geography` and
  `expenditure[]` (amount as a decimal string, budget phase keyed by `name`, year as "2019/2020").
  The source's natural key is (geography, project_number, function, project_description).
- `GET https://municipaldata.treasury.gov.za/api/cubes/capital_v2/aggregate` returns babbage's aggregate
  envelope (`cells`, `cell` = the cuts echoed back, `summary`).

Attribution: data from National Treasury (Municipal Money); credit it with the publication date.

Parsers here are pure (dict in, dataclasses out). They raise `SourceFormatError` naming what is missing rather
than skipping or inventing rows.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final
from urllib.parse import urljoin

from ingestion.normalise import (
    NormalisationError,
    clean_coordinates,
    financial_year_end,
    parse_financial_year,
    parse_money,
)
from ingestion.sources.errors import SourceFormatError

MUNICIPAL_MONEY_BASE_URL: Final = "https://municipalmoney.gov.za"
TREASURY_CUBES_BASE_URL: Final = "https://municipaldata.treasury.gov.za"
GEOGRAPHY_PATH: Final = "/api/geography/geography/"
PROJECTS_PATH: Final = "/api/v1/infrastructure/projects/"
CAPITAL_AGGREGATE_PATH: Final = "/api/cubes/capital_v2/aggregate"

# Matched as case-insensitive substrings of a project's function and asset class. Note that "water" also
# matches "Storm Water" asset classes and functions; whether stormwater belongs on a water-services map is a
# product decision, taken where the rule is applied, not hidden here.
DEFAULT_WATER_KEYWORDS: Final[frozenset[str]] = frozenset(
    {"water", "sanitation", "waste water", "wastewater", "sewer", "sewerage"}
)

JsonObject = dict[str, Any]


# --------------------------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MunicipalityRecord:
    """One row of `/api/geography/geography/`: a metro (A), local (B) or district (C) municipality."""

    geo_code: str
    name: str
    long_name: str
    geo_level: str
    category: str
    miif_category: str
    parent_level: str
    parent_code: str
    province_code: str
    province_name: str
    population: int | None
    square_kms: Decimal | None
    is_disestablished: bool
    url: str
    raw: JsonObject = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class ExpenditureRecord:
    """One amount of a project for one budget phase and financial year ("Budget year", "2023/2024")."""

    budget_phase: str
    financial_year: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class ProjectRecord:
    """One municipal capital project from `/api/v1/infrastructure/projects/`.

    `ward_location` is the source's free text ("Ward 12", "Coastal,Midland", "Administrative or Head Office"),
    not a ward code. Coordinates are None unless plausibly in South Africa (see `clean_coordinates`).
    """

    api_id: int
    municipality_code: str
    municipality_name: str
    project_number: str
    function: str
    description: str
    project_type: str
    mtsf_service_outcome: str
    iudf: str
    own_strategic_objectives: str
    asset_class: str
    asset_subclass: str
    ward_location: str
    latitude: float | None
    longitude: float | None
    latest_implementation_year: str | None
    expenditures: tuple[ExpenditureRecord, ...]
    raw: JsonObject = field(repr=False, compare=False)

    @property
    def natural_key(self) -> tuple[str, str, str, str]:
        """The source's own unique key: the API `id` changes when a re-upload changes the description."""
        return (self.municipality_code, self.project_number, self.function, self.description)

    def is_water_related(self, keywords: Collection[str] = DEFAULT_WATER_KEYWORDS) -> bool:
        """True when any keyword occurs (case-insensitively) in the function or the asset class."""
        haystacks = (self.function.casefold(), self.asset_class.casefold())
        return any(keyword.casefold() in haystack for keyword in keywords for haystack in haystacks)


@dataclass(frozen=True, slots=True)
class ProjectsPage:
    """One page of the projects list; follow `next_url` until it is None."""

    results: list[ProjectRecord]
    next_url: str | None
    count: int


@dataclass(frozen=True, slots=True)
class CapitalSpendRecord:
    """Capital expenditure (NEW + RENEWAL + UPGRADING) of one municipality in one year for one amount type.

    `amount` is None when the cube cell is null. Treasury's docs say to read null as zero when summing, but a
    resident shown "R0 spent" would read it as "nothing was built", so "not reported" stays distinct here.
    """

    municipality_code: str
    financial_year: str
    amount_type: str
    amount: Decimal | None


# --------------------------------------------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------------------------------------------


def load_json(text: str | bytes) -> JsonObject | list[Any]:
    """Decode a response body; a truncated or non-JSON body raises SourceFormatError.

    Numbers with a fraction are decoded as Decimal, so an amount never passes through a float.
    """
    try:
        decoded = json.loads(text, parse_float=Decimal)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise SourceFormatError(f"truncated or invalid JSON: {error}") from error
    if not isinstance(decoded, dict | list):
        raise SourceFormatError(f"expected a JSON object or array, got {type(decoded).__name__}")
    return decoded


def _require_mapping(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise SourceFormatError(f"{what}: expected an object, got {type(value).__name__}")
    return value


def _require_key(row: Mapping[str, Any], key: str, what: str) -> Any:
    if key not in row:
        raise SourceFormatError(f"{what}: missing key {key!r} (keys present: {sorted(row)})")
    return row[key]


def _text(row: Mapping[str, Any], key: str) -> str:
    """Optional text field: null and absent both become "", surrounding whitespace is dropped."""
    value = row.get(key)
    return "" if value is None else str(value).strip()


def _optional_int(value: object, what: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise SourceFormatError(f"{what}: expected a whole number, got {value!r}")
    if isinstance(value, int):
        return value
    try:
        number = Decimal(str(value))
    except ArithmeticError as error:
        raise SourceFormatError(f"{what}: expected a whole number, got {value!r}") from error
    if not number.is_finite() or number != number.to_integral_value():
        raise SourceFormatError(f"{what}: expected a whole number, got {value!r}")
    return int(number)


def _optional_decimal(value: object, what: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except ArithmeticError as error:
        raise SourceFormatError(f"{what}: expected a number, got {value!r}") from error
    if not number.is_finite():
        raise SourceFormatError(f"{what}: expected a number, got {value!r}")
    return number


# --------------------------------------------------------------------------------------------------------------
# Municipalities: /api/geography/geography/
# --------------------------------------------------------------------------------------------------------------


def parse_geography(payload: JsonObject | list[Any]) -> list[MunicipalityRecord]:
    """Parse the geography endpoint: a plain array of rows (a DRF envelope with `results` is also accepted,
    in case pagination is ever switched on)."""
    rows = payload.get("results") if isinstance(payload, dict) else payload
    if not isinstance(rows, list):
        raise SourceFormatError("geography: expected a JSON array of municipalities (or an object with 'results')")
    return [_parse_municipality(row, index) for index, row in enumerate(rows)]


def _parse_municipality(value: object, index: int) -> MunicipalityRecord:
    what = f"geography row {index}"
    row = _require_mapping(value, what)
    geo_code = str(_require_key(row, "geo_code", what) or "").strip()
    name = str(_require_key(row, "name", what) or "").strip()
    if not geo_code or not name:
        raise SourceFormatError(f"{what}: empty geo_code or name")
    return MunicipalityRecord(
        geo_code=geo_code,
        name=name,
        long_name=_text(row, "long_name"),
        geo_level=_text(row, "geo_level"),
        category=_text(row, "category"),
        miif_category=_text(row, "miif_category"),
        parent_level=_text(row, "parent_level"),
        parent_code=_text(row, "parent_code"),
        province_code=_text(row, "province_code"),
        province_name=_text(row, "province_name"),
        population=_optional_int(row.get("population"), f"{what} ({geo_code}) population"),
        square_kms=_optional_decimal(row.get("square_kms"), f"{what} ({geo_code}) square_kms"),
        # Absent means the endpoint changed; the current 257 are found by this flag, so do not default it.
        is_disestablished=_require_key(row, "is_disestablished", what) is True,
        url=_text(row, "url"),
        raw=dict(row),
    )


# --------------------------------------------------------------------------------------------------------------
# Capital projects: /api/v1/infrastructure/projects/
# --------------------------------------------------------------------------------------------------------------


def parse_projects_page(payload: JsonObject | list[Any], base_url: str = MUNICIPAL_MONEY_BASE_URL) -> ProjectsPage:
    """Parse one page of the projects list.

    `next` is made absolute against `base_url` (DRF usually sends absolute URLs, but behind some proxies it
    sends paths or http:// hosts). The `/search/` variant, whose `results` is `{"projects": [...]}`, is
    accepted too.
    """
    envelope = _require_mapping(payload, "projects page")
    results = _require_key(envelope, "results", "projects page")
    if isinstance(results, Mapping) and "projects" in results:
        results = results["projects"]
    if not isinstance(results, list):
        raise SourceFormatError(f"projects page: 'results' is not a list but {type(results).__name__}")
    count = _optional_int(_require_key(envelope, "count", "projects page"), "projects page count")
    if count is None:
        raise SourceFormatError("projects page: 'count' is null")
    next_value = envelope.get("next")
    next_url = urljoin(base_url, next_value) if isinstance(next_value, str) and next_value.strip() else None
    return ProjectsPage(
        results=[_parse_project(row, index) for index, row in enumerate(results)],
        next_url=next_url,
        count=count,
    )


def _parse_project(value: object, index: int) -> ProjectRecord:
    row = _require_mapping(value, f"project {index}")
    api_id = _optional_int(_require_key(row, "id", f"project {index}"), f"project {index} id")
    if api_id is None:
        raise SourceFormatError(f"project {index}: 'id' is null")
    what = f"project id={api_id}"
    geography = _require_mapping(_require_key(row, "geography", what), f"{what} geography")
    municipality_code = str(_require_key(geography, "geo_code", f"{what} geography") or "").strip()
    if not municipality_code:
        raise SourceFormatError(f"{what}: geography has an empty geo_code")
    expenditure_rows = _require_key(row, "expenditure", what)
    if not isinstance(expenditure_rows, list):
        raise SourceFormatError(f"{what}: 'expenditure' is not a list")
    coordinates = clean_coordinates(row.get("latitude"), row.get("longitude"))
    latest_year = row.get("latest_implementation_year")
    return ProjectRecord(
        api_id=api_id,
        municipality_code=municipality_code,
        municipality_name=_text(geography, "name"),
        project_number=_text(row, "project_number"),
        function=_text(row, "function"),
        description=_text(row, "project_description"),
        project_type=_text(row, "project_type"),
        mtsf_service_outcome=_text(row, "mtsf_service_outcome"),
        iudf=_text(row, "iudf"),
        own_strategic_objectives=_text(row, "own_strategic_objectives"),
        asset_class=_text(row, "asset_class"),
        asset_subclass=_text(row, "asset_subclass"),
        ward_location=_text(row, "ward_location"),
        latitude=coordinates.latitude if coordinates else None,
        longitude=coordinates.longitude if coordinates else None,
        latest_implementation_year=(
            _financial_year(latest_year.get("budget_year"), f"{what} latest_implementation_year")
            if isinstance(latest_year, Mapping) and latest_year.get("budget_year")
            else None
        ),
        expenditures=tuple(
            _parse_expenditure(item, f"{what} expenditure {position}") for position, item in enumerate(expenditure_rows)
        ),
        raw=dict(row),
    )


def _financial_year(value: object, what: str) -> str:
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        value = int(value)
    if not isinstance(value, str | int):
        raise SourceFormatError(f"{what}: expected a financial year, got {value!r}")
    try:
        return parse_financial_year(value)
    except NormalisationError as error:
        raise SourceFormatError(f"{what}: {error}") from error


def _parse_expenditure(value: object, what: str) -> ExpenditureRecord:
    row = _require_mapping(value, what)
    # budget_phase.code is "" in the source's seed data, so the phase is identified by its name.
    phase = _require_mapping(_require_key(row, "budget_phase", what), f"{what} budget_phase")
    phase_name = str(_require_key(phase, "name", f"{what} budget_phase") or "").strip()
    if not phase_name:
        raise SourceFormatError(f"{what}: budget_phase has an empty name")
    year = _require_mapping(_require_key(row, "financial_year", what), f"{what} financial_year")
    raw_amount = _require_key(row, "amount", what)
    try:
        amount = parse_money(raw_amount)
    except NormalisationError as error:
        raise SourceFormatError(f"{what}: {error}") from error
    if amount is None:
        raise SourceFormatError(f"{what}: amount is empty ({raw_amount!r})")
    return ExpenditureRecord(
        budget_phase=phase_name,
        financial_year=_financial_year(_require_key(year, "budget_year", f"{what} financial_year"), what),
        amount=amount,
    )


# --------------------------------------------------------------------------------------------------------------
# Capital spend per municipality: /api/cubes/capital_v2/aggregate
# --------------------------------------------------------------------------------------------------------------

# Treasury's own scorecard computes capital expenditure from the v2 cube as NEW + RENEWAL + UPGRADING;
# REPAIR_MNT and DEPRECIATION are not capital spend and would inflate the total.
CAPITAL_EXPENDITURE_TYPES: Final = ("NEW", "RENEWAL", "UPGRADING")
CAPITAL_AGGREGATE_DRILLDOWN: Final = "demarcation.code|financial_year_end.year"
_CUT_CODE: Final = re.compile(r"[A-Z0-9_]+")


def _quoted_codes(codes: Sequence[str], what: str) -> str:
    """Double-quote string values: babbage reads an unquoted all-digit value as an integer and rejects it.

    Codes are restricted to [A-Z0-9_] so a value can never inject the cut grammar's `|`, `;` or `"`.
    """
    if not codes:
        raise ValueError(f"{what}: at least one code is needed")
    for code in codes:
        if not _CUT_CODE.fullmatch(code):
            raise ValueError(f"{what}: {code!r} is not a cube code")
    return ";".join(f'"{code}"' for code in codes)


def build_capital_cut(municipality_code: str | Sequence[str], financial_year: str | int, amount_type: str) -> str:
    """The `cut` parameter for capital spend of one year and amount type, for one or more municipalities.

    Example: `capital_type.code:"NEW";"RENEWAL";"UPGRADING"|amount_type.code:"AUDA"|period_length.length:"year"
    |financial_year_end.year:2024|demarcation.code:"CPT"` (`|` is AND, `;` is OR). Amount type, year and
    period length are each cut to a single value because summing across them is meaningless (budget plus
    actual, or twelve months plus the year). Keep batches of municipalities small: the server refuses request
    lines over about 8 KB.
    """
    codes = [municipality_code] if isinstance(municipality_code, str) else list(municipality_code)
    return "|".join(
        (
            f"capital_type.code:{_quoted_codes(CAPITAL_EXPENDITURE_TYPES, 'capital type')}",
            f"amount_type.code:{_quoted_codes([amount_type], 'amount type')}",
            'period_length.length:"year"',
            f"financial_year_end.year:{financial_year_end(financial_year)}",
            f"demarcation.code:{_quoted_codes(codes, 'municipality code')}",
        )
    )


def _cut_value(cuts: object, ref: str) -> str | None:
    """The single value a dimension was cut to, from the `cell` echo (a list in babbage 0.3.6, a scalar in
    older versions); None if it was not cut or was cut to several values."""
    if not isinstance(cuts, list):
        return None
    for cut in cuts:
        if isinstance(cut, Mapping) and cut.get("ref") == ref:
            value = cut.get("value")
            values = value if isinstance(value, list) else [value]
            return str(values[0]) if len(values) == 1 and values[0] is not None else None
    return None


def parse_capital_aggregate(payload: JsonObject | list[Any]) -> list[CapitalSpendRecord]:
    """Parse a capital_v2 aggregate response drilled down by municipality and year.

    Amount type and year come from each cell when drilled down, otherwise from a single-valued cut. A
    response that sums across amount types or years cannot be read as capital spend and is refused.
    """
    envelope = _require_mapping(payload, "capital aggregate")
    if envelope.get("status") == "error":
        raise SourceFormatError(f"capital aggregate: the API answered an error: {envelope.get('message')!r}")
    cells = _require_key(envelope, "cells", "capital aggregate")
    if not isinstance(cells, list):
        raise SourceFormatError("capital aggregate: 'cells' is not a list")
    cuts = envelope.get("cell")
    cut_amount_type, cut_year = _cut_value(cuts, "amount_type.code"), _cut_value(cuts, "financial_year_end.year")

    records = []
    for index, value in enumerate(cells):
        what = f"capital aggregate cell {index}"
        cell = _require_mapping(value, what)
        code = str(_require_key(cell, "demarcation.code", what) or "").strip()
        amount_type = cell.get("amount_type.code", cut_amount_type)
        year = cell.get("financial_year_end.year", cut_year)
        if not code or amount_type is None or year is None:
            raise SourceFormatError(
                f"{what}: needs demarcation.code, one amount_type.code and one financial_year_end.year "
                "(drilled down or cut to a single value); summing across them is meaningless"
            )
        raw_amount = _require_key(cell, "amount.sum", what)
        try:
            amount = parse_money(raw_amount)
        except NormalisationError as error:
            raise SourceFormatError(f"{what}: {error}") from error
        records.append(
            CapitalSpendRecord(
                municipality_code=code,
                financial_year=_financial_year(year, f"{what} financial_year_end.year"),
                amount_type=str(amount_type),
                amount=amount,
            )
        )
    return records


# --------------------------------------------------------------------------------------------------------------
# Fetching
# --------------------------------------------------------------------------------------------------------------
# fetch_* functions (through the shared HTTP session: timeouts, retries, breaker) belong in this section. They
# return response text for `load_json`, then hand the decoded payload to the parse_* functions above.

SOURCE_NAME: Final = "municipal_money"  # its one name: projects, runs, breakers, `manage.py ingest`


@dataclass(frozen=True, slots=True)
class FetchedBody:
    """One response as received: its URL and body, kept so that the run can hash everything it fetched."""

    url: str
    body: bytes


def _get(url: str, params: Mapping[str, Any] | None = None) -> FetchedBody:
    # Imported here so that the parsers above stay importable without Django settings.
    from ingestion.http import fetch

    response = fetch(SOURCE_NAME, url, params=dict(params) if params else None)
    return FetchedBody(url=response.url, body=response.content)


def fetch_geography(base_url: str) -> tuple[FetchedBody, list[MunicipalityRecord]]:
    """All municipalities from `/api/geography/geography/` (one unpaginated array)."""
    fetched = _get(urljoin(base_url, GEOGRAPHY_PATH))
    return fetched, parse_geography(load_json(fetched.body))


def fetch_projects(
    base_url: str, page_size: int = 500, max_pages: int = 10_000
) -> list[tuple[FetchedBody, ProjectsPage]]:
    """Every page of `/api/v1/infrastructure/projects/`, following `next` until it is null.

    A `next` that points back at a page already read (a looping proxy) ends the walk with an error rather
    than spinning for ever.
    """
    pages: list[tuple[FetchedBody, ProjectsPage]] = []
    fetched = _get(urljoin(base_url, PROJECTS_PATH), {"limit": page_size, "offset": 0})
    seen = {fetched.url}
    while True:
        page = parse_projects_page(load_json(fetched.body), base_url=base_url)
        pages.append((fetched, page))
        if page.next_url is None:
            return pages
        if page.next_url in seen or len(pages) >= max_pages:
            raise SourceFormatError(f"projects: 'next' loops or exceeds {max_pages} pages ({page.next_url})")
        seen.add(page.next_url)
        fetched = _get(page.next_url)


def fetch_capital_spend(
    base_url: str, municipality_codes: Sequence[str], financial_year: int, amount_type: str, batch_size: int = 100
) -> list[tuple[FetchedBody, list[CapitalSpendRecord]]]:
    """Capital spend (NEW + RENEWAL + UPGRADING) of one amount type and one year, municipalities in batches
    small enough for the server's 8 KB request line."""
    results = []
    url = urljoin(base_url, CAPITAL_AGGREGATE_PATH)
    for start in range(0, len(municipality_codes), batch_size):
        batch = list(municipality_codes[start : start + batch_size])
        params = {
            "aggregates": "amount.sum",
            "drilldown": CAPITAL_AGGREGATE_DRILLDOWN,
            "cut": build_capital_cut(batch, financial_year, amount_type),
            "pagesize": 20000,
        }
        fetched = _get(url, params)
        results.append((fetched, parse_capital_aggregate(load_json(fetched.body))))
    return results
