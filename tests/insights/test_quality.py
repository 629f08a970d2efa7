"""Data quality per source and per municipality, against figures worked out by hand on a small fixture.

The records are written the way ingestion writes them (project_upsert_from_source), so `last_scraped_at` is the
fetch date a real run leaves. Demo data that fails every rule is in the fixture and must change nothing.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.utils import translation

from insights.quality import measured_at
from insights.quality_rules import RULES
from projects.models import Project, Status
from projects.services import project_upsert_from_source
from tests.factories import municipality

pytestmark = pytest.mark.django_db

NO_FAILURES = {rule.key: 0 for rule in RULES}


@pytest.fixture(autouse=True)
def _insights_cache_in_the_test_database(settings: Any) -> None:
    """The database cache, as a site without Redis has: its rows roll back with each test, so no figure computed
    for one test's data can be served to the next (their data versions may coincide)."""
    settings.CACHES = {**settings.CACHES, "insights": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "insights_cache"}}
    call_command("createcachetable", verbosity=0)  # the test database was made with the settings' backend


def upsert(source: str, external_id: str, *, days_ago: int, **values: Any) -> Project:
    """A fetch of one project `days_ago` whole days before the start of today."""
    fetched_at = measured_at() - dt.timedelta(days=days_ago)
    base = {"name": external_id, "status": Status.IMPLEMENTATION, "municipality": municipality("CPT")}
    with transaction.atomic():
        return project_upsert_from_source(source=source, external_id=external_id, values={**base, **values},
                                          fetched_at=fetched_at).project


def complete(**overrides: Any) -> dict[str, Any]:
    """Every field the completeness rules ask for, consistent."""
    return {"location": Point(18.42, -33.92, srid=4326), "budget_allocated": Decimal("100"),
            "budget_spent": Decimal("50"), "start_date": dt.date(2025, 1, 1), "end_date": dt.date(2026, 12, 31),
            "contractor": "Amanzi Works", "progress_percentage": Decimal("50"), **overrides}


@pytest.fixture
def records() -> dict[str, Project]:
    return {
        # Passes every rule.
        "A": upsert("municipal_money", "A", days_ago=2, **complete()),
        # No location, contractor or status; spent 150 of 100; ends before it starts; last fetched 40 days ago.
        "B": upsert("municipal_money", "B", days_ago=40, **complete(
            location=None, contractor="", status=Status.UNKNOWN, budget_spent=Decimal("150"),
            start_date=dt.date(2025, 6, 1), end_date=dt.date(2025, 1, 1))),
        # eThekwini: no budget, no end date, 100 % done but still "implementation"; last fetched 40 days ago.
        "C": upsert("municipal_money", "C", days_ago=40, **complete(
            municipality=municipality("ETH"), budget_allocated=None, budget_spent=None, end_date=None,
            progress_percentage=Decimal("100"))),
        # Another source, passes every rule.
        "D": upsert("dws", "D", days_ago=2, **complete()),
        # Demo data failing every rule it can: left out of every figure.
        "E": upsert("demo", "E", days_ago=400, status=Status.UNKNOWN, is_demo=True, budget_allocated=Decimal("1"),
                    budget_spent=Decimal("2"), progress_percentage=Decimal("100")),
    }


# Worked out by hand from the fixture. Completeness has 5 checks a record, consistency 3, freshness 1.
# municipal_money (A, B, C): completeness 5 failed of 15 = 66.7 %; consistency 3 of 9 = 66.7 %; freshness 2 of 3
#   failed = 33.3 %; score 40 × 2/3 + 40 × 2/3 + 20 × 1/3 = 60.
# dws (D): everything passes: 100.
# CPT (A, B, D): completeness 3 of 15 failed = 80 %; consistency 2 of 9 = 77.8 %; freshness 1 of 3 = 66.7 %;
#   score 32 + 31.11 + 13.33 = 76.4, so 76.
# ETH (C): completeness 2 of 5 failed = 60 %; consistency 1 of 3 = 66.7 %; freshness 0 %; score 24 + 26.67 = 51.
# All four: completeness 5 of 20 = 75 %; consistency 3 of 12 = 75 %; freshness 2 of 4 = 50 %; score 70.
MUNICIPAL_MONEY_FAILURES = {**NO_FAILURES, "no_location": 1, "no_contractor": 1, "no_status": 1, "no_budget": 1,
                            "no_dates": 1, "spent_above_budget": 1, "end_before_start": 1,
                            "complete_not_completed": 1, "not_confirmed": 2}


def figures(row: dict[str, Any]) -> tuple[Any, ...]:
    return (row["projects"], row["score"], row["completeness"], row["consistency"], row["freshness"])


def test_scores_per_source_match_the_hand_computed_figures(client: Client, records: dict[str, Project]) -> None:
    body = client.get("/api/v1/insights/data-quality/sources").json()
    rows = {row["source"]: row for row in body["rows"]}
    assert set(rows) == {"municipal_money", "dws"}  # no demo row
    assert figures(rows["municipal_money"]) == (3, 60, 66.7, 66.7, 33.3)
    assert rows["municipal_money"]["failures"] == MUNICIPAL_MONEY_FAILURES
    assert (rows["municipal_money"]["days_since_newest_confirmation"],
            rows["municipal_money"]["days_since_oldest_confirmation"]) == (2, 40)
    assert figures(rows["dws"]) == (1, 100, 100.0, 100.0, 100.0)
    assert rows["dws"]["failures"] == NO_FAILURES
    assert figures(body["total"]) == (4, 70, 75.0, 75.0, 50.0)


def test_scores_per_municipality_match_the_hand_computed_figures(client: Client, records: dict[str, Project]) -> None:
    body = client.get("/api/v1/insights/data-quality/municipalities").json()
    rows = {row["municipality_code"]: row for row in body["rows"]}
    assert set(rows) == {"CPT", "ETH"}
    assert figures(rows["CPT"]) == (3, 76, 80.0, 77.8, 66.7)
    assert figures(rows["ETH"]) == (1, 51, 60.0, 66.7, 0.0)
    assert rows["ETH"]["failures"] == {**NO_FAILURES, "no_budget": 1, "no_dates": 1, "complete_not_completed": 1,
                                       "not_confirmed": 1}
    assert (rows["ETH"]["name"], rows["ETH"]["province"]) == ("eThekwini", "KZN")


def test_project_list_filters_narrow_the_scores(client: Client, records: dict[str, Project]) -> None:
    body = client.get("/api/v1/insights/data-quality/sources?municipality_id=ETH").json()
    assert [(row["source"], row["projects"], row["score"]) for row in body["rows"]] == [("municipal_money", 1, 51)]
    by_province = client.get("/api/v1/insights/data-quality/municipalities?province=KZN").json()
    assert [row["municipality_code"] for row in by_province["rows"]] == ["ETH"]


def test_bad_filter_is_a_422_naming_the_field(client: Client) -> None:
    response = client.get("/api/v1/insights/data-quality/sources?province=XX")
    assert response.status_code == 422
    assert [error["field"] for error in response.json()["detail"]] == ["province"]
    assert client.get("/api/v1/insights/data-quality/municipalities.csv?municipality_id=NOPE").status_code == 422


def test_tables_as_csv(client: Client, records: dict[str, Project]) -> None:
    response = client.get("/api/v1/insights/data-quality/sources.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().splitlines()
    assert lines[0].startswith("source,name,projects,score,completeness,consistency,freshness,")
    assert lines[0].endswith(",fails_not_confirmed")
    assert [line.split(",")[0] for line in lines[1:]] == ["dws", "municipal_money", "ALL"]
    mm = next(line for line in lines if line.startswith("municipal_money,"))
    assert ",3,60,66.7,66.7,33.3,2,40,0," in mm
    municipalities = client.get("/api/v1/insights/data-quality/municipalities.csv").content.decode()
    assert municipalities.splitlines()[1].startswith("CPT,City of Cape Town,WC,3,76,")


def test_figures_are_cached_per_data_version(client: Client, records: dict[str, Project],
                                             django_assert_max_num_queries) -> None:
    client.get("/api/v1/insights/data-quality/sources")
    # Cached: the data version and the cache read only, however many records and municipalities.
    with django_assert_max_num_queries(3):
        assert client.get("/api/v1/insights/data-quality/sources").json()["total"]["projects"] == 4
    upsert("dws", "F", days_ago=1, **complete())
    assert client.get("/api/v1/insights/data-quality/sources").json()["total"]["projects"] == 5


def test_public_page_shows_scores_parts_and_weights(client: Client, records: dict[str, Project],
                                                    django_assert_max_num_queries) -> None:
    # Cold cache: the data version, then per table a cache read, one aggregate query and the database cache's
    # write (a count, a look-up and the insert in a savepoint): the same however many records and municipalities.
    with django_assert_max_num_queries(16):
        response = client.get("/insights/data-quality/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "40 points of 100" in html and "20 points of 100" in html  # the weights in words
    assert "confirmed in the last 30 days" in html
    assert "<strong>60</strong>" in html and "<strong>76</strong>" in html and "<strong>70</strong>" in html
    assert "66.7%" in html and "33.3%" in html
    assert '<th scope="row">Not confirmed by the source in the last 30 days</th><td>2</td>' in html
    assert "Records that fail each rule" not in html  # staff only
    assert "/api/v1/insights/data-quality/sources.csv" in html


def test_public_page_answers_a_bad_filter_with_400_beside_the_field(client: Client) -> None:
    response = client.get("/insights/data-quality/?municipality=NOPE")
    assert response.status_code == 400
    assert "No municipality has the code or id NOPE." in response.content.decode()


def test_failing_records_are_for_staff_only(client: Client) -> None:
    anonymous = client.get("/insights/data-quality/records/")
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    user = get_user_model().objects.create_user("resident", password="x")
    client.force_login(user)
    assert client.get("/insights/data-quality/records/").status_code == 302


@pytest.fixture
def staff_client(client: Client) -> Client:
    client.force_login(get_user_model().objects.create_user("moderator", password="x", is_staff=True))
    return client


def test_staff_see_counts_per_rule_and_the_failing_records_with_admin_links(
        staff_client: Client, records: dict[str, Project], django_assert_max_num_queries) -> None:
    overview = staff_client.get("/insights/data-quality/records/").content.decode()
    assert "?rule=not_confirmed" in overview
    with django_assert_max_num_queries(8):
        response = staff_client.get("/insights/data-quality/records/?rule=not_confirmed")
    html = response.content.decode()
    assert "2 records fail this rule." in html
    assert f"/admin/projects/project/{records['B'].pk}/change/" in html
    assert f"/admin/projects/project/{records['C'].pk}/change/" in html
    assert str(records["A"].pk) not in html and str(records["E"].pk) not in html  # passes; demo


def test_staff_reach_each_rows_failing_records_from_the_public_page(staff_client: Client,
                                                                    records: dict[str, Project]) -> None:
    html = staff_client.get("/insights/data-quality/").content.decode()
    assert "/insights/data-quality/records/?source=dws" in html
    assert "/insights/data-quality/records/?municipality=ETH" in html
    assert "Records that fail each rule, with links to correct them" in html


def test_staff_list_narrows_by_source_and_municipality(staff_client: Client, records: dict[str, Project]) -> None:
    html = staff_client.get("/insights/data-quality/records/?rule=not_confirmed&municipality=ETH").content.decode()
    assert "1 record fails this rule." in html and str(records["C"].pk) in html
    html = staff_client.get("/insights/data-quality/records/?rule=no_location&source=dws").content.decode()
    assert "0 records fail this rule." in html


def test_staff_list_names_an_unknown_rule(staff_client: Client) -> None:
    response = staff_client.get("/insights/data-quality/records/?rule=nonsense")
    assert response.status_code == 400
    assert "There is no rule called nonsense." in response.content.decode()


def test_municipality_summary_fragment(records: dict[str, Project]) -> None:
    from django.template import Context, Template

    html = Template("{% load insights_figures %}{% municipality_quality municipality %}").render(
        Context({"municipality": municipality("ETH")}))
    assert 'id="municipality-quality"' in html
    assert "Score 51 out of 100 for its 1 project records." in html
    assert "?municipality=ETH" in html


def test_rule_and_part_names_go_through_translation() -> None:
    from django.utils.functional import Promise

    from insights.quality_rules import PART_LABELS

    assert all(isinstance(rule.label, Promise) for rule in RULES)
    assert all(isinstance(label, Promise) for label in PART_LABELS.values())


def test_source_names_follow_the_language_though_the_figures_are_shared(client: Client,
                                                                         records: dict[str, Project]) -> None:
    from bukaamanzi.lib.sources import source_info

    english = client.get("/api/v1/insights/data-quality/sources").json()
    with translation.override("af"):
        title = str(source_info("dws").title)
    afrikaans = client.get("/api/v1/insights/data-quality/sources", HTTP_ACCEPT_LANGUAGE="af").json()
    assert {row["source"]: row["name"] for row in afrikaans["rows"]}["dws"] == title
    assert [figures(row) for row in afrikaans["rows"]] == [figures(row) for row in english["rows"]]
