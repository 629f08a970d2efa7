"""Open home and municipality pages receive the rows of changed projects (and a municipality its totals), rendered
from the same fragment files the pages include, so that a push equals a fresh page load."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from bs4 import BeautifulSoup
from channels.db import database_sync_to_async
from django.test import Client

from municipalities.models import Municipality
from projects.models import Project
from realtime import relay
from realtime.tasks import project_progress_set
from reports.services import report_submit
from tests.factories import ProjectFactory
from tests.realtime.conftest import connect

pytestmark = pytest.mark.django_db


@database_sync_to_async
def change_progress(project: Project, progress: str) -> None:
    project_progress_set(str(project.pk), progress)
    relay.relay_pending()


@database_sync_to_async
def submit_report(project: Project) -> None:
    report_submit(title="Pipe burst", description="Water running in the street.", report_type="issue",
                  lng=18.43, lat=-33.93, project=project)
    relay.relay_pending()


def ids(html: str) -> list[str]:
    return [element["id"] for element in BeautifulSoup(html, "html.parser").find_all(recursive=False)]


def element(html: str, element_id: str) -> str:
    found = BeautifulSoup(html, "html.parser").find(id=element_id)
    assert found is not None, element_id
    return str(found)


def test_open_municipality_page_receives_its_totals_and_the_changed_row_as_the_page_renders_them() -> None:
    project = ProjectFactory(progress_percentage=10)
    ProjectFactory(municipality=Municipality.objects.get(code="JHB"))

    async def scenario() -> str:
        page = await connect("/ws/live/municipality/CPT?lang=en")
        await change_progress(project, "55")
        html = await page.receive_from(timeout=3)
        assert await page.receive_nothing(timeout=0.3)
        await page.disconnect()
        return html

    pushed = async_to_sync(scenario)()
    assert ids(pushed) == ["municipality-totals", f"project-row-{project.pk}"]
    assert "Progress: 55%" in pushed
    page = Client().get("/municipalities/CPT/").content.decode()
    for element_id in ("municipality-totals", f"project-row-{project.pk}"):
        assert element(pushed, element_id) == element(page, element_id)


def test_changes_in_another_municipality_are_not_pushed_to_a_municipality_page() -> None:
    elsewhere = ProjectFactory(municipality=Municipality.objects.get(code="JHB"))

    async def scenario() -> bool:
        page = await connect("/ws/live/municipality/CPT")
        await change_progress(elsewhere, "70")
        nothing = await page.receive_nothing(timeout=0.5)
        await page.disconnect()
        return nothing

    assert async_to_sync(scenario)()


def test_district_page_receives_rows_of_its_local_municipalities_projects() -> None:
    local = Municipality.objects.filter(district__isnull=False).select_related("district").first()
    project = ProjectFactory(municipality=local)

    async def scenario() -> str:
        page = await connect(f"/ws/live/municipality/{local.district.code}")
        await change_progress(project, "31")
        html = await page.receive_from(timeout=3)
        await page.disconnect()
        return html

    assert ids(async_to_sync(scenario)()) == ["municipality-totals", f"project-row-{project.pk}"]


def test_open_home_page_receives_the_changed_row_when_progress_changes_or_a_report_arrives() -> None:
    project = ProjectFactory(progress_percentage=10)

    async def scenario() -> tuple[str, str]:
        page = await connect("/ws/live/home?lang=en")
        await change_progress(project, "80")
        progressed = await page.receive_from(timeout=3)
        await submit_report(project)
        reported = await page.receive_from(timeout=3)
        await page.disconnect()
        return progressed, reported

    progressed, reported = async_to_sync(scenario)()
    assert ids(progressed) == [f"project-row-{project.pk}"] and ids(reported) == [f"project-row-{project.pk}"]
    page = Client().get("/").content.decode()
    assert element(progressed, f"project-row-{project.pk}") == element(page, f"project-row-{project.pk}")
    assert "Progress: 80%" in progressed


def test_list_pages_name_their_socket_and_fragments_and_work_without_javascript() -> None:
    project = ProjectFactory()
    home = BeautifulSoup(Client().get("/").content, "html.parser")
    assert home.find(id="live-updates")["data-live-ws"] == "/ws/live/home?lang=en"
    assert home.find(id="live-updates")["data-live-select"] == "#results"
    assert home.find(id=f"project-row-{project.pk}") is not None
    municipality = BeautifulSoup(Client().get("/municipalities/CPT/").content, "html.parser")
    assert municipality.find(id="live-updates")["data-live-ws"] == "/ws/live/municipality/CPT?lang=en"
    assert municipality.find(id="municipality-totals") is not None
    assert municipality.find(id=f"project-row-{project.pk}") is not None
