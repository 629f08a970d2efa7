import pytest
from django.test import Client
from django.urls import reverse

from projects.demo import DEMO_PROJECTS, demo_data_load, demo_data_remove
from projects.models import Project, Source
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db


def test_demo_projects_are_flagged_and_sourced_as_demo() -> None:
    assert demo_data_load() == len(DEMO_PROJECTS)
    assert Project.objects.count() == len(DEMO_PROJECTS)
    assert not Project.objects.exclude(is_demo=True).exists()
    assert set(Project.objects.values_list("source", flat=True)) == {Source.DEMO}
    assert all(p.name.startswith("Demo:") for p in Project.objects.all())


def test_demo_data_is_not_loaded_when_projects_exist() -> None:
    ProjectFactory()
    assert demo_data_load() == 0
    assert not Project.objects.filter(is_demo=True).exists()


def test_demo_projects_sit_on_their_municipality_point_or_nowhere() -> None:
    from municipalities.services import municipality_locate_points

    municipality_locate_points()
    demo_data_load()
    for project in Project.objects.select_related("municipality"):
        assert project.location == project.municipality.point


def test_pages_showing_demo_data_say_so(client: Client) -> None:
    demo_data_load()
    home = client.get(reverse("projects:home"))
    assert b"Demo data" in home.content and b"DEMO" in home.content
    project = Project.objects.first()
    detail = client.get(reverse("projects:detail", args=[project.pk]))
    assert b"Demo data" in detail.content


def test_removing_demo_data_logs_each_removal_and_updates_totals() -> None:
    from changelog.models import DataChangeLog

    demo_data_load()
    removed = demo_data_remove()
    assert removed == len(DEMO_PROJECTS) and not Project.objects.exists()
    assert DataChangeLog.objects.filter(change_type="deleted", entity_type="project").count() == removed
