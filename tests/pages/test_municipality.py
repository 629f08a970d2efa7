from decimal import Decimal

import pytest
from django.utils import timezone

from municipalities.models import CapitalSpend
from tests.factories import ProjectFactory, municipality

pytestmark = pytest.mark.django_db


def test_municipality_page_shows_totals_and_status_breakdown(client) -> None:
    ProjectFactory(budget_allocated=Decimal("1000"), budget_spent=Decimal("400"), status="completed")
    ProjectFactory(budget_allocated=Decimal("3000"), budget_spent=Decimal("100"), status="completed")
    ProjectFactory(status="on_hold", budget_allocated=Decimal("500"), budget_spent=None)
    ProjectFactory(municipality=municipality("ETH"))
    response = client.get("/municipalities/cpt/")
    assert response.status_code == 200
    assert response.context["totals"]["projects"] == 3
    html = response.content.decode()
    assert "R\u00a04\u00a0500" in html and "R\u00a0500" in html
    assert response.context["breakdown"] == [("completed", "Completed", 2), ("on_hold", "On hold", 1)]
    assert 'data-fixed="municipality=CPT"' in html


def test_capital_spending_per_year_shows_with_source_and_date(client) -> None:
    cpt = municipality("CPT")
    fetched = timezone.now()
    CapitalSpend.objects.create(municipality=cpt, financial_year="2022/2023", amount_type="AUDA",
                                amount=Decimal("7000000000"), source="municipal_money", fetched_at=fetched)
    CapitalSpend.objects.create(municipality=cpt, financial_year="2023/2024", amount_type="ORGB",
                                amount=Decimal("9000000000"), source="municipal_money", fetched_at=fetched)
    html = client.get("/municipalities/CPT/").content.decode()
    assert "Audited actual" in html and "Original budget" in html
    assert "R\u00a07\u00a0000\u00a0000\u00a0000" in html
    assert "Source: National Treasury, Municipal Money" in html
    assert f"Fetched on {timezone.localtime(fetched).day}" in html  # the page shows South African time


def test_municipality_projects_filter_by_status_and_answer_htmx(client) -> None:
    ProjectFactory(name="Open one")
    ProjectFactory(name="Done one", status="completed")
    response = client.get("/municipalities/CPT/", {"status": "completed"}, headers={"HX-Request": "true"})
    assert {p.name for p in response.context["page"].object_list} == {"Done one"}
    assert "<html" not in response.content.decode()


def test_district_page_includes_projects_of_its_local_municipalities(client) -> None:
    ProjectFactory(name="Kheis borehole", municipality=municipality("NC084"))
    response = client.get("/municipalities/DC8/")
    assert {p.name for p in response.context["page"].object_list} == {"Kheis borehole"}


def test_municipality_and_province_indexes_list_every_place(client) -> None:
    html = client.get("/municipalities/").content.decode()
    assert "City of Cape Town" in html and "eThekwini" in html and html.count('scope="row"') == 257
    provinces = client.get("/municipalities/provinces/").content.decode()
    assert "KwaZulu-Natal" in provinces and "/municipalities/provinces/WC/" in provinces
    province = client.get("/municipalities/provinces/wc/").content.decode()
    assert "City of Cape Town" in province and "eThekwini" not in province
    assert client.get("/municipalities/provinces/XX/").status_code == 404
    assert client.get("/municipalities/NOPE1/").status_code == 404


def test_municipality_page_queries_are_bounded(client, django_assert_max_num_queries) -> None:
    ProjectFactory.create_batch(2)
    # 12 for the page, 9 for its insights section and 2 for its data-quality summary (the data version, one grouped
    # count) while their figures are not cached yet (tests/insights bounds them warm).
    with django_assert_max_num_queries(23) as few:
        client.get("/municipalities/CPT/")
    ProjectFactory.create_batch(40)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/municipalities/CPT/")


def test_indexes_make_a_fixed_number_of_queries(client, django_assert_max_num_queries) -> None:
    with django_assert_max_num_queries(3):
        client.get("/municipalities/")
    with django_assert_max_num_queries(3):
        client.get("/municipalities/provinces/")
