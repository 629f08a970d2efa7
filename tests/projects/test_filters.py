import re

import pytest
from django.contrib.gis.geos import Point
from django.db import connection

from municipalities.models import Municipality
from projects.filters import ProjectFilterForm
from projects.models import Project
from tests.factories import ProjectFactory, municipality

pytestmark = pytest.mark.django_db


def filtered(**params: str) -> set[str]:
    form = ProjectFilterForm(params)
    assert form.is_valid(), form.errors
    return set(form.apply(Project.objects.all()).values_list("name", flat=True))


def test_bbox_returns_exactly_the_projects_inside() -> None:
    ProjectFactory(name="Cape Town", location=Point(18.42, -33.92, srid=4326))
    ProjectFactory(name="Durban", location=Point(31.02, -29.85, srid=4326))
    ProjectFactory(name="Nowhere", location=None)
    assert filtered(bbox="18,-34.5,19,-33") == {"Cape Town"}


def test_center_and_radius_find_nearby_projects_only() -> None:
    ProjectFactory(name="Near", location=Point(18.50, -33.95, srid=4326))  # about 8 km from the centre
    ProjectFactory(name="Far", location=Point(19.50, -33.95, srid=4326))  # about 100 km away
    assert filtered(center="18.42,-33.92,20") == {"Near"}


def test_district_filter_includes_its_local_municipalities() -> None:
    ProjectFactory(name="Kheis", municipality=municipality("NC084"))
    ProjectFactory(name="Cape", municipality=municipality("CPT"))
    assert filtered(municipality="DC8") == {"Kheis"}
    assert filtered(municipality="nc084") == {"Kheis"}


def test_a_districts_projects_are_found_through_the_municipality_index() -> None:
    """`municipality = d OR municipality.district = d` made both databases read every project (a district's page
    took 250 ms on 50,000 SpatiaLite projects); the district and its locals' ids go through the index instead."""
    # Enough projects in every municipality, and fresh statistics, that PostgreSQL's planner weighs a real choice.
    places = list(Municipality.objects.all())
    Project.objects.bulk_create(ProjectFactory.build(municipality=places[n % len(places)]) for n in range(3000))
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE projects_project; ANALYZE municipalities_municipality")
    queryset = Project.objects.in_municipality(municipality("DC8")).order_by()
    if connection.vendor == "sqlite":
        plan = queryset.explain()
        assert re.search(r"SEARCH projects_project USING INDEX \w+ \(municipality_id=\?\)", plan), plan
        assert "SCAN projects_project" not in plan, plan
    else:
        with connection.cursor() as cursor:
            cursor.execute("SET enable_seqscan = off")
            plan = queryset.explain()
            cursor.execute("RESET enable_seqscan")
        assert re.search(r"Index Cond: \(municipality_id = ", plan), plan


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"bbox": "1,2,3"}, "bbox"),
        ({"bbox": "a,b,c,d"}, "bbox"),
        ({"bbox": "19,-33,18,-34"}, "bbox"),
        ({"bbox": "18,-95,19,-33"}, "bbox"),
        ({"center": "18,-33,501"}, "center"),
        ({"center": "200,-33,5"}, "center"),
        ({"status": "building"}, "status"),
        ({"flag": "haunted"}, "flag"),
        ({"municipality": "XYZ999"}, "municipality"),
    ],
)
def test_bad_filters_are_reported_on_their_field(params: dict[str, str], field: str) -> None:
    form = ProjectFilterForm(params)
    assert not form.is_valid()
    assert field in form.errors_by_field()


def test_status_accepts_repeated_and_comma_separated_values() -> None:
    ProjectFactory(name="A", status="completed")
    ProjectFactory(name="B", status="on_hold")
    ProjectFactory(name="C", status="preparation")
    assert filtered(status="completed,on_hold") == {"A", "B"}
