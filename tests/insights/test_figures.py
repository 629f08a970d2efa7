"""Every figure against the numbers worked out by hand for the fixture in conftest.py."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from insights.figures import (
    capital_figure,
    league_tables,
    municipality_figure,
    province_figure,
    red_flag_figure,
    status_figure,
    type_figure,
)
from projects.filters import ProjectFilterForm

pytestmark = pytest.mark.django_db


def scope(**data: str) -> ProjectFilterForm:
    form = ProjectFilterForm(data)
    assert form.is_valid(), form.errors
    return form


def by(rows: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    return {row[key]: row for row in rows}


def test_projects_by_status_count_real_projects_only(country: dict[str, Any]) -> None:
    figure = status_figure(scope())
    assert figure["total"] == 8
    counts = {row["status"]: (row["count"], row["rate"]) for row in figure["rows"]}
    assert counts == {"identification": (1, 12.5), "preparation": (0, 0.0), "implementation": (5, 62.5),
                      "completed": (1, 12.5), "cancelled": (0, 0.0), "on_hold": (1, 12.5), "unknown": (0, 0.0)}
    assert [source["source"] for source in figure["sources"]] == ["municipal_money"]
    assert figure["sources"][0]["fetched_at"].date().isoformat() == "2026-11-30"


def test_a_province_and_a_district_include_the_districts_locals(country: dict[str, Any]) -> None:
    for form in (scope(province="EC"), scope(municipality="DC10")):
        figure = status_figure(form)
        assert figure["total"] == 6
        assert by(figure["rows"], "status")["implementation"]["count"] == 3
    assert status_figure(scope(municipality="EC101"))["total"] == 5


def test_projects_by_type_most_common_first(country: dict[str, Any]) -> None:
    rows = type_figure(scope())["rows"]
    assert [(row["project_type"], row["count"], row["rate"]) for row in rows] == [
        ("Water supply", 7, 87.5), ("Sanitation", 1, 12.5)]


def test_red_flags_reuse_the_project_lists_rules(country: dict[str, Any]) -> None:
    national = {row["flag"]: (row["count"], row["rate"]) for row in red_flag_figure(scope())["rows"]}
    assert national == {"over_budget": (1, 12.5), "overdue": (3, 37.5), "stalled": (1, 12.5)}
    eastern = {row["flag"]: (row["count"], row["rate"]) for row in red_flag_figure(scope(province="EC"))["rows"]}
    assert eastern == {"over_budget": (1, 16.7), "overdue": (1, 16.7), "stalled": (1, 16.7)}


def test_capital_budget_against_audited_spending_per_year(country: dict[str, Any]) -> None:
    rows = capital_figure(scope())["rows"]
    assert [row["financial_year"] for row in rows] == ["2022/2023", "2023/2024"]
    earlier, latest = rows
    assert earlier == {"financial_year": "2022/2023", "original_budget": None, "adjusted_budget": None,
                       "budget": None, "actual": Decimal("4000"), "spent_rate": None, "municipalities": 1}
    # Budget: DC10's original 1000 + EC101's adjusted 600 (not its original) + CPT's original 10000.
    assert latest["budget"] == Decimal("11600")
    assert latest["original_budget"] == Decimal("11500") and latest["adjusted_budget"] == Decimal("600")
    assert latest["actual"] == Decimal("6100") and latest["municipalities"] == 3
    assert latest["spent_rate"] == 52.6  # 6100 / 11600


def test_capital_of_a_province_a_district_and_a_local(country: dict[str, Any]) -> None:
    eastern = capital_figure(scope(province="EC"))["rows"]
    assert [(r["financial_year"], r["budget"], r["actual"], r["spent_rate"]) for r in eastern] == [
        ("2023/2024", Decimal("1600"), Decimal("1100"), 68.8)]
    assert capital_figure(scope(municipality="DC10"))["rows"] == eastern
    local = capital_figure(scope(municipality="EC101"))
    assert [(r["budget"], r["actual"], r["spent_rate"]) for r in local["rows"]] == [
        (Decimal("600"), Decimal("300"), 50.0)]
    assert local["sources"][0]["credit"] and local["sources"][0]["fetched_at"].date().isoformat() == "2026-11-30"


def test_municipalities_compared_with_districts_including_their_locals(country: dict[str, Any]) -> None:
    figure = municipality_figure(scope())
    rows = by(figure["rows"], "code")
    assert len(rows) == 257
    expected = {
        "EC101": (5, 1, 20.0, Decimal("400"), Decimal("350"), 87.5, 1, True),
        "DC10": (6, 1, 16.7, Decimal("500"), Decimal("400"), 80.0, 1, True),
        "CPT": (2, 2, 100.0, Decimal("2000"), Decimal("200"), 10.0, 1, False),
        "EC102": (0, 0, None, Decimal("0"), Decimal("0"), None, 0, False),  # its one project is demo data
    }
    for code, values in expected.items():
        row = rows[code]
        assert (row["projects"], row["overdue"], row["overdue_rate"], row["allocated"], row["spent"],
                row["spent_rate"], row["waiting"], row["ranked"]) == values, code


def test_league_tables_rank_only_municipalities_with_five_projects(country: dict[str, Any]) -> None:
    leagues = league_tables(municipality_figure(scope()))
    assert [row["code"] for row in leagues["overdue"]] == ["EC101", "DC10"]  # CPT's 100% rests on 2 projects
    assert [row["code"] for row in leagues["spending"]] == ["EC101", "DC10"]
    assert [row["code"] for row in leagues["waiting"]] == ["EC101", "DC10"]  # a tie, by name


def test_provinces_count_every_project_once(country: dict[str, Any]) -> None:
    rows = by(province_figure(scope())["rows"], "province")
    assert len(rows) == 9
    assert (rows["EC"]["projects"], rows["EC"]["overdue"], rows["EC"]["spent_rate"], rows["EC"]["waiting"]) == (
        6, 1, 80.0, 1)
    assert (rows["WC"]["projects"], rows["WC"]["overdue_rate"], rows["WC"]["spent_rate"], rows["WC"]["waiting"]) == (
        2, 100.0, 10.0, 1)
    assert rows["GT"]["projects"] == 0 and rows["GT"]["overdue_rate"] is None
    assert list(by(province_figure(scope(province="WC"))["rows"], "province")) == ["WC"]


def test_api_filters_narrow_the_figures(country: dict[str, Any]) -> None:
    assert status_figure(scope(flag="overdue"))["total"] == 3
    assert type_figure(scope(project_type="sanitation"))["rows"] == [
        {"project_type": "Sanitation", "count": 1, "rate": 100.0}]


def test_a_province_or_district_takes_its_rows_from_the_countrys(country: dict[str, Any]) -> None:
    district = by(municipality_figure(scope(municipality="DC10"))["rows"], "code")
    assert set(district) == {"DC10", "EC101", "EC102", "EC104", "EC105", "EC106", "EC108", "EC109"}
    assert (district["DC10"]["projects"], district["EC101"]["projects"], district["EC102"]["projects"]) == (6, 5, 0)
    eastern = by(province_figure(scope(province="EC"))["rows"], "province")
    assert (eastern["EC"]["projects"], eastern["EC"]["overdue"], eastern["EC"]["waiting"]) == (6, 1, 1)
