"""Defects a new user met (issue "One place for each fact"), each shown through the real run path."""

from __future__ import annotations

from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from django.test import Client

from changelog.models import DataChangeLog
from ingestion.models import IngestionRun, RunStatus, SourceCircuit
from ingestion.services import ingestion_run_now
from municipalities.models import CapitalSpend, Municipality
from projects.models import Project
from tests.ingestion.pipeline_support import FIXTURES, SourceServer, source_server, treasury_routes
from tests.ingestion.runs import ingest_from_files, treasury_saved_responses

__all__ = ["source_server"]
pytestmark = pytest.mark.django_db


def test_status_pages_find_the_treasury_runs_that_were_stored(tmp_path: Path) -> None:
    saved = treasury_saved_responses(tmp_path)
    ingest_from_files("treasury", saved)  # the name people know still works: it is an alias of the one name
    ingest_from_files("treasury", saved)

    client = Client()
    health = {s["source"]: s for s in client.get("/api/v1/health").json()["sources"]}
    assert health["municipal_money"]["last_success_at"] is not None
    assert health["municipal_money"]["last_run_status"] == "no_change"
    status = {s["source"]: s for s in client.get("/api/v1/pipeline/status").json()["sources"]}
    assert status["municipal_money"]["last_run"]["status"] == "no_change"
    page = BeautifulSoup(client.get("/pipeline/").content, "html.parser")
    treasury = page.find(id="source-municipal_money-heading").find_parent("section").get_text(" ")
    assert "No run of this source yet" not in treasury
    assert "National Treasury, Municipal Money" in treasury
    # One name for runs and projects alike.
    assert set(IngestionRun.objects.values_list("source", flat=True)) == {"municipal_money"}
    assert set(Project.objects.values_list("source", flat=True)) == {"municipal_money"}


def test_the_breaker_of_a_source_is_kept_under_its_one_name(source_server: SourceServer, settings) -> None:
    settings.MUNICIPAL_MONEY_URL = source_server.url + "/nothing-here/"  # every request answers 404

    ingestion_run_now(source="municipal_money")

    assert list(SourceCircuit.objects.values_list("source", flat=True)) == ["municipal_money"]


def test_a_first_run_on_an_empty_database_harvests_capital_spending_and_a_rerun_writes_nothing(
    source_server: SourceServer,
) -> None:
    Municipality.objects.exclude(district=None).delete()  # a database whose reference list was never loaded
    Municipality.objects.all().delete()
    treasury_routes(source_server)

    first = ingestion_run_now(source="municipal_money")

    assert first.status == RunStatus.SUCCESS, (first.error, first.report)
    assert CapitalSpend.objects.count() == 4
    logged = DataChangeLog.objects.count()
    again = ingestion_run_now(source="municipal_money")
    forced = ingestion_run_now(source="municipal_money", force=True)
    assert again.status == RunStatus.NO_CHANGE
    assert forced.status == RunStatus.SUCCESS and forced.created_count == forced.updated_count == 0
    assert DataChangeLog.objects.count() == logged


def test_a_bad_progress_value_is_noted_and_stored_empty_without_losing_the_municipalitys_rows(
    tmp_path: Path,
) -> None:
    index = (FIXTURES / "dws" / "level_index.html").read_text(encoding="utf-8")
    grid = (FIXTURES / "dws" / "project_grid.html").read_text(encoding="utf-8")
    assert grid.count("49.4%") == 1
    (tmp_path / "index.html").write_text(index, encoding="utf-8")
    (tmp_path / "NC084.html").write_text(grid.replace("49.4%", "140 %"), encoding="utf-8")

    run = ingestion_run_now(source="dws", from_path=tmp_path)

    assert run.status == RunStatus.SUCCESS, (run.error, run.report)
    stored = Project.objects.filter(source="dws", municipality__code="NC084")
    assert stored.count() == 5  # every row of the page
    assert stored.get(external_id="NC084/NC084-RBIG-001").progress_percentage is None
    assert stored.exclude(progress_percentage=None).count() == 4
    [problem] = run.report["values_not_stored"]
    assert problem["external_id"] == "NC084/NC084-RBIG-001" and problem["value"] == "140 %"
    assert problem["column"] == "% Complete" and "outside 0..100" in problem["reason"]


@pytest.mark.django_db(transaction=True)  # as `manage.py ingest` runs: every batch commits and pushes at once
def test_ingest_with_the_channel_layer_down_says_so_in_one_line_without_a_traceback(
    tmp_path: Path, settings, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str],
) -> None:
    settings.CHANNEL_LAYERS = {"default": {
        "BACKEND": "realtime.layers.SlicedPubSubChannelLayer",
        "CONFIG": {"hosts": [{"address": f"unix://{tmp_path / 'no-redis.sock'}"}]},
    }}
    saved = treasury_saved_responses(tmp_path)

    with caplog.at_level("WARNING"):
        ingest_from_files("municipal_money", saved)

    warnings = [record for record in caplog.records if record.levelno >= 30]
    assert len(warnings) == 1, [record.getMessage() for record in warnings]
    message = warnings[0].getMessage()
    assert "live clients were not told" in message
    assert f"the relay sweep will send {DataChangeLog.objects.unsent().count()} change(s)" in message
    assert warnings[0].exc_info is None
    assert "Traceback" not in capsys.readouterr().err
