"""Open project pages receive rendered fragments (for the HTMX ws extension) built from the page's own templates."""

from __future__ import annotations

import re

import pytest
from asgiref.sync import async_to_sync
from bs4 import BeautifulSoup
from channels.db import database_sync_to_async
from django.test import Client

from changelog.models import DataChangeLog
from projects.models import Project
from realtime import fragments, relay
from realtime.groups import html_project_group
from realtime.tasks import project_progress_set
from reports.models import Report
from reports.services import report_flag, report_submit
from tests.factories import ProjectFactory
from tests.realtime.conftest import connect

pytestmark = pytest.mark.django_db


@database_sync_to_async
def change_progress(project: Project, progress: str) -> None:
    project_progress_set(str(project.pk), progress)
    relay.relay_pending()


@database_sync_to_async
def submit_report(project: Project) -> Report:
    report = report_submit(title="Trench left open", description="Children play next to it.", report_type="issue",
                           lng=18.43, lat=-33.93, project=project)
    relay.relay_pending()
    return report


@database_sync_to_async
def flag(report: Report) -> None:
    report_flag(reports=[report], moderator="mod", reason="Not about this project")
    relay.relay_pending()


def element(html: str, element_id: str) -> str | None:
    found = BeautifulSoup(html, "html.parser").find(id=element_id)
    return str(found) if found else None


def test_open_project_page_receives_its_new_progress_rendered_like_the_page() -> None:
    project = ProjectFactory()

    async def scenario() -> str:
        page = await connect(f"/ws/live/project/{project.pk}?lang=en")
        await change_progress(project, "64")
        html = await page.receive_from(timeout=3)
        await page.disconnect()
        return html

    pushed = async_to_sync(scenario)()
    assert "64% complete" in pushed
    page = Client().get(f"/projects/{project.pk}/").content.decode()
    # The same template renders the same element, so the page after the push equals a fresh page load.
    for element_id in ("project-progress", "project-status", "project-budget", "project-reports"):
        assert element(pushed, element_id) is not None, element_id
        assert _without_csrf(element(pushed, element_id)) == _without_csrf(element(page, element_id)), element_id


def test_new_report_appears_and_a_flagged_report_disappears_from_an_open_page() -> None:
    project = ProjectFactory()

    async def scenario() -> tuple[str, str, int]:
        page = await connect(f"/ws/live/project/{project.pk}")
        report = await submit_report(project)
        with_report = await page.receive_from(timeout=3)
        await flag(report)
        without_report = await page.receive_from(timeout=3)
        await page.disconnect()
        return with_report, without_report, report.pk

    with_report, without_report, report_id = async_to_sync(scenario)()
    assert element(with_report, f"report-{report_id}") is not None
    assert "Trench left open" in with_report
    assert element(without_report, f"report-{report_id}") is None
    assert element(without_report, "project-reports") is not None


def test_live_push_of_a_project_with_many_reports_lists_as_many_reports_as_the_page() -> None:
    project = ProjectFactory()
    for number in range(35):
        report_submit(title=f"Report {number}", description="Still no water.", report_type="issue",
                      lng=18.43, lat=-33.93, project=project)
    relay.relay_pending()

    async def scenario() -> str:
        page = await connect(f"/ws/live/project/{project.pk}?lang=en")
        await change_progress(project, "70")
        html = await page.receive_from(timeout=3)
        await page.disconnect()
        return html

    pushed = async_to_sync(scenario)()
    page = Client().get(f"/projects/{project.pk}/").content.decode()
    on_page = BeautifulSoup(page, "html.parser").select("#project-reports article.report")
    in_push = BeautifulSoup(pushed, "html.parser").select("#project-reports article.report")
    assert len(on_page) == 30
    assert [a["id"] for a in in_push] == [a["id"] for a in on_page]


def test_page_in_another_language_gets_fragments_in_that_language_only() -> None:
    project = ProjectFactory()

    async def scenario() -> tuple[str, bool]:
        english = await connect(f"/ws/live/project/{project.pk}?lang=en")
        afrikaans = await connect(f"/ws/live/project/{project.pk}?lang=af")
        await change_progress(project, "12")
        first = await afrikaans.receive_from(timeout=3)
        english_got_one = (await english.receive_output(timeout=3))["type"] == "websocket.send"
        english_only_one = await english.receive_nothing(timeout=0.3)
        await english.disconnect()
        await afrikaans.disconnect()
        return first, english_got_one and english_only_one

    first, english_once = async_to_sync(scenario)()
    assert 'id="project-progress"' in first
    assert english_once


def test_no_fragments_are_rendered_for_pages_nobody_has_open() -> None:
    project = ProjectFactory()
    project_progress_set(str(project.pk), "33")
    rows = list(DataChangeLog.objects.unsent())
    assert fragments.pushes_for(rows, listened=set()) == {}
    group = html_project_group(project.pk, "en")
    pushes = fragments.pushes_for(rows, listened={group})
    assert [g for messages in pushes.values() for g, _ in messages] == [group]


def _without_csrf(html: str | None) -> str:
    # A push has no request, so no CSRF token in its vote forms (htmx sends the page's token in a header).
    return re.sub(r'<input[^>]*name="csrfmiddlewaretoken"[^>]*>', "", html or "")


def test_live_include_names_the_socket_the_fallback_and_the_fragments_and_hides_the_pill_without_js(
    rf: pytest.FixtureRequest,
) -> None:
    from django.template.loader import render_to_string

    project = ProjectFactory()
    request = rf.get(f"/projects/{project.pk}/")
    html = render_to_string("realtime/live.html", {"project": project}, request=request)
    root = BeautifulSoup(html, "html.parser").find(id="live-updates")
    assert root["data-live-ws"] == f"/ws/live/project/{project.pk}?lang=en"
    assert root["data-live-poll"] == f"/projects/{project.pk}/"
    assert set(root["data-live-select"].split(",")) == {
        "#project-status", "#project-progress", "#project-budget", "#project-reports"
    }
    assert root.find(class_="live-pill").has_attr("hidden")
    # The ws extension comes from django-htmx (no CDN), loaded with htmx itself on every page.
    page = render_to_string("base.html", {}, request=request)
    assert "django_htmx/ext/hx-ws-2" in page and page.index("django_htmx/htmx-2") < page.index("ext/hx-ws-2")


@database_sync_to_async
def affected(project: Project | None = None, report: Report | None = None) -> None:
    from reports.affected import affected_add

    affected_add(project=project, report=report, session_key="live", address="10.0.0.7")
    relay.relay_pending()


def test_affected_too_counts_and_report_states_are_pushed_to_an_open_project_page() -> None:
    from reports.lifecycle import update_add

    project = ProjectFactory()
    report = report_submit(title="Trench left open", description="d", report_type="issue", lng=18.43, lat=-33.93,
                           project=project)

    @database_sync_to_async
    def fixed() -> None:
        update_add(report=report, text="Closed by the contractor", fixed=True)
        relay.relay_pending()

    async def scenario() -> tuple[str, str, str]:
        page = await connect(f"/ws/live/project/{project.pk}?lang=en")
        await affected(project=project)
        on_project = await page.receive_from(timeout=3)
        await affected(report=report)
        on_report = await page.receive_from(timeout=3)
        await fixed()
        state = await page.receive_from(timeout=3)
        await page.disconnect()
        return on_project, on_report, state

    on_project, on_report, state = async_to_sync(scenario)()
    assert "1 resident says this project affects them." in (element(on_project, "project-affected") or "")
    assert "1 resident says this affects them." in (element(on_report, f"report-{report.pk}") or "")
    assert "Fixed, says a resident" in (element(state, f"report-{report.pk}") or "")
