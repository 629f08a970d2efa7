import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from django.utils import timezone

from bukaamanzi.lib.geo import SOUTH_AFRICA
from bukaamanzi.lib.status import STATUS_SYMBOLS, Status
from municipalities.models import Municipality
from tests.factories import ProjectFactory, municipality

pytestmark = pytest.mark.django_db


def names(response) -> set[str]:
    page = response.context["page"]
    return {p.name for p in page.object_list}


def test_home_lists_projects_with_status_municipality_and_budget(client) -> None:
    ProjectFactory(name="Khayelitsha bulk pipe", budget_allocated=Decimal("45000000"))
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Khayelitsha bulk pipe" in html
    assert "City of Cape Town" in html
    assert "R\u00a045\u00a0000\u00a0000" in html
    assert 'id="project-map"' in html and "The map needs JavaScript" in html


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"province": "KZN"}, {"Durban sewer"}),
        ({"municipality": "CPT"}, {"Cape pipe", "Cape dam"}),
        ({"status": "completed"}, {"Cape dam"}),
        ({"status": ["completed", "on_hold"]}, {"Cape dam", "Durban sewer"}),
        ({"project_type": "sanitation"}, {"Durban sewer"}),
        ({"flag": "over_budget"}, {"Cape pipe"}),
        ({"q": "dam"}, {"Cape dam"}),
    ],
)
def test_each_filter_narrows_the_list(client, params, expected) -> None:
    ProjectFactory(name="Cape pipe", budget_allocated=Decimal("100"), budget_spent=Decimal("200"))
    ProjectFactory(name="Cape dam", status="completed", project_type="Water storage")
    ProjectFactory(name="Durban sewer", municipality=municipality("ETH"), status="on_hold", project_type="Sanitation")
    response = client.get("/", params)
    assert response.status_code == 200
    assert names(response) == expected


def test_overdue_and_stalled_flags_filter_and_show(client) -> None:
    ProjectFactory(name="Late", end_date=dt.date(2020, 1, 1))
    ProjectFactory(name="Stuck", progress_changed_at=timezone.now() - dt.timedelta(days=400))
    ProjectFactory(name="Fine")
    assert names(client.get("/", {"flag": "overdue"})) == {"Late"}
    response = client.get("/", {"flag": "stalled"})
    assert names(response) == {"Stuck"}
    assert "Stalled" in response.content.decode()


def test_a_bad_filter_is_named_beside_its_field_with_a_400(client) -> None:
    response = client.get("/", {"status": "building"})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="status-error"' in html
    assert "building" in html


def test_htmx_request_gets_only_the_results_fragment(client) -> None:
    ProjectFactory(name="Cape pipe")
    response = client.get("/", {"q": "pipe"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert '<section id="results"' in html
    assert "<html" not in html
    assert "HX-Request" in response["Vary"]


def test_chosen_filters_stay_selected_in_the_form(client) -> None:
    response = client.get("/", {"province": "WC", "status": "completed,on_hold", "flag": "overdue"})
    html = response.content.decode()
    assert '<option value="WC" selected>' in html
    assert 'value="completed" checked' in html and 'value="on_hold" checked' in html
    assert '<option value="overdue" selected>' in html


def test_the_chosen_municipality_is_the_one_selected_option_in_its_province_group(client) -> None:
    html = client.get("/", {"municipality": "cpt"}).content.decode()  # codes are matched in any case
    select = html[html.index('id="id_municipality"'):html.index("</select>", html.index('id="id_municipality"'))]
    assert select.count(" selected") == 1
    western_cape = select[select.index('<optgroup label="Western Cape">'):]
    assert '<option value="CPT" selected>City of Cape Town</option>' in western_cape.split("</optgroup>")[0]
    assert select.count("<optgroup") == 9 and select.count("<option") == 1 + Municipality.objects.current().count()


def test_pagination_keeps_the_filters_in_its_links(client) -> None:
    ProjectFactory.create_batch(25, project_type="Bulk water")
    response = client.get("/", {"project_type": "Bulk water"})
    assert len(response.context["page"].object_list) == 20
    html = response.content.decode()
    assert "project_type=Bulk+water&amp;page=2" in html
    second = client.get("/", {"project_type": "Bulk water", "page": 2})
    assert len(second.context["page"].object_list) == 5


def test_demo_projects_are_labelled_as_demo(client) -> None:
    ProjectFactory(name="Demo: something", is_demo=True, source="demo")
    html = client.get("/").content.decode()
    assert "DEMO" in html and "They are not real projects" in html


def test_home_makes_the_same_number_of_queries_for_many_projects(client, django_assert_max_num_queries) -> None:
    ProjectFactory.create_batch(3)
    with django_assert_max_num_queries(8) as few:
        client.get("/")
    ProjectFactory.create_batch(60, municipality=municipality("ETH"))
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/")


def test_the_map_takes_the_south_africa_box_and_the_status_symbols_from_the_page(client) -> None:
    page = BeautifulSoup(client.get("/").content.decode(), "html.parser")
    element = page.find(id="project-map")
    assert json.loads(element["data-bounds"]) == SOUTH_AFRICA.leaflet_bounds() == [[-35, 16], [-22, 33]]
    assert json.loads(element["data-symbols"]) == STATUS_SYMBOLS and set(STATUS_SYMBOLS) == set(Status.values)
    script = (Path(__file__).resolve().parents[2] / "static" / "js" / "map.js").read_text()
    assert "16.3" not in script and "identification" not in script  # no copy left in the script
