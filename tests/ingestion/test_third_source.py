"""A third source, defined here and nowhere else, plugs in through the registry: `manage.py ingest <name>`, the
pipeline page, health, schedules and the credit under its projects all pick it up."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import pytest
from bs4 import BeautifulSoup
from django.core.management import call_command
from django.test import Client
from django_q.models import Schedule

from bukaamanzi.lib.schedules import DAILY, PlannedSchedule, next_daily
from ingestion.http import fetch
from ingestion.loader import MunicipalityMatcher, ProjectItem
from ingestion.models import IngestionRun, RunStatus
from ingestion.sources.base import Harvest, IngestionSource, json_files, register, unregister
from projects.models import Project
from tests.ingestion.pipeline_support import FIXTURES, Reply, SourceServer, source_server

__all__ = ["source_server"]
pytestmark = pytest.mark.django_db


@dataclass
class BoardHarvest(Harvest):
    rows: list[dict[str, Any]] = field(default_factory=list)


class ExampleWaterBoard(IngestionSource[BoardHarvest]):
    name = "example_water_board"
    title = "Example Water Board (a test source)"
    credit = "Example Water Board, open project list"
    url = "https://water-board.example/projects"
    feed_url: ClassVar[str] = ""  # set by the fixture to the local server

    @classmethod
    def schedules(cls, now: dt.datetime) -> list[PlannedSchedule]:
        return [cls.scheduled("ingest example water board daily", schedule_type=DAILY,
                              next_run=next_daily("03:30", now, setting="(test)"))]

    def harvest_network(self) -> BoardHarvest:
        body = fetch(self.name, self.feed_url).content
        return BoardHarvest(bodies=[body], rows=json.loads(body)["projects"])

    def harvest_files(self, path: Path) -> BoardHarvest:
        bodies = [file.read_bytes() for file in json_files(path)]
        return BoardHarvest(bodies=bodies, rows=[row for body in bodies for row in json.loads(body)["projects"]])

    def project_items(self, harvest: BoardHarvest, matcher: MunicipalityMatcher) -> list[ProjectItem]:
        return [
            ProjectItem(external_id=row["id"], budgets=[], values={
                "municipality": matcher.match(row["municipality"], None), "name": row["name"],
                "status": row["stage"], "budget_allocated": Decimal(row["budget"]),
                "progress_percentage": Decimal(row["progress"]) if row["progress"] else None,
                "raw_data": row, "is_demo": False,
            })
            for row in harvest.rows
        ]


@pytest.fixture
def example_board(source_server: SourceServer) -> Iterator[type[ExampleWaterBoard]]:
    body = (FIXTURES / "example_water_board" / "projects.json").read_bytes()
    source_server.serve("/board/projects.json", Reply(body))
    ExampleWaterBoard.feed_url = f"{source_server.url}/board/projects.json"
    register(ExampleWaterBoard)
    yield ExampleWaterBoard
    unregister(ExampleWaterBoard.name)


def test_a_third_source_runs_through_ingest_and_shows_everywhere_sources_are_listed(example_board) -> None:
    call_command("ingest", "example_water_board")

    run = IngestionRun.objects.get(source="example_water_board")
    assert run.status == RunStatus.SUCCESS and run.created_count == 2
    projects = Project.objects.filter(source="example_water_board").order_by("external_id")
    assert [p.external_id for p in projects] == ["EWB-001", "EWB-002"]
    assert projects[0].municipality.code == "NC084"

    client = Client()
    health = {s["source"]: s for s in client.get("/api/v1/health").json()["sources"]}
    assert health["example_water_board"]["last_run_status"] == "success"
    pipeline = BeautifulSoup(client.get("/pipeline/").content, "html.parser")
    section = pipeline.find(id="source-example_water_board-heading").find_parent("section").get_text(" ")
    assert "Example Water Board (a test source)" in section and "Succeeded" in section

    detail = client.get(f"/api/v1/projects/{projects[0].pk}").json()
    assert detail["attribution"]["credit"] == "Example Water Board, open project list"
    page = client.get(f"/projects/{projects[0].pk}/").content.decode()
    assert "Example Water Board, open project list" in page


def test_a_third_source_gets_its_schedule_and_loses_it_when_removed(example_board) -> None:
    call_command("setup_schedules")
    schedule = Schedule.objects.get(name="ingest example water board daily")
    assert schedule.func == "ingestion.tasks.scheduled_ingestion"
    assert "'source': 'example_water_board'" in schedule.kwargs

    unregister(example_board.name)
    call_command("setup_schedules")

    assert not Schedule.objects.filter(name="ingest example water board daily").exists()
    assert Schedule.objects.filter(name="ingest treasury daily").exists()
