"""DWS Project Monitoring Dashboard (PMD), https://ws.dws.gov.za/pmd/level.aspx.

The PMD is an ASP.NET WebForms site built with DevExpress controls. What is known and what is not decides how
this module parses it:

Known for certain (one real capture of `level.aspx`, August 2025):
  - the page shell: title "DWS Project Dashboard", `form#aspnetForm`, the hidden fields `__EVENTTARGET`,
    `__EVENTARGUMENT`, `__VIEWSTATE`, `__VIEWSTATEGENERATOR`, `__VIEWSTATEENCRYPTED`, `__EVENTVALIDATION`,
    DevExpress resources under `DXR.axd`, the heading "... DWS Project Monitoring Dashboard (PMD)", the main
    `ASPxClientCallbackPanel` `ctl00$PageContent$MyCallbackPanel` holding an `ASPxNavBar` list, and
    `WebForm_DoCallback` wiring;
  - that the captured page holds no project table at all.
Known only indirectly (text scraped by an earlier project): municipality lines of the form
  "<Name> - [<MDB code>] <N> Projects with a Total value: R<amount>".
Inferred (standard DevExpress/ASP.NET behaviour, never seen on the PMD): the project grid's markup and
  columns, the callback request grammar and the callback response envelope.

Hence: the grid is read by column caption, never by position, with a caption table that is easy to extend
when a real page is captured; an unrecognised page or grid raises `SourceFormatError` naming what was missing;
a recognised page without data says so (`has_project_grid=False`) and never yields invented rows.

Data terms: sibling DWS systems restrict reuse of their data; see the research notes before republishing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Final, TypeVar
from urllib.parse import urljoin

import chompjs
from bs4 import BeautifulSoup, Tag

from ingestion.normalise import (
    NormalisationError,
    ProjectStatus,
    normalise_status,
    parse_date,
    parse_money,
    parse_percentage,
)
from ingestion.sources.errors import SourceFormatError

PMD_BASE_URL: Final = "https://ws.dws.gov.za/pmd/"
PMD_INDEX_URL: Final = "https://ws.dws.gov.za/pmd/level.aspx"
# FACT: the unique ID of the main callback panel in the captured page.
MAIN_CALLBACK_PANEL_ID: Final = "ctl00$PageContent$MyCallbackPanel"
_MAIN_CALLBACK_PANEL_CLIENT_ID: Final = "ctl00_PageContent_MyCallbackPanel"
PMD_TITLE: Final = "DWS Project Dashboard"
PMD_HEADING: Final = "DWS Project Monitoring Dashboard"


class DwsCallbackError(SourceFormatError):
    """The server answered a callback with an error (e.g. "Invalid viewstate"): re-GET the page and retry."""


# --------------------------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MunicipalitySummary:
    """One municipality line of the dashboard: its name, MDB code, number of projects and their total value."""

    name: str
    code: str
    project_count: int
    total_value: Decimal
    dashboard_url: str | None = None


@dataclass(frozen=True, slots=True)
class DwsIndexPage:
    """What a dashboard page offers: the form state to post back, municipality lines, callback targets."""

    hidden_fields: dict[str, str]
    summaries: list[MunicipalitySummary]
    callback_targets: list[str]
    is_dashboard_index: bool
    has_project_grid: bool


@dataclass(frozen=True, slots=True)
class DwsProjectRow:
    """One row of a PMD project grid. Every value comes from a column found by its caption; a column the
    grid does not have leaves its field empty. `raw` holds every cell by caption, mapped or not."""

    name: str
    project_number: str
    status_text: str
    status: ProjectStatus
    municipality: str
    water_services_authority: str
    programme: str
    total_cost: Decimal | None
    expenditure: Decimal | None
    progress_percent: Decimal | None
    start_date: date | None
    end_date: date | None
    contractor: str
    detail_url: str | None
    raw: dict[str, str] = field(compare=True)
    # Values of LENIENT_FIELDS that could not be read: stored as None, and listed here for the run report.
    values_not_read: tuple[dict[str, str], ...] = ()


# A progress value the dashboard shows wrongly ("abc", 140 %) should not discard a whole municipality's rows:
# it is left empty and reported. Names, numbers, money and dates stay strict: a grid that does not give them
# the way the parser knows is not understood, and the run fails with nothing written.
LENIENT_FIELDS: Final = frozenset({"progress_percent"})


@dataclass(frozen=True, slots=True)
class CallbackResponse:
    """The HTML a DevExpress callback returned, and the new __EVENTVALIDATION if the server sent one."""

    html: str
    event_validation: str | None


# --------------------------------------------------------------------------------------------------------------
# Small HTML helpers
# --------------------------------------------------------------------------------------------------------------


def _soup(html: str | bytes) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


def _text(element: Tag) -> str:
    return " ".join(element.get_text(" ").replace("\xa0", " ").split())


def _attribute(element: Tag, name: str) -> str | None:
    value = element.get(name)
    if value is None:
        return None
    return value if isinstance(value, str) else " ".join(value)


def _link_href(element: Tag | None) -> str | None:
    """The element's href if it is a real link (javascript: pseudo-links drive callbacks, not navigation)."""
    if element is None:
        return None
    href = _attribute(element, "href")
    if not href or href.strip().lower().startswith("javascript:") or href.strip() == "#":
        return None
    return href.strip()


# --------------------------------------------------------------------------------------------------------------
# Form state
# --------------------------------------------------------------------------------------------------------------


def parse_hidden_fields(html: str | bytes) -> dict[str, str]:
    """Every hidden input of the page by name: __VIEWSTATE, __EVENTVALIDATION, DevExpress `...$CallbackState`.

    WebForms rejects a post-back or callback that does not echo these, so all of them are kept, not only the
    well-known ones. A page without __VIEWSTATE is not a WebForms page (or is only a callback fragment).
    """
    fields: dict[str, str] = {}
    for element in _soup(html).find_all("input"):
        if (_attribute(element, "type") or "").lower() != "hidden":
            continue
        name = _attribute(element, "name")
        if name:
            fields[name] = _attribute(element, "value") or ""
    if "__VIEWSTATE" not in fields:
        raise SourceFormatError(
            f"no __VIEWSTATE hidden field: not an ASP.NET WebForms page (hidden fields found: {sorted(fields)})"
        )
    return fields


# --------------------------------------------------------------------------------------------------------------
# Municipality summary lines
# --------------------------------------------------------------------------------------------------------------

_SUMMARY_LINE: Final = re.compile(
    r"^(?P<name>[^\[\]]+?)\s*-\s*\[(?P<code>[A-Z]{2,4}[0-9]{0,4})\]\s*"
    r"(?P<count>[0-9][0-9,]*)\s+Projects?\s+with\s+a\s+total\s+value\s*:?\s*(?P<amount>R\s*[0-9][0-9 ,.]*)$",
    re.IGNORECASE,
)


def parse_summary_line(text: str) -> MunicipalitySummary | None:
    """Read "!Kheis - [NC084] 5 Projects with a Total value: R61,612,345.67"; None if the text is not one.

    Names are kept as written (with "!", "ǃ", apostrophes, hyphens, accents); matching them to municipalities
    is done on the code, or on `normalise_municipality_name` when only a name is known.
    """
    squashed = " ".join(unicodedata.normalize("NFC", text).replace("\xa0", " ").split())
    match = _SUMMARY_LINE.match(squashed)
    if match is None:
        return None
    name = match["name"].strip()
    if not any(character.isalpha() for character in name):
        return None
    try:
        total_value = parse_money(match["amount"])
    except NormalisationError as error:
        raise SourceFormatError(f"municipality line with an unreadable total value: {squashed!r}") from error
    if total_value is None:
        raise SourceFormatError(f"municipality line without a total value: {squashed!r}")
    return MunicipalitySummary(
        name=name,
        code=match["code"].upper(),
        project_count=int(match["count"].replace(",", "")),
        total_value=total_value,
    )


_NON_CONTENT_TAGS: Final = frozenset({"script", "style", "head", "title", "noscript", "template"})


def _summary_link(element: Tag) -> str | None:
    """The link the server emitted for a municipality line: around it, inside it, or in the same list entry."""
    href = _link_href(element) if element.name == "a" else None
    href = href or _link_href(element.find_parent("a", href=True))
    href = href or _link_href(element.find("a", href=True))
    container = element.find_parent(["li", "tr"])
    if href is None and container is not None:
        for anchor in container.find_all("a", href=True):
            if href := _link_href(anchor):
                break
    return href


def _parse_summaries(soup: BeautifulSoup, base_url: str) -> list[MunicipalitySummary]:
    # The markup around each line is not known for certain, so every element whose whole text is a summary
    # line is a candidate and the innermost one is kept (its ancestors repeat the same text).
    matches: dict[int, tuple[Tag, MunicipalitySummary]] = {}
    for element in soup.find_all(True):
        if element.name in _NON_CONTENT_TAGS or element.find_parent(list(_NON_CONTENT_TAGS)):
            continue
        summary = parse_summary_line(_text(element))
        if summary is not None:
            matches[id(element)] = (element, summary)
    outer = {id(parent) for element, _ in matches.values() for parent in element.parents if id(parent) in matches}

    summaries: list[MunicipalitySummary] = []
    for key, (element, summary) in matches.items():
        if key in outer:
            continue
        href = _summary_link(element)
        found = MunicipalitySummary(
            name=summary.name,
            code=summary.code,
            project_count=summary.project_count,
            total_value=summary.total_value,
            dashboard_url=urljoin(base_url, href) if href else None,
        )
        if found not in summaries:
            summaries.append(found)
    return summaries


# --------------------------------------------------------------------------------------------------------------
# Dashboard pages
# --------------------------------------------------------------------------------------------------------------

_CALLBACK_TARGET: Final = re.compile(r"WebForm_DoCallback\(\s*'([^']+)'")
_GRID_CLASS: Final = re.compile(r"^dxgv(?:Control|Table)")


def _missing_pmd_markers(soup: BeautifulSoup) -> list[str]:
    missing = []
    if soup.find("form", id="aspnetForm") is None:
        missing.append("the WebForms form#aspnetForm")
    title = _text(soup.title) if soup.title else ""
    headings = " ".join(_text(span) for span in soup.find_all(class_="PageSiteHeading"))
    if PMD_TITLE.casefold() not in title.casefold() and PMD_HEADING.casefold() not in headings.casefold():
        missing.append(f"the title {PMD_TITLE!r} or the heading {PMD_HEADING!r}")
    uses_devexpress = any(
        "DXR.axd" in (_attribute(tag, "src") or _attribute(tag, "href") or "")
        for tag in soup.find_all(["script", "link"])
    )
    uses_devexpress = uses_devexpress or any(
        "ASPx.createControl" in script.get_text() for script in soup.find_all("script")
    )
    if not uses_devexpress:
        missing.append("DevExpress resources (DXR.axd / ASPx.createControl)")
    return missing


def parse_index_page(html: str | bytes, base_url: str = PMD_INDEX_URL) -> DwsIndexPage:
    """Read a PMD page: its form state, municipality lines (with the links the server emitted, made absolute
    against `base_url`), callback targets, and whether it is the dashboard index and/or holds a project grid.

    Raises SourceFormatError when the page is not a PMD page at all (maintenance, error or foreign page),
    naming the markers that were missing, and when it is a login form instead of the dashboard.
    """
    soup = _soup(html)
    missing = _missing_pmd_markers(soup)
    if missing:
        title = _text(soup.title) if soup.title else ""
        raise SourceFormatError(f"not a DWS PMD page (title {title!r}): missing {', '.join(missing)}")
    hidden_fields = parse_hidden_fields(html)

    panel = soup.find(id=_MAIN_CALLBACK_PANEL_CLIENT_ID)
    is_dashboard_index = panel is not None and panel.find("ul", class_="dxnbSys") is not None
    has_project_grid = soup.find(class_=_GRID_CLASS) is not None
    if not (is_dashboard_index or has_project_grid) and soup.find("input", type="password") is not None:
        raise SourceFormatError("the PMD answered with a login form instead of the dashboard")

    callback_targets: list[str] = []
    for script in soup.find_all("script"):
        for target in _CALLBACK_TARGET.findall(script.get_text()):
            if target not in callback_targets:
                callback_targets.append(target)

    return DwsIndexPage(
        hidden_fields=hidden_fields,
        summaries=_parse_summaries(soup, base_url),
        callback_targets=callback_targets,
        is_dashboard_index=is_dashboard_index,
        has_project_grid=has_project_grid,
    )


# --------------------------------------------------------------------------------------------------------------
# Project grid (DevExpress ASPxGridView), read by caption
# --------------------------------------------------------------------------------------------------------------

# Field -> captions that mean it. INFERRED: no PMD grid has been seen; the captions come from the PMD's menu
# vocabulary and Treasury's infrastructure (IRM) headers. When a real page is captured, add its captions here.
GRID_FIELD_CAPTIONS: Final[dict[str, tuple[str, ...]]] = {
    "project_number": ("Project Number", "Project No", "Project No.", "Project ID", "Project Code", "Project Ref"),
    "name": ("Project Name", "Project", "Project Description", "Name"),
    "status": ("Project Status", "Status", "Project Stage", "Stage"),
    "municipality": ("Municipality", "Local Municipality", "LM"),
    "water_services_authority": ("WSA", "Water Services Authority"),
    "programme": ("Programme", "Program", "Funding Programme", "Grant"),
    "total_cost": ("Total Project Cost", "Project Value", "Budget", "Project Budget", "Total Cost"),
    "expenditure": ("Expenditure", "Spent", "Expenditure to Date", "Total Expenditure", "Actual Expenditure"),
    "progress_percent": ("Progress", "% Complete", "Percentage Complete", "Progress (%)", "% Progress"),
    "start_date": ("Start Date", "Project Start Date", "Construction Start Date"),
    "end_date": (
        "End Date",
        "Completion Date",
        "Planned Completion",
        "Planned Completion Date",
        "Estimated Completion Date",
    ),
    "contractor": ("Contractor", "Main Contractor", "Service Provider"),
}
# Without a name and an identifier a row cannot be upserted idempotently (names get edited), so a grid
# lacking either is a format we do not understand.
REQUIRED_GRID_FIELDS: Final = ("name", "project_number")

# DevExpress cells that are not data columns: group indents, detail expanders, hidden edit cells.
_LAYOUT_CELL_CLASSES: Final = frozenset({"dxgvIndentCell", "dxgvDetailButton", "dxgvHEC", "dxgvAIC"})
_HEADER_CLASS: Final = re.compile(r"^dxgvHeader")
_DATA_ROW_CLASS: Final = re.compile(r"^dxgvDataRow")


def _caption_key(caption: str) -> str:
    """'Project No.' / 'PROJECT NO:' / 'Progress (%)' -> comparable keys ('project no', 'progress %')."""
    text = unicodedata.normalize("NFKC", caption).casefold()
    text = re.sub(r"[^\w%\s]", " ", text)
    return " ".join(text.split())


def _build_caption_lookup() -> dict[str, str]:
    lookup: dict[str, str] = {}
    for field_name, captions in GRID_FIELD_CAPTIONS.items():
        for caption in captions:
            key = _caption_key(caption)
            if lookup.setdefault(key, field_name) != field_name:
                raise ValueError(f"caption {caption!r} is listed for both {lookup[key]} and {field_name}")
    return lookup


_FIELD_BY_CAPTION: Final = _build_caption_lookup()


def _data_cells(row: Tag) -> list[Tag]:
    cells = row.find_all(["td", "th"], recursive=False)
    return [cell for cell in cells if not _LAYOUT_CELL_CLASSES.intersection(cell.get("class") or [])]


def _find_grid_table(soup: BeautifulSoup) -> Tag:
    control = soup.find(class_=re.compile(r"^dxgvControl"))
    scope = control if control is not None else soup
    table = scope.find("table", class_=re.compile(r"^dxgvTable")) or scope.find(
        "table", id=re.compile(r"_DXMainTable$")
    )
    if table is None:
        raise SourceFormatError("no DevExpress grid found (no dxgvControl/dxgvTable/_DXMainTable element)")
    return table


def _header_captions(table: Tag) -> list[str]:
    for row in table.find_all("tr"):
        if row.find_parent("table") is not table:
            continue
        cells = _data_cells(row)
        if any(_HEADER_CLASS.match(name) for cell in cells for name in cell.get("class") or []):
            return [_text(cell) for cell in cells]
    raise SourceFormatError("DevExpress grid without a header row (no dxgvHeader cells)")


def _column_fields(captions: list[str]) -> dict[str, int]:
    """Field -> column index; the first column with a matching caption wins, later ones stay in `raw` only."""
    columns: dict[str, int] = {}
    for index, caption in enumerate(captions):
        field_name = _FIELD_BY_CAPTION.get(_caption_key(caption))
        if field_name is not None and field_name not in columns:
            columns[field_name] = index
    missing = [field_name for field_name in REQUIRED_GRID_FIELDS if field_name not in columns]
    if missing:
        expected = "; ".join(f"{name}: one of {list(GRID_FIELD_CAPTIONS[name])}" for name in missing)
        raise SourceFormatError(
            f"project grid layout not recognised: captions found {[c for c in captions if c]}, "
            f"missing required columns ({expected})"
        )
    return columns


def parse_project_grid(html: str | bytes, base_url: str | None = None) -> list[DwsProjectRow]:
    """Read the rows of a DevExpress project grid in a page or callback fragment, columns by caption.

    Columns may come in any order; unknown columns are kept in each row's `raw`. An empty grid gives [].
    A missing grid, missing required captions, rows whose cells do not line up with the header, or values
    that cannot be read raise SourceFormatError with the row and caption concerned.
    """
    table = _find_grid_table(_soup(html))
    captions = _header_captions(table)
    columns = _column_fields(captions)

    rows = []
    data_rows = [row for row in table.find_all("tr", class_=_DATA_ROW_CLASS) if row.find_parent("table") is table]
    for row_number, row in enumerate(data_rows):
        cells = _data_cells(row)
        if len(cells) != len(captions):
            raise SourceFormatError(
                f"grid row {row_number} has {len(cells)} cells for {len(captions)} columns {captions}"
            )
        rows.append(_project_row(row_number, captions, cells, columns, base_url))
    return rows


_Value = TypeVar("_Value")


def _project_row(
    row_number: int, captions: list[str], cells: list[Tag], columns: Mapping[str, int], base_url: str | None
) -> DwsProjectRow:
    values = [_text(cell) for cell in cells]

    def text(field_name: str) -> str:
        return values[columns[field_name]] if field_name in columns else ""

    not_read: list[dict[str, str]] = []

    def converted(field_name: str, convert: Callable[[str], _Value | None]) -> _Value | None:
        if field_name not in columns:
            return None
        try:
            return convert(text(field_name))
        except NormalisationError as error:
            caption = captions[columns[field_name]]
            if field_name in LENIENT_FIELDS:
                not_read.append({"field": field_name, "column": caption, "value": text(field_name)[:200],
                                 "reason": str(error)})
                return None
            raise SourceFormatError(f"grid row {row_number}, column {caption!r}: {error}") from error

    name, project_number = text("name"), text("project_number")
    if not name or not project_number:
        raise SourceFormatError(f"grid row {row_number} has no project name or number: {values}")
    name_cell = cells[columns["name"]]
    href = _link_href(name_cell.find("a", href=True))
    if href is None:
        for cell in cells:
            if href := _link_href(cell.find("a", href=True)):
                break

    return DwsProjectRow(
        name=name,
        project_number=project_number,
        status_text=text("status"),
        status=normalise_status(text("status")),
        municipality=text("municipality"),
        water_services_authority=text("water_services_authority"),
        programme=text("programme"),
        total_cost=converted("total_cost", parse_money),
        expenditure=converted("expenditure", parse_money),
        progress_percent=converted("progress_percent", parse_percentage),
        start_date=converted("start_date", parse_date),
        end_date=converted("end_date", parse_date),
        contractor=text("contractor"),
        detail_url=(urljoin(base_url, href) if base_url else href) if href else None,
        values_not_read=tuple(not_read),
        raw={
            caption or f"column {index}": value
            for index, (caption, value) in enumerate(zip(captions, values, strict=True))
        },
    )


_PAGE_OF: Final = re.compile(r"Page\s+(\d+)\s+of\s+(\d+)", re.IGNORECASE)
_PAGE_COUNT_STATE: Final = re.compile(r"['\"]?pageCount['\"]?\s*[:=]\s*(\d+)")


def parse_grid_page_count(html: str | bytes) -> int | None:
    """The grid's number of pages, from the pager text "Page 1 of 3 (27 items)" or a `pageCount` in the
    control's script state; None when the page shows neither (a single page, or an unknown pager)."""
    soup = _soup(html)
    for element in soup.find_all(class_=re.compile(r"^dxp-summary|^dxgvPager")):
        if match := _PAGE_OF.search(_text(element)):
            return int(match[2])
    for script in soup.find_all("script"):
        if match := _PAGE_COUNT_STATE.search(script.get_text()):
            return int(match[1])
    return None


# --------------------------------------------------------------------------------------------------------------
# DevExpress callbacks
# --------------------------------------------------------------------------------------------------------------
# Request (KNOWN from ASP.NET's WebForm_DoCallback and three unrelated scrapers): POST the whole form plus
# __CALLBACKID=<control unique ID> and __CALLBACKPARAM. ASPxCallbackPanel.PerformCallback(x) sends "c0:" + x.
# Grid paging (INFERRED from two independent harvesters of other DevExpress sites, never seen on the PMD):
# "c0:GB|<len(body)>;<body>;" with body "<len(cmd)>|<cmd><len(arg)>|<arg>", e.g. page 2 of a grid is
# "c0:GB|20;12|PAGERONCLICK3|PN1;" (PN<n> is 0-based). Some DevExpress versions prefix the visible row keys as
# "KV|<len>;<keys>;"; if the live grid ignores plain GB requests, pass that state through `row_keys_state`.
#
# Response (KNOWN from ASP.NET's WebForm_ExecuteCallback): "s<payload>" on success, "e<message>" on error, or
# "<n>|<n characters of new __EVENTVALIDATION><payload>" (so "0|" means no new validation value). DevExpress's
# payload is "/*DX*/(<JavaScript object literal>)" whose 'result' holds the HTML as a JavaScript string, or
# 'generalError' on a server error (KNOWN from scrapers of other DevExpress sites; INFERRED for the PMD).

_GRID_PAGER_COMMAND: Final = "PAGERONCLICK"
_CONTROL_UNIQUE_ID: Final = re.compile(r"[A-Za-z_][\w$]*")


def build_grid_page_param(page_index: int, row_keys_state: str | None = None) -> str:
    """The __CALLBACKPARAM asking a grid for page `page_index` (0-based), e.g. "c0:GB|20;12|PAGERONCLICK3|PN1;"."""
    if isinstance(page_index, bool) or not isinstance(page_index, int) or page_index < 0:
        raise ValueError(f"page_index must be a 0-based page number, got {page_index!r}")
    argument = f"PN{page_index}"
    body = f"{len(_GRID_PAGER_COMMAND)}|{_GRID_PAGER_COMMAND}{len(argument)}|{argument}"
    keys = f"KV|{len(row_keys_state)};{row_keys_state};" if row_keys_state is not None else ""
    return f"c0:{keys}GB|{len(body)};{body};"


def _callback_form(hidden_fields: Mapping[str, str], callback_id: str, parameter: str) -> dict[str, str]:
    if not _CONTROL_UNIQUE_ID.fullmatch(callback_id):
        raise ValueError(f"not a control unique ID: {callback_id!r}")
    form = dict(hidden_fields)
    form.setdefault("__EVENTTARGET", "")
    form.setdefault("__EVENTARGUMENT", "")
    form["__CALLBACKID"] = callback_id
    form["__CALLBACKPARAM"] = parameter
    return form


def build_callback_form(
    hidden_fields: Mapping[str, str], callback_id: str, page_index: int, *, row_keys_state: str | None = None
) -> dict[str, str]:
    """The form body for a grid paging callback: every hidden field plus __CALLBACKID and __CALLBACKPARAM."""
    return _callback_form(hidden_fields, callback_id, build_grid_page_param(page_index, row_keys_state))


def parse_callback_envelope(text: str) -> CallbackResponse:
    """Split a raw callback response into its HTML and any new __EVENTVALIDATION (see the notes above)."""
    body = text.lstrip("\ufeff")
    event_validation: str | None = None
    if body.startswith("s"):
        payload = body[1:]
    elif body.startswith("e"):
        raise DwsCallbackError(f"the server reported a callback error: {body[1:200]!r}")
    elif match := re.match(r"(\d+)\|", body):
        start = match.end()
        length = int(match[1])
        if len(body) < start + length:
            raise SourceFormatError("callback response shorter than its __EVENTVALIDATION length prefix")
        event_validation = body[start : start + length] or None
        payload = body[start + length :]
    else:
        raise SourceFormatError(f"not an ASP.NET callback response (expected 's', 'e' or '<n>|'): {body[:60]!r}")

    payload = payload.strip()
    if not payload.startswith("/*DX*/("):
        raise SourceFormatError(f"callback response without the DevExpress '/*DX*/(' envelope: {payload[:60]!r}")
    try:
        # The envelope is a JavaScript object literal (single quotes, unquoted keys), not JSON: chompjs reads
        # such literals out of scraped pages, so this parser keeps no JavaScript reader of its own.
        literal: object = chompjs.parse_js_object(payload[len("/*DX*/(") :])
    except ValueError as error:
        raise SourceFormatError(f"DevExpress callback envelope is not a readable object: {error}") from error
    if not isinstance(literal, dict):
        raise SourceFormatError("DevExpress callback envelope is not an object")
    if literal.get("generalError"):
        raise DwsCallbackError(f"the server reported a callback error: {literal['generalError']!r}")
    result = literal.get("result")
    if isinstance(result, dict) and isinstance(result.get("html"), str):
        result = result["html"]
    if not isinstance(result, str):
        raise SourceFormatError(f"DevExpress callback without an HTML 'result' (keys: {sorted(literal)})")
    return CallbackResponse(html=result, event_validation=event_validation)


# --------------------------------------------------------------------------------------------------------------
# Fetching
# --------------------------------------------------------------------------------------------------------------
# Through the shared HTTP session (timeouts, retries, breaker). Only links the server emitted are followed; the
# encrypted `enc=` values are never built or stored as configuration.

SOURCE_NAME: Final = "dws"  # its one name: projects, runs, breakers, `manage.py ingest`


@dataclass(frozen=True, slots=True)
class FetchedPage:
    """One response as received (page or callback), kept so that the run can hash what it fetched."""

    url: str
    text: str


@dataclass(frozen=True, slots=True)
class MunicipalityProjects:
    """What one municipality's dashboard page gave: its rows (all grid pages), or none and why."""

    url: str
    pages: list[FetchedPage]
    rows: list[DwsProjectRow]
    has_project_grid: bool


def _request(url: str, form: Mapping[str, str] | None = None) -> FetchedPage:
    from ingestion.http import fetch  # here, so that the parsers stay importable without Django settings

    if form is None:
        response = fetch(SOURCE_NAME, url)
    else:
        response = fetch(SOURCE_NAME, url, method="POST", data=dict(form), headers={"Referer": url})
    return FetchedPage(url=response.url, text=response.text)


def fetch_index(index_url: str) -> tuple[FetchedPage, DwsIndexPage]:
    """The dashboard page that lists municipalities ("<Name> - [<code>] <N> Projects with a Total value: R…")."""
    fetched = _request(index_url)
    return fetched, parse_index_page(fetched.text, base_url=fetched.url)


def _grid_callback_id(html: str, page: DwsIndexPage) -> str | None:
    """The unique ID the grid's callbacks go to: the callback target whose client ID is the grid control's."""
    control = _soup(html).find(class_=re.compile(r"^dxgvControl"))
    client_id = _attribute(control, "id") if control is not None else None
    for target in page.callback_targets:
        if client_id and target.replace("$", "_") == client_id:
            return target
    return None


def _callback_states(fragment: str) -> dict[str, str]:
    """Hidden `...$CallbackState` inputs a callback returned, to echo in the next callback."""
    states = {}
    for element in _soup(fragment).find_all("input"):
        name = _attribute(element, "name") or ""
        if name.endswith("$CallbackState"):
            states[name] = _attribute(element, "value") or ""
    return states


def fetch_municipality_projects(url: str, max_pages: int = 200) -> MunicipalityProjects:
    """Every project row on one municipality's dashboard page, paging the grid through DevExpress callbacks.

    A page without a grid gives no rows (`has_project_grid=False`), never placeholder rows. A callback that the
    server rejects (e.g. an expired viewstate) is retried once from a fresh GET of the page.
    """
    fetched = _request(url)
    page = parse_index_page(fetched.text, base_url=fetched.url)
    if not page.has_project_grid:
        return MunicipalityProjects(url=fetched.url, pages=[fetched], rows=[], has_project_grid=False)
    pages = [fetched]
    rows = parse_project_grid(fetched.text, base_url=fetched.url)
    page_count = min(parse_grid_page_count(fetched.text) or 1, max_pages)
    if page_count > 1:
        callback_id = _grid_callback_id(fetched.text, page)
        if callback_id is None:
            raise SourceFormatError(
                f"project grid at {fetched.url} has {page_count} pages but no grid callback target "
                f"(WebForm_DoCallback targets found: {page.callback_targets})"
            )
        hidden = dict(page.hidden_fields)
        for page_index in range(1, page_count):
            try:
                response = _request(fetched.url, build_callback_form(hidden, callback_id, page_index))
                envelope = parse_callback_envelope(response.text)
            except DwsCallbackError:
                fresh = _request(url)
                hidden = dict(parse_index_page(fresh.text, base_url=fresh.url).hidden_fields)
                response = _request(fresh.url, build_callback_form(hidden, callback_id, page_index))
                envelope = parse_callback_envelope(response.text)
            pages.append(response)
            if envelope.event_validation:
                hidden["__EVENTVALIDATION"] = envelope.event_validation
            hidden.update(_callback_states(envelope.html))
            rows.extend(parse_project_grid(envelope.html, base_url=fetched.url))
    return MunicipalityProjects(url=fetched.url, pages=pages, rows=rows, has_project_grid=True)
