"""Municipal Money ingestion end to end, against a real local HTTP server serving saved responses."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from changelog.models import DataChangeLog, EntityType
from ingestion.models import IngestionRun, RunStatus, SourceCircuit
from ingestion.services import ingestion_run_now, ingestion_start_run
from municipalities.models import CapitalSpend, Municipality
from projects.models import Budget, Project
from tests.ingestion.pipeline_support import (
    CAPITAL,
    GEOGRAPHY,
    Reply,
    SourceServer,
    fixture_bytes,
    source_server,
    treasury_routes,
)

__all__ = ["source_server"]
pytestmark = pytest.mark.django_db


def _run() -> IngestionRun:
    return ingestion_run_now(source="municipal_money", triggered_by="test")


def _page1_with(**changes: object) -> bytes:
    page = json.loads(fixture_bytes("municipal_money", "projects_page1.json"))
    page["results"][0].update(changes)
    return json.dumps(page).encode()


def test_happy_path_stores_water_projects_budgets_capital_spend_and_records_the_run(source_server: SourceServer):
    treasury_routes(source_server)

    run = _run()

    assert run.status == RunStatus.SUCCESS, (run.error, run.report)
    projects = Project.objects.filter(source="municipal_money")
    assert projects.count() == 5  # 101, 102, 104, 106, 108: roads, ICT and electricity are left out
    assert run.created_count == 5 and run.updated_count == 0 and run.failed_count == 0
    cape_town = projects.get(source_api_id="101")
    assert cape_town.municipality.code == "CPT"
    assert cape_town.external_id.startswith("CPT/PC001002004006_00008/")
    assert cape_town.location is not None and cape_town.ward == "Ward 9"
    assert cape_town.budget_allocated == Decimal("3600000.00")  # the budget year of the latest implementation year
    assert cape_town.budget_spent == Decimal("4200000.00")  # the latest audited outcome
    assert Budget.objects.filter(project=cape_town).count() == 5
    assert projects.get(source_api_id="102").location is None  # 0.0/0.0 is not a place
    assert Municipality.objects.get(code="CPT").project_count == 1
    spend = CapitalSpend.objects.get(municipality__code="CPT", financial_year="2022/2023", amount_type="AUDA")
    assert spend.amount == Decimal("9876543210.00")
    assert not CapitalSpend.objects.filter(municipality__code="NC084").exists()  # a null sum is "not reported"
    assert DataChangeLog.objects.filter(entity_type=EntityType.PROJECT, change_type="created").count() == 5
    assert run.fetched_hash and run.report["fetched"]["water_projects"] == 5


def test_rerun_with_nothing_changed_writes_nothing_and_records_no_change(source_server: SourceServer):
    treasury_routes(source_server)
    first = _run()
    changes, updated_at = DataChangeLog.objects.count(), list(Project.objects.values_list("updated_at", flat=True))

    second = _run()

    assert second.status == RunStatus.NO_CHANGE
    assert second.fetched_hash == first.fetched_hash
    assert (second.created_count, second.updated_count) == (0, 0)
    assert DataChangeLog.objects.count() == changes
    assert list(Project.objects.values_list("updated_at", flat=True)) == updated_at


def test_one_changed_field_gives_one_update_and_one_change_log_row_with_old_and_new_values(
    source_server: SourceServer,
):
    treasury_routes(source_server)
    _run()
    project = Project.objects.get(source_api_id="101")
    treasury_routes(source_server, pages={"0": _page1_with(ward_location="Ward 10"),
                                          "5": fixture_bytes("municipal_money", "projects_page2.json")})

    run = _run()

    assert run.status == RunStatus.SUCCESS
    assert (run.created_count, run.updated_count, run.unchanged_count) == (0, 1, 4)
    rows = DataChangeLog.objects.filter(entity_id=str(project.pk), change_type="updated")
    assert rows.count() == 1
    row = rows.get()
    assert row.field_changes == ["ward"]
    assert row.old_values == {"ward": "Ward 9"} and row.new_values == {"ward": "Ward 10"}
    assert row.source == "etl_pipeline"
    project.refresh_from_db()
    assert project.ward == "Ward 10"


def test_a_timeout_is_retried_and_the_run_then_succeeds(source_server: SourceServer):
    treasury_routes(source_server)
    source_server.script(GEOGRAPHY, Reply(b"[]", delay=1.5))  # longer than the 0.5 s read timeout

    run = _run()

    assert run.status == RunStatus.SUCCESS, run.error
    assert source_server.hits(GEOGRAPHY) == 2


def test_a_429_with_retry_after_and_a_503_are_retried(source_server: SourceServer):
    treasury_routes(source_server)
    source_server.script(CAPITAL, Reply(b"slow down", 429, headers={"Retry-After": "0"}), Reply(b"busy", 503))

    run = _run()

    assert run.status == RunStatus.SUCCESS, run.error
    assert source_server.hits(CAPITAL) == 3


def test_repeated_500s_open_the_breaker_and_leave_earlier_data_untouched(source_server: SourceServer):
    treasury_routes(source_server)
    assert _run().status == RunStatus.SUCCESS
    before = sorted(Project.objects.values_list("external_id", "updated_at"))
    changes = DataChangeLog.objects.count()
    source_server.serve(GEOGRAPHY, Reply(b"server error", 500))

    first_failure, second_failure = _run(), _run()
    requests_so_far = source_server.hits(GEOGRAPHY)
    skipped = _run()

    assert first_failure.status == RunStatus.FAILED and "500" in first_failure.error
    assert second_failure.status == RunStatus.FAILED and "circuit breaker open" in second_failure.error
    assert skipped.status == RunStatus.SKIPPED
    assert source_server.hits(GEOGRAPHY) == requests_so_far  # no request while the breaker is open
    circuit = SourceCircuit.objects.get(source="municipal_money")
    assert circuit.state == "open" and circuit.opened_at is not None
    assert sorted(Project.objects.values_list("external_id", "updated_at")) == before
    assert DataChangeLog.objects.count() == changes


def test_truncated_json_fails_the_run_and_writes_nothing(source_server: SourceServer):
    treasury_routes(source_server)
    page2 = fixture_bytes("municipal_money", "projects_page2.json")
    treasury_routes(source_server, pages={"0": fixture_bytes("municipal_money", "projects_page1.json"),
                                          "5": page2[: len(page2) // 2]})

    run = _run()

    assert run.status == RunStatus.FAILED
    assert "truncated or invalid JSON" in run.error and "Nothing was written" in run.error
    assert not Project.objects.filter(source="municipal_money").exists()
    assert not CapitalSpend.objects.exists()
    assert not DataChangeLog.objects.filter(entity_type=EntityType.PROJECT).exists()


def test_odd_amounts_and_names_are_normalised_and_unmatched_municipalities_are_reported(
    source_server: SourceServer,
):
    page = json.loads(fixture_bytes("municipal_money", "projects_page1.json"))
    page["next"] = None
    first = page["results"][0]
    first["expenditure"] = [
        {"amount": "R 1 234,50", "budget_phase": {"code": "", "name": "Budget year"},
         "financial_year": {"budget_year": "2023/24"}},
        {"amount": 2750000.505, "budget_phase": {"code": "", "name": "Audited Outcome"},
         "financial_year": {"budget_year": "2021/2022"}},
    ]
    # A code Treasury uses that we do not hold, but a name that matches once "Local Municipality",
    # accents, case and spacing are ignored.
    page["results"][1]["geography"].update(geo_code="XX101", name="  dr beyers NAUDÉ Local Municipality ")
    page["results"][3]["geography"].update(geo_code="ZZ999", name="Atlantis Municipality")
    treasury_routes(source_server, pages={"0": json.dumps(page).encode()})

    run = _run()

    assert run.status == RunStatus.SUCCESS, run.error
    odd = Project.objects.get(source_api_id="101")
    assert odd.budget_allocated == Decimal("1234.50") and odd.budget_spent == Decimal("2750000.51")
    assert Project.objects.get(source_api_id="102").municipality.code == "EC101"
    unmatched = Project.objects.get(source_api_id="104")
    assert unmatched.municipality is None  # stored, not dropped, and listed for review
    assert run.report["unmatched"] == [{
        "kind": "project", "api_id": 104, "municipality_code": "ZZ999", "municipality_name": "Atlantis Municipality",
        "project_number": "NC084-W-2023-01",
    }]


def test_a_locked_field_is_kept_and_the_skipped_value_is_recorded(source_server: SourceServer):
    from projects.services import project_correct

    treasury_routes(source_server)
    _run()
    project = Project.objects.get(source_api_id="101")
    project_correct(project=project, values={"ward": "Ward 9 (Bellville)"}, moderator="mod",
                    reason="the source names the wrong ward")
    treasury_routes(source_server, pages={"0": _page1_with(ward_location="Ward 10", project_type="Upgrading"),
                                          "5": fixture_bytes("municipal_money", "projects_page2.json")})

    run = _run()

    project.refresh_from_db()
    assert project.ward == "Ward 9 (Bellville)" and project.project_type == "Upgrading"
    assert run.report["skipped_locked"] == [
        {"external_id": project.external_id, "project_id": str(project.pk), "values": {"ward": "Ward 10"}}
    ]
    row = DataChangeLog.objects.filter(entity_id=str(project.pk), source="etl_pipeline").order_by("-pk").first()
    assert row.new_values["skipped_locked"] == {"ward": "Ward 10"}


def test_two_overlapping_runs_of_one_source_never_both_run(source_server: SourceServer):
    treasury_routes(source_server)
    first = ingestion_start_run(source="municipal_money", triggered_by="worker 1")

    second = _run()

    assert first.status == RunStatus.RUNNING
    assert second.status == RunStatus.REFUSED and f"run {first.pk}" in second.error
    assert source_server.hits(GEOGRAPHY) == 0
    assert not Project.objects.filter(source="municipal_money").exists()


def test_the_database_refuses_a_second_active_run_even_without_the_service():
    from django.db import IntegrityError, transaction

    IngestionRun.objects.create(source="municipal_money", status=RunStatus.QUEUED)
    with pytest.raises(IntegrityError), transaction.atomic():
        IngestionRun.objects.create(source="municipal_money", status=RunStatus.RUNNING)


def test_the_first_real_ingestion_removes_the_demo_data(source_server: SourceServer):
    from projects.demo import demo_data_load

    assert demo_data_load() > 0
    treasury_routes(source_server)

    run = _run()

    assert not Project.objects.filter(is_demo=True).exists()
    assert run.report["demo_projects_removed"] > 0


def test_saved_responses_are_ingested_from_a_directory_with_the_ingest_command(tmp_path):
    from django.core.management import call_command

    for name in ("geography.json", "projects_page1.json", "projects_page2.json", "capital_v2_aggregate.json"):
        (tmp_path / name).write_bytes(fixture_bytes("municipal_money", name))

    call_command("ingest", "municipal_money", "--from-file", str(tmp_path))

    run = IngestionRun.objects.of_source("municipal_money").get()
    assert run.status == RunStatus.SUCCESS and run.created_count == 5
    assert CapitalSpend.objects.count() == 4


def test_a_record_that_contradicts_itself_is_refused_and_reported_while_the_others_are_stored(
    source_server: SourceServer,
):
    duplicate = {"amount": "999.00", "budget_phase": {"code": "", "name": "Audited Outcome"},
                 "financial_year": {"budget_year": "2021/2022"}}
    page = json.loads(fixture_bytes("municipal_money", "projects_page1.json"))
    page["results"][0]["expenditure"].append(duplicate)
    treasury_routes(source_server, pages={"0": json.dumps(page).encode(),
                                          "5": fixture_bytes("municipal_money", "projects_page2.json")})

    run = _run()

    assert run.status == RunStatus.PARTIAL and run.failed_count == 1 and run.created_count == 4
    (error,) = run.report["errors"]
    assert error["api_id"] == 101 and "two amounts for Audited Outcome 2021/2022" in error["error"]
    assert not Project.objects.filter(source_api_id="101").exists()


def test_a_failed_run_is_announced_to_live_clients_as_a_system_error(
    source_server: SourceServer, django_capture_on_commit_callbacks
):
    import asyncio

    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    from realtime.groups import SYSTEM

    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(SYSTEM, channel)
    source_server.serve(GEOGRAPHY, Reply(b"[{", 200))  # truncated JSON

    with django_capture_on_commit_callbacks(execute=True):  # the announcement is sent once the run is committed
        run = _run()

    message = async_to_sync(asyncio.wait_for)(layer.receive(channel), 5)
    payload = json.loads(message["text"])
    assert run.status == RunStatus.FAILED
    assert payload["type"] == "system_error" and payload["source"] == "municipal_money"
    assert "truncated or invalid JSON" in payload["message"]


def test_a_batch_with_one_invalid_record_is_replayed_so_only_that_record_fails(settings):
    from django.utils import timezone

    from ingestion.loader import ProjectItem, RunReport, load_projects

    settings.INGESTION_BATCH_SIZE = 10
    cape_town = Municipality.objects.get(code="CPT")
    items = [
        ProjectItem(external_id=f"CPT/T-{n}", values={"municipality": cape_town, "name": f"Pipeline {n}"}, budgets=[])
        for n in range(3)
    ]
    items[1].values["status"] = "half-built"  # not in the status vocabulary: full_clean refuses it
    report = RunReport()

    touched = load_projects(source="municipal_money", items=items, report=report, fetched_at=timezone.now())

    assert (report.created, report.failed) == (2, 1)
    assert report.lists["errors"][0]["external_id"] == "CPT/T-1" and "half-built" in report.lists["errors"][0]["error"]
    assert sorted(Project.objects.values_list("external_id", flat=True)) == ["CPT/T-0", "CPT/T-2"]
    assert touched == {"CPT"}
