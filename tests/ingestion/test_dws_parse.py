"""DWS dashboard pages are recognised by their known shell, grids are read by caption, and nothing is invented."""

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest

from ingestion.sources.dws import (
    MAIN_CALLBACK_PANEL_ID,
    CallbackResponse,
    DwsCallbackError,
    MunicipalitySummary,
    build_callback_form,
    build_grid_page_param,
    parse_callback_envelope,
    parse_grid_page_count,
    parse_hidden_fields,
    parse_index_page,
    parse_project_grid,
    parse_summary_line,
)
from ingestion.sources.errors import SourceFormatError

Read = Callable[[str, str], str]
BASE_URL = "https://ws.dws.gov.za/pmd/level.aspx"
GRID_ID = "ctl00$PageContent$MyCallbackPanel$gvProjects"


# Summary lines ---------------------------------------------------------------------------------------------------


def test_a_summary_line_gives_name_code_count_and_total_value() -> None:
    summary = parse_summary_line("!Kheis - [NC084] 5 Projects with a Total value: R61,612,345.67")

    assert summary == MunicipalitySummary("!Kheis", "NC084", 5, Decimal("61612345.67"))


@pytest.mark.parametrize(
    ("line", "name", "code"),
    [
        ("ǃKheis - [NC084] 5 Projects with a Total value: R61,612,345.67", "ǃKheis", "NC084"),
        ("!Kai! Garib - [NC082] 14 Projects with a Total value: R402,118,000.00", "!Kai! Garib", "NC082"),
        ("O'Kiep - [NC062] 2 Projects with a Total value: R5,000,000.00", "O'Kiep", "NC062"),
        ("Dr Beyers Naudé - [EC101] 12 Projects with a Total value: R348,905,112.40", "Dr Beyers Naudé", "EC101"),
        ("Ga-Segonyana - [NC452] 3 Projects with a Total value: R18,500,000.00", "Ga-Segonyana", "NC452"),
        ("City of Cape Town - [CPT] 41 Projects with a Total value: R5,930,118,452.16", "City of Cape Town", "CPT"),
        ("uMhlathuze - [KZN282] 8 Projects with a Total value: R1,000.00", "uMhlathuze", "KZN282"),
    ],
)
def test_summary_lines_keep_names_with_clicks_apostrophes_hyphens_and_accents(line: str, name: str, code: str) -> None:
    summary = parse_summary_line(line)

    assert summary is not None
    assert (summary.name, summary.code) == (name, code)


def test_a_summary_line_for_a_single_project_uses_the_singular() -> None:
    summary = parse_summary_line("Nala - [FS185] 1 Project with a Total value: R96,040,250.75")

    assert summary == MunicipalitySummary("Nala", "FS185", 1, Decimal("96040250.75"))


def test_a_summary_line_split_over_lines_and_non_breaking_spaces_still_reads() -> None:
    summary = parse_summary_line("Thabazimbi\u00a0- [LIM361]\n   9 Projects with a Total value:\u00a0R210,330,000.00")

    assert summary == MunicipalitySummary("Thabazimbi", "LIM361", 9, Decimal("210330000.00"))


@pytest.mark.parametrize(
    "text",
    [
        "Project Dashboards - Local Municipaly",
        "All!ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        "Emalahleni - [MP312]",
        "Emalahleni - MP312 23 Projects with a Total value: R1,000.00",
        "- [MP312] 23 Projects with a Total value: R1,000.00",
        "",
    ],
)
def test_text_that_is_not_a_summary_line_gives_none(text: str) -> None:
    assert parse_summary_line(text) is None


def test_a_summary_line_with_an_unreadable_amount_is_an_error_not_a_skip() -> None:
    with pytest.raises(SourceFormatError, match="unreadable total value"):
        parse_summary_line("Nala - [FS185] 7 Projects with a Total value: R1,23,4")


# Index pages -----------------------------------------------------------------------------------------------------


def test_the_index_lists_every_municipality_with_the_link_the_server_emitted(fixture_text: Read) -> None:
    page = parse_index_page(fixture_text("dws", "level_index.html"), BASE_URL)

    assert [(summary.code, summary.project_count) for summary in page.summaries] == [
        ("NC084", 5),
        ("EC101", 12),
        ("MP312", 23),
        ("NC452", 1),
        ("FS185", 7),
        ("LIM361", 9),
        ("CPT", 41),
    ]
    assert page.summaries[0].dashboard_url == "https://ws.dws.gov.za/pmd/level.aspx?enc=RklYVFVSRW11bmkx%2BbQ"
    assert page.summaries[1].name == "Dr Beyers Naudé"
    assert page.summaries[1].total_value == Decimal("348905112.40")


def test_a_link_in_a_neighbouring_cell_of_the_entry_is_found_and_unescaped(fixture_text: Read) -> None:
    page = parse_index_page(fixture_text("dws", "level_index.html"), BASE_URL)

    cape_town = page.summaries[-1]
    assert cape_town.dashboard_url == "https://ws.dws.gov.za/pmd/level.aspx?df=1&lv=2&enc=RklYVFVSRW11bmk3%2BhQ"


def test_the_index_is_recognised_with_its_form_state_and_callback_targets(fixture_text: Read) -> None:
    page = parse_index_page(fixture_text("dws", "level_index.html"), BASE_URL)

    assert page.is_dashboard_index
    assert not page.has_project_grid
    assert page.hidden_fields["__VIEWSTATE"] == "FIXTUREviewstateIndex+/def=="
    assert page.hidden_fields["__VIEWSTATEGENERATOR"] == "CFA6FC39"
    assert MAIN_CALLBACK_PANEL_ID in page.callback_targets


def test_the_real_shell_without_lines_is_an_index_with_no_grid_and_no_rows(fixture_text: Read) -> None:
    page = parse_index_page(fixture_text("dws", "level_index_real_shell.html"), BASE_URL)

    assert page.is_dashboard_index
    assert not page.has_project_grid
    assert page.summaries == []
    assert set(page.hidden_fields) == {
        "__EVENTTARGET",
        "__EVENTARGUMENT",
        "__VIEWSTATE",
        "__VIEWSTATEGENERATOR",
        "__VIEWSTATEENCRYPTED",
        "__EVENTVALIDATION",
    }
    assert page.callback_targets == [MAIN_CALLBACK_PANEL_ID, "ctl00$TimeoutControl1$KeepAliveHelper"]


def test_the_real_shell_has_no_project_grid_to_parse(fixture_text: Read) -> None:
    with pytest.raises(SourceFormatError, match="no DevExpress grid found"):
        parse_project_grid(fixture_text("dws", "level_index_real_shell.html"))


def test_a_project_page_is_recognised_as_holding_a_grid_but_not_as_the_index(fixture_text: Read) -> None:
    page = parse_index_page(fixture_text("dws", "project_grid.html"), BASE_URL)

    assert page.has_project_grid
    assert not page.is_dashboard_index
    assert page.callback_targets[0] == GRID_ID
    assert page.hidden_fields[f"{GRID_ID}$CallbackState"] == "FIXTUREgridCallbackState"


def test_a_maintenance_page_is_an_error_naming_the_missing_markers(fixture_text: Read) -> None:
    with pytest.raises(SourceFormatError) as raised:
        parse_index_page(fixture_text("dws", "maintenance.html"), BASE_URL)

    message = str(raised.value)
    assert "not a DWS PMD page (title 'Site Maintenance')" in message
    assert "form#aspnetForm" in message
    assert "DevExpress" in message


def test_a_login_form_instead_of_the_dashboard_is_an_error(fixture_text: Read) -> None:
    shell = fixture_text("dws", "level_index_real_shell.html")
    login = shell.replace('id="ctl00_PageContent_MyCallbackPanel"', 'id="ctl00_PageContent_LoginPanel"').replace(
        "</form>", '<input type="password" name="ctl00$PageContent$Password"/></form>'
    )

    with pytest.raises(SourceFormatError, match="login form"):
        parse_index_page(login, BASE_URL)


def test_a_page_without_viewstate_is_not_a_webforms_page() -> None:
    with pytest.raises(SourceFormatError, match="no __VIEWSTATE"):
        parse_hidden_fields('<form id="aspnetForm"><input type="hidden" name="__EVENTTARGET" value=""/></form>')


def test_hidden_fields_include_devexpress_state_inputs() -> None:
    html = (
        '<input type="hidden" name="__VIEWSTATE" value="abc"/>'
        '<input type="HIDDEN" name="ctl00$Grid$CallbackState" value="state"/>'
        '<input type="text" name="search" value="ignored"/>'
    )

    assert parse_hidden_fields(html) == {"__VIEWSTATE": "abc", "ctl00$Grid$CallbackState": "state"}


# Project grid ----------------------------------------------------------------------------------------------------


def test_grid_rows_are_read_by_caption_into_typed_fields(fixture_text: Read) -> None:
    rows = parse_project_grid(fixture_text("dws", "project_grid.html"), base_url=BASE_URL)

    first = rows[0]
    assert len(rows) == 5
    assert first.project_number == "NC084-RBIG-001"
    assert first.name == "!Kheis Bulk Water Supply Phase 2"
    assert first.municipality == "!Kheis"
    assert first.programme == "RBIG"
    assert (first.status_text, first.status) == ("Construction", "implementation")
    assert first.total_cost == Decimal("123456789.00")
    assert first.expenditure == Decimal("61000000.50")
    assert first.progress_percent == Decimal("49.40")
    assert (first.start_date, first.end_date) == (date(2023, 4, 1), date(2026, 3, 31))
    assert first.contractor == "Kalahari Civils (Pty) Ltd"
    assert first.detail_url == "https://ws.dws.gov.za/pmd/project/proj_detail.aspx?enc=RklYVFVSRXAx%2Bq"


def test_grid_values_in_other_spellings_and_blanks_are_normalised(fixture_text: Read) -> None:
    rows = {row.project_number: row for row in parse_project_grid(fixture_text("dws", "project_grid.html"))}

    wegdraai, topline = rows["NC084-WSIG-015"], rows["NC084-MIG-007"]
    assert wegdraai.total_cost == Decimal("9450000.00")
    assert wegdraai.progress_percent == Decimal("12.50")
    assert wegdraai.end_date is None
    assert wegdraai.status == "on_hold"
    assert topline.expenditure is None
    assert topline.start_date is None
    assert rows["NC084-WSIG-014"].start_date == date(2022, 7, 1)
    assert rows["NC084-WSIG-014"].status == "completed"


def test_columns_in_another_order_give_identical_rows(fixture_text: Read) -> None:
    original = parse_project_grid(fixture_text("dws", "project_grid.html"), base_url=BASE_URL)
    reordered = parse_project_grid(fixture_text("dws", "project_grid_reordered.html"), base_url=BASE_URL)

    assert reordered == original


def test_unknown_columns_are_kept_in_the_raw_cells(fixture_text: Read) -> None:
    rows = parse_project_grid(fixture_text("dws", "project_grid.html"))

    assert rows[0].raw["Funding Source"] == "Regional Bulk Infrastructure Grant"
    assert rows[0].raw["Total Project Cost"] == "R 123,456,789.00"


def test_a_changed_layout_names_the_captions_found_and_the_ones_missing(fixture_text: Read) -> None:
    with pytest.raises(SourceFormatError) as raised:
        parse_project_grid(fixture_text("dws", "project_grid_changed_layout.html"))

    message = str(raised.value)
    assert "captions found ['Ref', 'Scheme', 'Municipality'" in message
    assert "missing required columns" in message
    assert "name: one of ['Project Name'" in message
    assert "project_number: one of ['Project Number'" in message


def _grid(headers: list[str], *rows: list[str]) -> str:
    header_cells = "".join(f'<td class="dxgvHeader_Moderno">{caption}</td>' for caption in headers)
    data_rows = "".join(
        '<tr class="dxgvDataRow_Moderno">' + "".join(f'<td class="dxgv">{value}</td>' for value in row) + "</tr>"
        for row in rows
    )
    return (
        '<div class="dxgvControl_Moderno"><table class="dxgvTable_Moderno" id="g_DXMainTable">'
        f'<tr id="g_DXHeadersRow0">{header_cells}</tr>{data_rows}</table></div>'
    )


def test_caption_aliases_and_spelling_variants_map_to_the_same_fields() -> None:
    html = _grid(
        ["PROJECT NO.", "Project", "Status", "Budget", "Spent", "Progress (%)", "End Date"],
        ["X-1", "Kuruman Eye Pipeline", "Stalled", "R500k", "R 1,5m", "30", "2026-06-30"],
    )

    [row] = parse_project_grid(html)
    assert (row.project_number, row.name, row.status) == ("X-1", "Kuruman Eye Pipeline", "on_hold")
    assert (row.total_cost, row.expenditure) == (Decimal("500000.00"), Decimal("1500000.00"))
    assert (row.progress_percent, row.end_date) == (Decimal("30.00"), date(2026, 6, 30))


def test_an_empty_grid_gives_no_rows() -> None:
    assert parse_project_grid(_grid(["Project Name", "Project No"])) == []


def test_a_row_whose_cells_do_not_line_up_with_the_header_is_an_error() -> None:
    html = _grid(["Project Name", "Project No", "Budget"], ["Kuruman Eye Pipeline", "X-1"])

    with pytest.raises(SourceFormatError, match="grid row 0 has 2 cells for 3 columns"):
        parse_project_grid(html)


def test_an_unreadable_value_is_an_error_naming_the_row_and_caption() -> None:
    html = _grid(["Project Name", "Project No", "Budget"], ["Kuruman Eye Pipeline", "X-1", "lots"])

    with pytest.raises(SourceFormatError, match="grid row 0, column 'Budget': not an amount"):
        parse_project_grid(html)


def test_the_pager_text_gives_the_number_of_pages(fixture_text: Read) -> None:
    assert parse_grid_page_count(fixture_text("dws", "project_grid.html")) == 2
    assert parse_grid_page_count(fixture_text("dws", "level_index_real_shell.html")) is None


# Callbacks -------------------------------------------------------------------------------------------------------


def test_a_callback_response_yields_the_grid_html_of_the_next_page(fixture_text: Read) -> None:
    html = parse_callback_envelope(fixture_text("dws", "callback_page2.txt")).html

    rows = parse_project_grid(html, base_url=BASE_URL)
    assert [row.project_number for row in rows] == ["NC084-MIG-008", "NC084-WSIG-016"]
    assert rows[0].name == "Opwag Naudé Street Sewer Pump Station"
    assert rows[0].detail_url == "https://ws.dws.gov.za/pmd/project/proj_detail.aspx?enc=RklYVFVSRXA2%2Bv"
    assert rows[1].status == "completed"


def test_a_callback_with_a_new_event_validation_value_returns_it() -> None:
    response = parse_callback_envelope("5|AbC+/" + "/*DX*/({'id':1,'result':'<p>ok<\\/p>'})")

    assert response.event_validation == "AbC+/"
    assert response.html == "<p>ok</p>"


def test_a_success_prefixed_callback_without_validation_is_read() -> None:
    response = parse_callback_envelope("s/*DX*/({'id':0,'result':'It\\'s \\u00e9\\n','cp':[1,2]})")

    assert response == CallbackResponse(html="It's é\n", event_validation=None)


def test_a_callback_general_error_is_reported_so_the_page_can_be_fetched_again() -> None:
    with pytest.raises(DwsCallbackError, match="Invalid viewstate"):
        parse_callback_envelope("0|/*DX*/({'id':1,'generalError':'Invalid viewstate.'})")


def test_an_error_prefixed_callback_is_reported() -> None:
    with pytest.raises(DwsCallbackError, match="server reported a callback error"):
        parse_callback_envelope("eThe target 'ctl00$Grid' for the callback could not be found")


@pytest.mark.parametrize(
    "body",
    [
        "<html><body>Service Unavailable</body></html>",
        "0|<table></table>",
        "0|/*DX*/({'id':1,'result':'<table>",
        "0|/*DX*/({'id':1})",
        "",
    ],
)
def test_anything_else_is_not_a_callback_response(body: str) -> None:
    with pytest.raises(SourceFormatError):
        parse_callback_envelope(body)


def test_the_grid_page_parameter_counts_lengths_as_devexpress_does() -> None:
    assert build_grid_page_param(1) == "c0:GB|20;12|PAGERONCLICK3|PN1;"
    assert build_grid_page_param(10) == "c0:GB|21;12|PAGERONCLICK4|PN10;"
    assert build_grid_page_param(0, row_keys_state="[]") == "c0:KV|2;[];GB|20;12|PAGERONCLICK3|PN0;"


def test_a_callback_form_echoes_every_hidden_field_and_adds_the_callback(fixture_text: Read) -> None:
    hidden = parse_hidden_fields(fixture_text("dws", "project_grid.html"))

    form = build_callback_form(hidden, GRID_ID, 1)
    assert form["__CALLBACKID"] == GRID_ID
    assert form["__CALLBACKPARAM"] == "c0:GB|20;12|PAGERONCLICK3|PN1;"
    assert form["__VIEWSTATE"] == hidden["__VIEWSTATE"]
    assert form[f"{GRID_ID}$CallbackState"] == "FIXTUREgridCallbackState"
    assert hidden.get("__CALLBACKID") is None


@pytest.mark.parametrize("page_index", [-1, True])
def test_a_negative_or_boolean_page_index_is_refused(page_index: int) -> None:
    with pytest.raises(ValueError, match="0-based page number"):
        build_callback_form({"__VIEWSTATE": "v"}, GRID_ID, page_index)
