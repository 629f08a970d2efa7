"""The pipeline status page: per source the last run, its result, counts, duration and breaker, and data quality;
the same figures as the API; pushed to open copies of the page when an ingestion run changes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync
from bs4 import BeautifulSoup
from channels.db import database_sync_to_async
from django.db import transaction
from django.test import Client, TestCase
from django.utils import timezone

from ingestion import signals
from ingestion.models import IngestionRun, RunStatus, SourceCircuit
from ingestion.services import ingestion_start_run
from projects.models import Budget
from realtime import pipeline
from tests.factories import ProjectFactory
from tests.ingestion.runs import finished_run
from tests.realtime.conftest import connect

pytestmark = pytest.mark.django_db


def panel(html: str) -> BeautifulSoup:
    found = BeautifulSoup(html, "html.parser").find(id="pipeline-status")
    assert found is not None
    return found


def test_pipeline_page_shows_each_sources_last_run_breaker_and_data_quality_without_javascript() -> None:
    finished_run("dws", RunStatus.FAILED, failed_count=2, updated_count=7, error="Timed out",
                 triggered_by="admin@example.org")
    finished_run("municipal_money", RunStatus.SUCCESS, created_count=12)
    SourceCircuit.objects.create(source="dws", state="open", fail_counter=5, opened_at=timezone.now(),
                                 last_error="Timed out")
    located = ProjectFactory(budget_allocated=None)
    Budget.objects.create(project=located, financial_year="2024/2025", budget_type="Original Budget",
                          amount=Decimal("1"), source="municipal_money")
    ProjectFactory(location=None, municipality=None, budget_allocated=None)

    response = Client().get("/pipeline/")

    assert response.status_code == 200
    html = response.content.decode()
    dws = panel(html).find(id="source-dws-heading").find_parent("section")
    text = " ".join(dws.get_text(" ").split())
    assert "Department of Water and Sanitation" in text
    assert "Failed" in text and "90.0 s" in text and "Timed out" in text
    assert "Open: calls refused until the cool-down ends" in text
    assert "Refused after 5 failures in a row" in text
    treasury_section = panel(html).find(id="source-municipal_money-heading").find_parent("section")
    treasury = " ".join(treasury_section.get_text(" ").split())
    assert "Succeeded" in treasury and "Created 12" in treasury
    quality = " ".join(panel(html).find(id="quality-heading").find_parent("section").get_text(" ").split())
    assert "Of 2 projects" in quality
    assert "With a location 50%" in quality and "With a budget 50%" in quality
    assert "With a matched municipality 50%" in quality
    assert "admin@example.org" not in html  # who ran it is for the admin only
    live = BeautifulSoup(html, "html.parser").find(id="live-updates")
    assert live["data-live-ws"] == "/ws/live/pipeline?lang=en" and live["data-live-select"] == "#pipeline-status"
    assert live.find(class_="live-pill").has_attr("hidden")


def test_pipeline_page_and_api_report_the_same_figures(client: Client) -> None:
    finished_run("municipal_money", RunStatus.PARTIAL, failed_count=3)
    ProjectFactory(location=None)
    body = client.get("/api/v1/pipeline/status").json()
    status = pipeline.pipeline_status()
    assert body["data_quality"]["with_location"] == status.data_quality.with_location == 0.0
    treasury = next(s for s in body["sources"] if s["source"] == "municipal_money")
    assert treasury["last_run"]["failed_count"] == status.sources[0].last_run.failed_count == 3


def test_pipeline_page_is_linked_from_the_footer_and_the_ingestion_run_list(admin_client: Client) -> None:
    footer = BeautifulSoup(Client().get("/about/").content, "html.parser").find("footer")
    assert footer.find("a", href="/pipeline/") is not None
    changelist = admin_client.get("/admin/ingestion/ingestionrun/").content.decode()
    assert 'href="/pipeline/"' in changelist


def test_pipeline_page_speaks_the_visitors_language() -> None:
    html = Client(headers={"accept-language": "af"}).get("/pipeline/").content.decode()
    assert '<html lang="af">' in html
    assert "/ws/live/pipeline?lang=af" in html


@database_sync_to_async
def start_and_finish_a_run() -> None:
    with TestCase.captureOnCommitCallbacks(execute=True):
        run = ingestion_start_run(source="dws", status=RunStatus.RUNNING)
    with TestCase.captureOnCommitCallbacks(execute=True):
        # Finishing sends the same signal as the run service; the run's own work is the ingestion tests' subject.
        run.status, run.finished_at, run.updated_count = RunStatus.SUCCESS, timezone.now(), 41
        run.save()
        transaction.on_commit(lambda: signals.run_changed.send(sender=IngestionRun, run=run))


def test_open_pipeline_page_receives_the_panel_when_a_run_starts_and_when_it_finishes() -> None:
    async def scenario() -> tuple[str, str]:
        page = await connect("/ws/live/pipeline?lang=en")
        await start_and_finish_a_run()
        started = await page.receive_from(timeout=3)
        finished = await page.receive_from(timeout=3)
        await page.disconnect()
        return started, finished

    started, finished = async_to_sync(scenario)()
    assert "Running" in panel(started).find(id="source-dws-heading").find_parent("section").get_text()
    dws = " ".join(panel(finished).find(id="source-dws-heading").find_parent("section").get_text(" ").split())
    assert "Succeeded" in dws and "Updated 41" in dws


def test_no_pipeline_panel_is_rendered_when_no_page_is_open(django_assert_num_queries: object) -> None:
    with django_assert_num_queries(0):  # type: ignore[operator]
        pipeline.pipeline_push()
