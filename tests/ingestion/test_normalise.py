"""The normalisers turn every spelling a source uses into one value, and refuse what they cannot read."""

from datetime import date
from decimal import Decimal

import pytest

from bukaamanzi.lib.status import STATUS_VOCABULARY
from ingestion.normalise import (
    Coordinates,
    NormalisationError,
    clean_coordinates,
    financial_year_end,
    is_in_south_africa,
    normalise_municipality_name,
    normalise_status,
    parse_date,
    parse_financial_year,
    parse_money,
    parse_percentage,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("R 1,234.50", "1234.50"),
        ("R1,234.50", "1234.50"),
        ("R1 234,50", "1234.50"),
        ("R\u00a01\u00a0234,50", "1234.50"),
        ("R61,612,345.67", "61612345.67"),
        ("1.234.567,89", "1234567.89"),
        ("1,234", "1234.00"),
        ("1234,5", "1234.50"),
        ("1234.5", "1234.50"),
        ("3600000.00", "3600000.00"),
        ("ZAR 1 000", "1000.00"),
        ("R0", "0.00"),
        ("-R 1,234.00", "-1234.00"),
        ("R -1,234.00", "-1234.00"),
        ("(1,234.00)", "-1234.00"),
    ],
)
def test_money_text_in_any_south_african_spelling_reads_as_the_same_decimal(raw: str, expected: str) -> None:
    assert parse_money(raw) == Decimal(expected)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("R12.3m", "12300000.00"), ("R 1.2bn", "1200000000.00"), ("R500k", "500000.00"), ("R 2,5 million", "2500000.00")],
)
def test_money_with_a_scale_suffix_is_multiplied_out_exactly(raw: str, expected: str) -> None:
    assert parse_money(raw) == Decimal(expected)


@pytest.mark.parametrize("raw", [None, "", "   ", "N/A", "n/a", "-", "—", "\u00a0"])
def test_explicit_blanks_in_a_money_column_mean_no_value(raw: str | None) -> None:
    assert parse_money(raw) is None


@pytest.mark.parametrize("raw", ["abc", "R", "1,23,4", "12 34", "1e5", "R 1.2.3,4,5", "R1,000 approx"])
def test_garbage_in_a_money_column_raises_with_the_text_in_the_message(raw: str) -> None:
    with pytest.raises(NormalisationError, match="not an amount"):
        parse_money(raw)


def test_numbers_become_decimals_without_float_artefacts() -> None:
    assert parse_money(1234) == Decimal("1234.00")
    assert parse_money(0.1) == Decimal("0.10")
    assert parse_money(1.005) == Decimal("1.01")  # from the text "1.005", not the binary 1.00499999...
    assert parse_money(Decimal("987654321.0")) == Decimal("987654321.00")


def test_amounts_with_many_decimals_are_rounded_half_up_to_cents() -> None:
    assert parse_money("3600000.004999") == Decimal("3600000.00")
    assert parse_money("15999999.995") == Decimal("16000000.00")
    assert parse_money("1850000.1250") == Decimal("1850000.13")


def test_money_results_always_carry_two_decimal_places() -> None:
    amount = parse_money("R500")
    assert amount is not None
    assert amount.as_tuple().exponent == -2


def test_booleans_and_non_finite_numbers_are_not_amounts() -> None:
    for value in (True, float("nan"), float("inf"), Decimal("NaN")):
        with pytest.raises(NormalisationError):
            parse_money(value)


def test_amounts_too_large_for_the_money_column_are_refused() -> None:
    with pytest.raises(NormalisationError, match="too large"):
        parse_money("R 12,345,678,901,234.00")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024/03/31", date(2024, 3, 31)),
        ("2024-03-31", date(2024, 3, 31)),
        ("2024-3-1", date(2024, 3, 1)),
        ("31/03/2024", date(2024, 3, 31)),
        ("31-03-2024", date(2024, 3, 31)),
        ("1/7/2022", date(2022, 7, 1)),
        ("2026/03/31 00:00:00", date(2026, 3, 31)),
        ("2024-03-31T10:15:00", date(2024, 3, 31)),
        ("2024-03-31T23:30:00+02:00", date(2024, 3, 31)),
        ("2024-03-31T10:15:00Z", date(2024, 3, 31)),
        ("31 March 2024", date(2024, 3, 31)),
    ],
)
def test_dates_in_year_first_day_first_and_iso_forms_are_read(raw: str, expected: date) -> None:
    assert parse_date(raw) == expected


@pytest.mark.parametrize("raw", [None, "", "  ", "N/A", "-"])
def test_blank_dates_mean_no_date(raw: str | None) -> None:
    assert parse_date(raw) is None


@pytest.mark.parametrize("raw", ["soon", "2024/13/01", "31/02/2024", "03/31/2024", "2024/03", "Q3 2024"])
def test_unreadable_or_impossible_dates_raise_instead_of_being_guessed(raw: str) -> None:
    with pytest.raises(NormalisationError):
        parse_date(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2019/20", "2019/2020"),
        ("2019/2020", "2019/2020"),
        ("2019-20", "2019/2020"),
        ("FY2019/20", "2019/2020"),
        ("FY 2019/2020", "2019/2020"),
        (2020, "2019/2020"),
        ("2020", "2019/2020"),
        ("1999/00", "1999/2000"),
    ],
)
def test_financial_years_are_written_as_two_full_years(raw: str | int, expected: str) -> None:
    assert parse_financial_year(raw) == expected


@pytest.mark.parametrize("raw", ["", "2019/21", "2019/2021", "20/21", "last year", 1850, True])
def test_financial_years_that_are_not_one_year_long_or_unreadable_raise(raw: str | int) -> None:
    with pytest.raises(NormalisationError):
        parse_financial_year(raw)


def test_financial_year_end_is_the_calendar_year_the_cubes_key_on() -> None:
    assert financial_year_end("2023/24") == 2024


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("45%", "45.00"), ("45.5 %", "45.50"), ("12,5 %", "12.50"), ("0%", "0.00"), ("100", "100.00"), (45, "45.00")],
)
def test_percentages_read_as_points_with_two_decimals(raw: str | int, expected: str) -> None:
    assert parse_percentage(raw) == Decimal(expected)


def test_blank_percentages_mean_no_value() -> None:
    assert parse_percentage("N/A") is None
    assert parse_percentage(None) is None


@pytest.mark.parametrize("raw", ["101%", "-5%", "150", "half", "45%%"])
def test_percentages_outside_zero_to_hundred_or_unreadable_raise(raw: str) -> None:
    with pytest.raises(NormalisationError):
        parse_percentage(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Planning", "preparation"),
        ("Feasibility", "preparation"),
        ("Design", "preparation"),
        ("Tender", "preparation"),
        ("Procurement", "preparation"),
        ("Construction", "implementation"),
        ("In Progress", "implementation"),
        ("under   construction", "implementation"),
        ("Implementation", "implementation"),
        ("Complete", "completed"),
        ("COMPLETED", "completed"),
        ("Practical Completion", "completed"),
        ("Retention", "completed"),
        ("Close-Out", "completed"),
        ("close out", "completed"),
        ("On Hold", "on_hold"),
        ("on_hold", "on_hold"),
        ("Suspended", "on_hold"),
        ("Stalled", "on_hold"),
        ("Cancelled", "cancelled"),
        ("Terminated", "cancelled"),
        ("Identified", "identification"),
        ("Concept", "identification"),
        ("Needs Assessment", "identification"),
    ],
)
def test_source_status_words_map_onto_the_status_vocabulary(raw: str, expected: str) -> None:
    assert normalise_status(raw) == expected


@pytest.mark.parametrize("raw", ["", None, "Awaiting funding", "not completed", "Delayed"])
def test_status_words_that_are_not_listed_become_unknown(raw: str | None) -> None:
    assert normalise_status(raw) == "unknown"


def test_every_normalised_status_is_in_the_vocabulary() -> None:
    for word in ("planning", "construction", "completed", "on hold", "terminated", "concept", "zzz"):
        assert normalise_status(word) in STATUS_VOCABULARY


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Dr Beyers Naudé Local Municipality", "Dr Beyers Naude"),
        ("ǃKheis", "!Kheis Local Municipality"),
        ("City of Cape Town Metropolitan Municipality", "city of cape town"),
        ("Ga - Segonyana", "Ga-Segonyana"),
        ("ZF Mgcawu District Municipality", "ZF  Mgcawu"),
        ("!Kai! Garib", "!Kai !Garib"),
        ("Dr J.S. Moroka", "Dr JS Moroka"),
        ("Emalahleni Local Municipaly", "Emalahleni"),
    ],
)
def test_municipality_names_from_different_sources_normalise_to_the_same_key(first: str, second: str) -> None:
    assert normalise_municipality_name(first) == normalise_municipality_name(second)


def test_municipality_name_key_keeps_the_click_as_an_exclamation_mark() -> None:
    assert normalise_municipality_name("ǃKheis") == "!kheis"


def test_a_name_that_is_only_a_suffix_word_is_kept() -> None:
    assert normalise_municipality_name("Municipality") == "municipality"


def test_points_in_south_africa_are_inside_the_box_and_others_are_not() -> None:
    assert is_in_south_africa(-33.9186, 18.6447)  # Bellville
    assert is_in_south_africa(-22.35, 30.04)  # Musina
    assert not is_in_south_africa(51.5, -0.12)  # London
    assert not is_in_south_africa(21.98, -28.88)  # Groblershoop with latitude and longitude swapped


def test_clean_coordinates_keeps_plausible_points_as_floats() -> None:
    assert clean_coordinates(-29.6337, 30.3421) == Coordinates(latitude=-29.6337, longitude=30.3421)
    assert clean_coordinates("-31.667", "18.502") == Coordinates(latitude=-31.667, longitude=18.502)
    assert clean_coordinates(Decimal("-33.9186"), Decimal("18.6447")) == Coordinates(-33.9186, 18.6447)


@pytest.mark.parametrize(
    ("latitude", "longitude"),
    [
        (0.0, 0.0),
        (0, 0),
        (None, 18.6),
        (-33.9, None),
        ("", ""),
        ("N/A", "N/A"),
        (51.5, -0.12),
        (33.9, 18.6),
        ("x", "y"),
    ],
)
def test_clean_coordinates_drops_missing_zero_unreadable_and_foreign_points(
    latitude: object, longitude: object
) -> None:
    assert clean_coordinates(latitude, longitude) is None
