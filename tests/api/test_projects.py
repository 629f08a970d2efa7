import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone

from changelog.models import ChangeSource, ChangeType, EntityType
from changelog.services import change_log_record
from projects.models import Budget, Source, Status
from tests.api.conftest import fields, ids
from tests.factories import ContributorFactory, ProjectFactory, ReportFactory, municipality

pytestmark = pytest.mark.django_db


def test_list_uses_the_pagination_envelope_and_names_the_sources(api):
    ProjectFactory.create_batch(3)
    body = api.get("/api/v1/projects").json()
    assert (body["count"], body["page"], body["limit"], body["pages"], len(body["items"])) == (3, 1, 20, 1, 3)
    assert body["attribution"]["sources"][0]["credit"] == "National Treasury, Municipal Money"
    item = body["items"][0]
    assert item["budget_allocated"] == "1000000.00"
    assert item["location"] == {"lng": pytest.approx(18.4241), "lat": pytest.approx(-33.9249)}
    assert item["municipality"]["code"] == "CPT"


def test_limit_splits_pages_and_a_page_past_the_end_is_empty(api):
    ProjectFactory.create_batch(5)
    body = api.get("/api/v1/projects?limit=2&page=3").json()
    assert (body["count"], body["pages"], len(body["items"])) == (5, 3, 1)
    past = api.get("/api/v1/projects?limit=2&page=4")
    assert past.status_code == 200
    assert past.json()["items"] == [] and past.json()["count"] == 5
    assert api.get(f"/api/v1/projects?page={2**53 - 1}").json()["items"] == []
    too_far = api.get("/api/v1/projects?page=99999999999999999999")
    assert too_far.status_code == 422 and fields(too_far) == {"page"}


@pytest.mark.parametrize(
    ("query", "field", "words"),
    [
        ("limit=0", "limit", "between 1 and 100"),
        ("limit=101", "limit", "between 1 and 100"),
        ("page=0", "page", "between 1 and"),
        ("page=abc", "page", "integer"),
        ("bbox=1,2,3", "bbox", "4 numbers"),
        ("bbox=a,b,c,d", "bbox", "only numbers"),
        ("bbox=19,-33,18,-34", "bbox", "min below max"),
        ("bbox=18,-95,19,-33", "bbox", "Latitude"),
        ("bbox=-181,-34,19,-33", "bbox", "Longitude"),
        ("center=18,-33", "center", "3 numbers"),
        ("center=18,-33,501", "center", "at most 500 km"),
        ("center=200,-33,5", "center", "Longitude"),
        ("status=building", "status", "building"),
        ("flag=haunted", "flag", "haunted"),
        ("municipality_id=XYZ999", "municipality_id", "XYZ999"),
        ("province=XX", "province", "XX"),
    ],
)
def test_bad_filters_get_422_naming_the_field_and_reason(api, query, field, words):
    response = api.get(f"/api/v1/projects?{query}")
    assert response.status_code == 422
    assert fields(response) == {field}
    assert words in response.json()["detail"][0]["message"]


def test_each_filter_narrows_the_list(api):
    cpt = ProjectFactory(name="Pipeline in Cape Town", status=Status.COMPLETED, project_type="Bulk water")
    kheis = ProjectFactory(name="Borehole", municipality=municipality("NC084"), status=Status.ON_HOLD,
                           contractor="Aqua Builders")
    overspent = ProjectFactory(name="Overspent", budget_spent=Decimal("2000000"), municipality=municipality("ETH"))
    assert ids(api.get("/api/v1/projects?q=pipeline")) == {str(cpt.pk)}
    assert ids(api.get("/api/v1/projects?q=aqua")) == {str(kheis.pk)}
    assert ids(api.get("/api/v1/projects?province=NC")) == {str(kheis.pk)}
    assert ids(api.get("/api/v1/projects?municipality_id=DC8")) == {str(kheis.pk)}
    assert ids(api.get(f"/api/v1/projects?municipality_id={municipality('ETH').pk}")) == {str(overspent.pk)}
    assert ids(api.get("/api/v1/projects?status=completed&status=on_hold")) == {str(cpt.pk), str(kheis.pk)}
    assert ids(api.get("/api/v1/projects?status=completed,on_hold")) == {str(cpt.pk), str(kheis.pk)}
    assert ids(api.get("/api/v1/projects?project_type=bulk%20water")) == {str(cpt.pk)}
    assert ids(api.get("/api/v1/projects?flag=over_budget")) == {str(overspent.pk)}


def test_overdue_and_stalled_flags_find_their_projects(api):
    overdue = ProjectFactory(end_date=dt.date(2020, 1, 1))
    stalled = ProjectFactory(progress_changed_at=timezone.now() - dt.timedelta(days=400))
    ProjectFactory(end_date=dt.date(2020, 1, 1), status=Status.COMPLETED)
    assert ids(api.get("/api/v1/projects?flag=overdue")) == {str(overdue.pk)}
    assert ids(api.get("/api/v1/projects?flag=stalled")) == {str(stalled.pk)}
    assert api.get(f"/api/v1/projects/{overdue.pk}").json()["red_flags"] == ["overdue"]


def test_detail_has_budgets_per_year_and_phase_flags_attribution_and_history(api):
    fetched = timezone.now() - dt.timedelta(days=2)
    project = ProjectFactory(budget_spent=Decimal("1500000.00"), last_scraped_at=fetched)
    Budget.objects.create(project=project, financial_year="2023/2024", budget_type="Audited Outcome",
                          amount=Decimal("1500000.00"), source="municipal_money")
    Budget.objects.create(project=project, financial_year="2024/2025", budget_type="Original Budget",
                          amount=Decimal("1000000.00"), source="municipal_money")
    change_log_record(entity_type=EntityType.PROJECT, entity_id=project.pk, change_type=ChangeType.UPDATED,
                      source=ChangeSource.ETL_PIPELINE, old_values={"status": "preparation"},
                      new_values={"status": "implementation"}, project=project)
    body = api.get(f"/api/v1/projects/{project.pk}").json()
    assert [year["financial_year"] for year in body["budgets"]] == ["2023/2024", "2024/2025"]
    assert body["budgets"][0]["phases"][0] == {"budget_type": "Audited Outcome", "amount": "1500000.00",
                                               "currency": "ZAR", "quarter": None, "source": "municipal_money"}
    assert body["red_flags"] == ["over_budget"]
    assert body["attribution"]["credit"] == "National Treasury, Municipal Money"
    assert body["attribution"]["fetched_at"] == fetched.isoformat()
    assert body["history"][0]["field_changes"] == ["status"]
    assert body["history"][0]["new_values"] == {"status": "implementation"}


def test_detail_lists_published_reports_without_contributor_emails(api):
    project = ProjectFactory()
    contributor = ContributorFactory(email="secret@example.org")
    ReportFactory(project=project, contributor=contributor, contributor_name="Thandi")
    ReportFactory(project=project, status="spam", title="Buy now")
    response = api.get(f"/api/v1/projects/{project.pk}")
    assert response.json()["reports_count"] == 1
    assert [r["title"] for r in response.json()["reports"]] == ["Pipes laid on Main Road"]
    assert b"secret@example.org" not in response.content


def test_demo_projects_are_labelled_as_demo_everywhere(api):
    demo = ProjectFactory(source=Source.DEMO, is_demo=True)
    listing = api.get("/api/v1/projects").json()
    assert listing["items"][0]["is_demo"] is True
    assert "Demo data" in listing["attribution"]["note"]
    detail = api.get(f"/api/v1/projects/{demo.pk}").json()
    assert detail["is_demo"] is True and detail["attribution"]["is_demo"] is True


def test_an_id_that_is_not_a_uuid_is_422_and_an_unknown_one_404(api):
    response = api.get("/api/v1/projects/not-a-uuid")
    assert response.status_code == 422 and fields(response) == {"project_id"}
    missing = api.get("/api/v1/projects/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404 and fields(missing) == {"project_id"}


def test_unchanged_list_and_detail_answer_304_to_their_etag(api):
    project = ProjectFactory()
    for url in ("/api/v1/projects", f"/api/v1/projects/{project.pk}"):
        first = api.get(url)
        assert first["ETag"] and "max-age=60" in first["Cache-Control"]
        again = api.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
        assert again.status_code == 304 and again.content == b""
    project.name = "Renamed"
    project.save()
    assert api.get(f"/api/v1/projects/{project.pk}", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200


def test_projects_without_location_are_listed_with_null_location(api):
    ProjectFactory(location=None)
    assert api.get("/api/v1/projects").json()["items"][0]["location"] is None


def test_point_filters_leave_out_projects_elsewhere(api):
    near = ProjectFactory(location=Point(18.50, -33.95, srid=4326))
    ProjectFactory(location=Point(31.02, -29.85, srid=4326))
    assert ids(api.get("/api/v1/projects?center=18.42,-33.92,20")) == {str(near.pk)}
