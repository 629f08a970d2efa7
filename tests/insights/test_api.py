"""/api/v1/insights: the same figures as the pages, the project list's filters, documented in OpenAPI."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.django_db


def test_every_figure_has_an_endpoint_in_the_openapi_document(client: Any) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for name in ("status", "types", "red-flags", "capital", "municipalities", "provinces", "leagues"):
        operation = paths[f"/api/v1/insights/{name}"]["get"]
        assert "province" in {parameter["name"] for parameter in operation["parameters"]}
        assert "422" in operation["responses"]


def test_status_and_flags_with_filters_and_words(client: Any, country: dict) -> None:
    body = client.get("/api/v1/insights/status?province=EC").json()
    assert body["total"] == 6
    assert {row["status"]: (row["count"], row["label"]) for row in body["rows"]}["implementation"] == (
        3, "Implementation")
    flags = client.get("/api/v1/insights/red-flags?municipality_id=CPT").json()
    assert [(row["flag"], row["count"]) for row in flags["rows"]] == [
        ("over_budget", 0), ("overdue", 2), ("stalled", 0)]
    assert flags["sources"][0]["credit"] and flags["sources"][0]["fetched_at"].startswith("2026-11-30")


def test_capital_municipalities_provinces_and_leagues(client: Any, country: dict) -> None:
    capital = client.get("/api/v1/insights/capital?municipality_id=DC10").json()["rows"]
    assert capital == [{"financial_year": "2023/2024", "original_budget": "1500.00", "adjusted_budget": "600.00",
                        "budget": "1600.00", "actual": "1100.00", "spent_rate": 68.8, "municipalities": 2}]
    rows = {row["code"]: row for row in client.get("/api/v1/insights/municipalities?province=EC").json()["rows"]}
    assert rows["DC10"]["projects"] == 6 and "CPT" not in rows
    provinces = {row["province"]: row for row in client.get("/api/v1/insights/provinces").json()["rows"]}
    assert provinces["WC"]["label"] == "Western Cape" and provinces["WC"]["overdue_rate"] == 100.0
    leagues = client.get("/api/v1/insights/leagues").json()
    assert leagues["min_projects"] == 5 and [row["code"] for row in leagues["overdue"]] == ["EC101", "DC10"]


def test_bad_filters_are_422_naming_the_field(client: Any, country: dict) -> None:
    response = client.get("/api/v1/insights/types?province=XX&bbox=1,2")
    assert response.status_code == 422
    fields = {error["field"] for error in response.json()["detail"]}
    assert fields == {"province", "bbox"}
