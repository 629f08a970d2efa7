"""Municipal Money responses become records without inventing, dropping or float-rounding anything."""

from collections.abc import Callable
from decimal import Decimal

import pytest

from ingestion.sources.errors import SourceFormatError
from ingestion.sources.municipal_money import (
    DEFAULT_WATER_KEYWORDS,
    CapitalSpendRecord,
    ExpenditureRecord,
    ProjectRecord,
    build_capital_cut,
    load_json,
    parse_capital_aggregate,
    parse_geography,
    parse_projects_page,
)

Read = Callable[[str, str], str]


def _page(read: Read, name: str) -> list[ProjectRecord]:
    return parse_projects_page(load_json(read("municipal_money", name))).results


def _project(read: Read, api_id: int) -> ProjectRecord:
    projects = _page(read, "projects_page1.json") + _page(read, "projects_page2.json")
    return next(project for project in projects if project.api_id == api_id)


# Municipalities --------------------------------------------------------------------------------------------------


def test_geography_rows_become_municipality_records_with_codes_and_flags(fixture_text: Read) -> None:
    municipalities = parse_geography(load_json(fixture_text("municipal_money", "geography.json")))

    by_code = {municipality.geo_code: municipality for municipality in municipalities}
    assert len(municipalities) == 9
    assert by_code["NC084"].name == "!Kheis"
    assert by_code["NC084"].parent_code == "DC8"
    assert by_code["CPT"].category == "A"
    assert by_code["CPT"].population == 3740026
    assert by_code["CPT"].square_kms == Decimal("2446.43")
    assert by_code["DC8"].geo_level == "district"


def test_disestablished_municipalities_are_flagged_not_dropped(fixture_text: Read) -> None:
    municipalities = parse_geography(load_json(fixture_text("municipal_money", "geography.json")))

    current = [municipality.geo_code for municipality in municipalities if not municipality.is_disestablished]
    assert "EC103" not in current
    assert [m.geo_code for m in municipalities if m.is_disestablished] == ["EC103"]


def test_nulls_in_optional_geography_fields_become_blank_or_none(fixture_text: Read) -> None:
    ikwezi = next(
        m
        for m in parse_geography(load_json(fixture_text("municipal_money", "geography.json")))
        if m.geo_code == "EC103"
    )
    assert ikwezi.population is None
    assert ikwezi.url == ""


def test_a_geography_row_without_a_code_is_an_error_naming_the_key() -> None:
    with pytest.raises(SourceFormatError, match="geography row 0: missing key 'geo_code'"):
        parse_geography([{"name": "City of Cape Town", "is_disestablished": False}])


def test_a_geography_payload_that_is_not_a_list_is_an_error() -> None:
    with pytest.raises(SourceFormatError, match="expected a JSON array"):
        parse_geography({"detail": "Not found."})


# Projects --------------------------------------------------------------------------------------------------------


def test_a_projects_page_gives_its_rows_count_and_absolute_next_url(fixture_text: Read) -> None:
    page = parse_projects_page(load_json(fixture_text("municipal_money", "projects_page1.json")))

    assert page.count == 8
    assert [project.api_id for project in page.results] == [101, 102, 103, 104, 105]
    assert page.next_url == "https://municipalmoney.gov.za/api/v1/infrastructure/projects/?limit=5&offset=5"


def test_the_last_projects_page_has_no_next_url(fixture_text: Read) -> None:
    page = parse_projects_page(load_json(fixture_text("municipal_money", "projects_page2.json")))

    assert page.next_url is None
    assert len(page.results) == 3


def test_project_fields_are_taken_from_the_source_names(fixture_text: Read) -> None:
    project = _project(fixture_text, 101)

    assert project.municipality_code == "CPT"
    assert project.municipality_name == "City of Cape Town"
    assert project.project_number == "PC001002004006_00008"
    assert project.function == "Water Distribution"
    assert project.description == "Bulk Water Main Replacement - Bellville South"
    assert project.project_type == "Renewal"
    assert project.asset_class == "Water Supply Infrastructure"
    assert project.asset_subclass == "Distribution"
    assert project.ward_location == "Ward 9"
    assert project.latest_implementation_year == "2023/2024"
    assert project.raw["id"] == 101


def test_the_natural_key_is_municipality_number_function_and_description(fixture_text: Read) -> None:
    project = _project(fixture_text, 101)

    assert project.natural_key == (
        "CPT",
        "PC001002004006_00008",
        "Water Distribution",
        "Bulk Water Main Replacement - Bellville South",
    )


def test_expenditures_are_decimals_per_budget_phase_and_financial_year(fixture_text: Read) -> None:
    project = _project(fixture_text, 101)

    assert project.expenditures[:3] == (
        ExpenditureRecord("Audited Outcome", "2021/2022", Decimal("4200000.00")),
        ExpenditureRecord("Full Year Forecast", "2022/2023", Decimal("5100000.00")),
        ExpenditureRecord("Budget year", "2023/2024", Decimal("3600000.00")),
    )
    assert all(isinstance(expenditure.amount, Decimal) for expenditure in project.expenditures)


def test_odd_amounts_and_short_financial_years_are_normalised(fixture_text: Read) -> None:
    kheis = _project(fixture_text, 104)
    matzikama = _project(fixture_text, 108)

    assert kheis.expenditures == (
        ExpenditureRecord("Budget year", "2023/2024", Decimal("1850000.13")),
        ExpenditureRecord("Budget year", "2024/2025", Decimal("950000.50")),
    )
    assert matzikama.expenditures[0].amount == Decimal("16000000.00")


def test_coordinates_in_south_africa_are_kept(fixture_text: Read) -> None:
    project = _project(fixture_text, 106)

    assert (project.latitude, project.longitude) == (-29.6337, 30.3421)


@pytest.mark.parametrize("api_id", [102, 104, 105], ids=["zero-zero", "swapped-outside-sa", "null"])
def test_zero_foreign_and_missing_coordinates_are_stored_as_none(fixture_text: Read, api_id: int) -> None:
    project = _project(fixture_text, api_id)

    assert project.latitude is None
    assert project.longitude is None


def test_null_text_fields_become_blank_strings(fixture_text: Read) -> None:
    project = _project(fixture_text, 108)

    assert project.asset_class == ""
    assert project.mtsf_service_outcome == ""


def test_water_and_sanitation_projects_are_found_by_function_or_asset_class(fixture_text: Read) -> None:
    projects = _page(fixture_text, "projects_page1.json") + _page(fixture_text, "projects_page2.json")

    water = [project.api_id for project in projects if project.is_water_related()]
    assert water == [101, 102, 104, 106, 108]


def test_the_water_rule_can_be_narrowed_to_other_keywords(fixture_text: Read) -> None:
    sewer_project = _project(fixture_text, 106)
    water_project = _project(fixture_text, 101)

    assert sewer_project.is_water_related({"sanitation"})
    assert not water_project.is_water_related({"sanitation"})
    assert "sewerage" in DEFAULT_WATER_KEYWORDS


def test_the_search_endpoint_shape_with_nested_projects_is_accepted(fixture_text: Read) -> None:
    listing = load_json(fixture_text("municipal_money", "projects_page2.json"))
    assert isinstance(listing, dict)
    search = {**listing, "results": {"projects": listing["results"], "facets": {}}}

    assert [project.api_id for project in parse_projects_page(search).results] == [106, 107, 108]


def test_a_projects_payload_without_results_is_an_error_naming_the_key() -> None:
    with pytest.raises(SourceFormatError, match="missing key 'results'"):
        parse_projects_page({"count": 0, "next": None, "previous": None})


def test_a_project_without_geography_is_an_error_naming_the_project() -> None:
    payload = {"count": 1, "next": None, "results": [{"id": 7, "expenditure": []}]}

    with pytest.raises(SourceFormatError, match="project id=7: missing key 'geography'"):
        parse_projects_page(payload)


def test_an_unreadable_expenditure_amount_is_an_error_not_a_zero() -> None:
    payload = {
        "count": 1,
        "next": None,
        "results": [
            {
                "id": 9,
                "geography": {"geo_code": "WC011"},
                "expenditure": [
                    {
                        "amount": "lots",
                        "budget_phase": {"name": "Budget year"},
                        "financial_year": {"budget_year": "2023/2024"},
                    }
                ],
            }
        ],
    }

    with pytest.raises(SourceFormatError, match="project id=9 expenditure 0: not an amount"):
        parse_projects_page(payload)


def test_truncated_json_raises_a_source_format_error() -> None:
    with pytest.raises(SourceFormatError, match="truncated or invalid JSON"):
        load_json('{"count": 8, "next": null, "results": [{"id": 101, "expend')


def test_a_json_scalar_is_not_a_payload() -> None:
    with pytest.raises(SourceFormatError, match="expected a JSON object or array"):
        load_json('"maintenance"')


def test_json_fractions_are_decoded_as_decimals_never_floats() -> None:
    payload = load_json('{"amount": 0.1}')

    assert payload == {"amount": Decimal("0.1")}


# Capital spend cube ----------------------------------------------------------------------------------------------


def test_capital_aggregate_cells_become_spend_records_with_the_cut_amount_type(fixture_text: Read) -> None:
    records = parse_capital_aggregate(load_json(fixture_text("municipal_money", "capital_v2_aggregate.json")))

    assert records[:4] == [
        CapitalSpendRecord("BUF", "2022/2023", "AUDA", Decimal("1023456789.00")),
        CapitalSpendRecord("BUF", "2021/2022", "AUDA", Decimal("987654321.00")),
        CapitalSpendRecord("CPT", "2022/2023", "AUDA", Decimal("9876543210.00")),
        CapitalSpendRecord("CPT", "2021/2022", "AUDA", Decimal("8123456789.50")),
    ]


def test_a_null_capital_sum_stays_unknown_rather_than_zero(fixture_text: Read) -> None:
    records = parse_capital_aggregate(load_json(fixture_text("municipal_money", "capital_v2_aggregate.json")))

    assert records[-1] == CapitalSpendRecord("NC084", "2022/2023", "AUDA", None)


def test_an_aggregate_summed_across_amount_types_is_refused() -> None:
    payload = {
        "cells": [{"demarcation.code": "CPT", "financial_year_end.year": 2023, "amount.sum": 1}],
        "cell": [{"ref": "amount_type.code", "operator": ":", "value": ["AUDA", "ADJB"]}],
    }

    with pytest.raises(SourceFormatError, match="summing across them is meaningless"):
        parse_capital_aggregate(payload)


def test_an_api_error_envelope_is_reported_with_its_message() -> None:
    payload = {"status": "error", "message": "canceling statement due to statement timeout"}

    with pytest.raises(SourceFormatError, match="statement timeout"):
        parse_capital_aggregate(payload)


def test_the_capital_cut_quotes_strings_and_filters_new_renewal_upgrading() -> None:
    cut = build_capital_cut("NC084", "2023/2024", "AUDA")

    assert cut == (
        'capital_type.code:"NEW";"RENEWAL";"UPGRADING"|amount_type.code:"AUDA"|period_length.length:"year"'
        '|financial_year_end.year:2024|demarcation.code:"NC084"'
    )


def test_the_capital_cut_batches_municipalities_and_takes_a_year_end() -> None:
    cut = build_capital_cut(["CPT", "BUF"], 2023, "ADJB")

    assert cut.endswith('financial_year_end.year:2023|demarcation.code:"CPT";"BUF"')
    assert 'amount_type.code:"ADJB"' in cut


@pytest.mark.parametrize("code", ['CPT"|x', "cpt", "", "EC 101"])
def test_the_capital_cut_refuses_codes_that_could_break_its_grammar(code: str) -> None:
    with pytest.raises(ValueError, match="not a cube code"):
        build_capital_cut(code, 2024, "AUDA")
