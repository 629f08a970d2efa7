"""DWS dashboard ingestion end to end, against a real local HTTP server serving saved pages."""

from __future__ import annotations

from decimal import Decimal

import pytest

from changelog.models import DataChangeLog
from ingestion.models import IngestionRun, RunStatus
from ingestion.services import ingestion_run_now
from municipalities.models import Municipality
from projects.models import Project
from tests.ingestion.pipeline_support import PMD, Reply, SourceServer, dws_routes, fixture_bytes, source_server

__all__ = ["source_server"]
pytestmark = pytest.mark.django_db


def _run(kind: str = "full") -> IngestionRun:
    return ingestion_run_now(source="dws", kind=kind, triggered_by="test")


def test_full_sync_stores_summaries_and_every_grid_page_following_server_links(source_server: SourceServer):
    dws_routes(source_server)

    run = _run()

    assert run.status == RunStatus.SUCCESS, (run.error, run.report)
    kheis = Municipality.objects.get(code="NC084")
    assert kheis.dws_project_count == 5 and kheis.dws_total_value == Decimal("61612345.67")
    assert kheis.dashboard_url == f"{source_server.url}/pmd/level.aspx?enc=RklYVFVSRW11bmkx%2BbQ"
    assert kheis.dws_fetched_at is not None
    # Names with an accent and a metro whose link sits beside the label.
    assert Municipality.objects.get(code="EC101").dws_project_count == 12
    assert Municipality.objects.get(code="CPT").dashboard_url.endswith("enc=RklYVFVSRW11bmk3%2BhQ")
    projects = Project.objects.filter(source="dws")
    assert projects.count() == 7  # five rows on the page, two more from the callback for page 2
    assert run.created_count == 7
    first = projects.get(external_id="NC084/NC084-RBIG-001")
    assert first.name == "!Kheis Bulk Water Supply Phase 2" and first.municipality == kheis
    assert first.budget_allocated == Decimal("123456789.00") and first.progress_percentage == Decimal("49.40")
    assert first.status == "implementation" and first.source_status == "Construction"
    # The grid's second page was asked for with a DevExpress callback carrying the page's form state.
    callback = next(seen for seen in source_server.seen if seen.method == "POST")
    assert "__CALLBACKID=ctl00%24PageContent%24MyCallbackPanel%24gvProjects" in callback.body
    assert "__VIEWSTATE=FIXTUREviewstateGridPage" in callback.body
    assert "NC084" not in run.report["fetched"]["pages_without_grid"]


def test_rerun_with_nothing_changed_records_no_change(source_server: SourceServer):
    dws_routes(source_server)
    _run()
    changes = DataChangeLog.objects.count()

    second = _run()

    assert second.status == RunStatus.NO_CHANGE
    assert DataChangeLog.objects.count() == changes


def test_a_changed_grid_layout_fails_clearly_and_writes_nothing(source_server: SourceServer):
    dws_routes(source_server, municipality_page="project_grid_changed_layout.html")
    changes = DataChangeLog.objects.count()

    run = _run()

    assert run.status == RunStatus.FAILED
    assert "project grid layout not recognised" in run.error and "missing required columns" in run.error
    assert "Project Number" in run.error  # names what it looked for
    assert not Project.objects.filter(source="dws").exists()
    assert Municipality.objects.get(code="NC084").dws_project_count is None  # summaries not written either
    assert DataChangeLog.objects.count() == changes


def test_a_page_that_is_not_the_dashboard_fails_and_names_what_is_missing(source_server: SourceServer):
    source_server.serve(PMD, Reply(fixture_bytes("dws", "maintenance.html"), content_type="text/html"))

    run = _run("change_check")

    assert run.status == RunStatus.FAILED
    assert "not a DWS PMD page" in run.error and "form#aspnetForm" in run.error


def test_the_real_page_shell_is_recognised_as_the_index_without_a_grid_and_nothing_is_invented(
    source_server: SourceServer,
):
    source_server.serve(PMD, Reply(fixture_bytes("dws", "level_index_real_shell.html"), content_type="text/html"))

    run = _run()

    assert run.status == RunStatus.PARTIAL
    assert "index was recognised" in run.error and "no project grid" in run.error
    assert not Project.objects.filter(source="dws").exists()
    assert not Municipality.objects.filter(dws_project_count__isnull=False).exists()


def test_change_check_reads_only_the_index_and_queues_a_full_sync_when_it_changed(
    source_server: SourceServer, django_capture_on_commit_callbacks, monkeypatch
):
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)
    dws_routes(source_server)

    with django_capture_on_commit_callbacks(execute=True):
        check = _run("change_check")

    assert check.status == RunStatus.SUCCESS
    assert Municipality.objects.get(code="NC084").dws_project_count == 5
    full = IngestionRun.objects.of_source("dws").filter(kind="full").get()
    assert full.status == RunStatus.SUCCESS and full.triggered_by == f"change check run {check.pk}"
    assert Project.objects.filter(source="dws").count() == 7


def test_a_saved_index_page_is_ingested_with_the_ingest_command(tmp_path):
    from django.core.management import call_command

    (tmp_path / "index.html").write_bytes(fixture_bytes("dws", "level_index.html"))
    (tmp_path / "NC084.html").write_bytes(fixture_bytes("dws", "project_grid.html"))

    call_command("ingest", "dws", "--from-file", str(tmp_path))

    assert Municipality.objects.get(code="MP312").dws_project_count == 23
    assert Project.objects.filter(source="dws", municipality__code="NC084").count() == 5  # page 1 only
