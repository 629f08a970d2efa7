import pytest

from bench.pages.weight import HOME_ASSET_BUDGET, PROJECT_BUDGET, measure
from tests.factories import ProjectFactory, ReportFactory

pytestmark = pytest.mark.django_db


def test_project_page_without_the_map_stays_under_100_kb_gzipped(client) -> None:
    project = ProjectFactory(description="A long description. " * 50)
    ReportFactory.create_batch(30, project=project, description="What I saw on the ground. " * 20)
    weight = measure(client, f"/projects/{project.pk}/")
    assert weight.without_map <= PROJECT_BUDGET
    assert weight.map_bytes > 0  # the map files are counted, and left out of the budget


def test_home_page_css_and_js_stay_under_350_kb_gzipped(client) -> None:
    ProjectFactory.create_batch(20)
    weight = measure(client, "/")
    assert 0 < weight.asset_bytes <= HOME_ASSET_BUDGET
    assert not any(url.startswith("http") for url in weight.assets)
