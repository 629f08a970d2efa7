import pytest

from projects.models import Source
from tests.api.conftest import fields, ids
from tests.factories import ProjectFactory, municipality

pytestmark = pytest.mark.django_db


def test_list_filters_by_province_and_category_and_paginates(api):
    body = api.get("/api/v1/municipalities?province=WC&category=A").json()
    assert [m["code"] for m in body["items"]] == ["CPT"]
    everything = api.get("/api/v1/municipalities?limit=100&page=3").json()
    assert everything["count"] == 257 and everything["pages"] == 3 and len(everything["items"]) == 57


@pytest.mark.parametrize(("query", "field"), [("province=ZZ", "province"), ("category=D", "category"),
                                              ("limit=101", "limit")])
def test_bad_list_parameters_are_422(api, query, field):
    response = api.get(f"/api/v1/municipalities?{query}")
    assert response.status_code == 422 and fields(response) == {field}


def test_detail_by_code_or_uuid_has_totals(api):
    cpt = municipality("CPT")
    ProjectFactory(municipality=cpt, status="completed")
    ProjectFactory(municipality=cpt, source=Source.DEMO, is_demo=True)
    by_code = api.get("/api/v1/municipalities/cpt").json()
    assert by_code == api.get(f"/api/v1/municipalities/{cpt.pk}").json()
    assert by_code["projects_by_status"] == {"completed": 1, "implementation": 1}
    assert by_code["demo_project_count"] == 1 and "Demo data" in by_code["attribution"]["note"]
    assert by_code["district_code"] is None and by_code["category"] == "A"


def test_bad_and_unknown_municipality_ids(api):
    bad = api.get("/api/v1/municipalities/not%20a%20code!")
    assert bad.status_code == 422 and fields(bad) == {"municipality_id"}
    missing = api.get("/api/v1/municipalities/ZZZ999")
    assert missing.status_code == 404 and fields(missing) == {"municipality_id"}


def test_projects_of_a_district_include_its_local_municipalities_and_take_filters(api):
    kheis = ProjectFactory(municipality=municipality("NC084"), status="on_hold")
    ProjectFactory(municipality=municipality("NC084"), status="completed")
    ProjectFactory(municipality=municipality("CPT"))
    assert ids(api.get("/api/v1/municipalities/DC8/projects?status=on_hold")) == {str(kheis.pk)}
    assert api.get("/api/v1/municipalities/NC084/projects").json()["count"] == 2
    assert api.get("/api/v1/municipalities/NC084/projects?status=bad").status_code == 422
