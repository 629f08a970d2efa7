"""After an ingestion run the worker warms the figures: the run queues the warm-up, and the warm-up leaves the
pages two queries away, showing what the run brought."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django_q.models import OrmQ

from ingestion.models import IngestionRun
from ingestion.signals import run_finished
from insights.tasks import WARM_TASK, warm_figures
from tests.ingestion.runs import finished_run, ingest_from_files, treasury_saved_responses

pytestmark = pytest.mark.django_db


def queued_functions() -> list[str]:
    return [task.func() for task in OrmQ.objects.all()]


def test_a_treasury_run_queues_the_warm_up_and_the_warm_up_fills_the_cache(
        client: Any, tmp_path: Path, django_capture_on_commit_callbacks: Any,
        django_assert_max_num_queries: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        ingest_from_files("municipal_money", treasury_saved_responses(tmp_path))
    assert WARM_TASK in queued_functions()
    assert warm_figures() > 0
    with django_assert_max_num_queries(2):
        html = client.get("/insights/").content.decode()
    assert "2022/2023" in html  # the capital data the run brought (the saved capital_v2 response)
    with django_assert_max_num_queries(2):
        client.get("/insights/WC/")


def test_a_run_that_changed_nothing_queues_no_warm_up() -> None:
    run = finished_run("municipal_money", "no_change")
    run_finished.send(sender=IngestionRun, run=run)
    assert WARM_TASK not in queued_functions()
