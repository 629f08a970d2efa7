"""The "run now" page of the ingestion runs queues a run of one source through ingestion_queue_run."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ingestion.models import IngestionRun, RunStatus

pytestmark = pytest.mark.django_db

RUN_NOW = "admin:ingestion_ingestionrun_run_now"


def test_a_moderator_may_not_run_a_source(moderator_client) -> None:
    assert moderator_client.get(reverse(RUN_NOW)).status_code == 403
    assert moderator_client.post(reverse(RUN_NOW), {"source": "dws", "kind": "full"}).status_code == 403
    assert b"run-now" not in moderator_client.get(reverse("admin:ingestion_ingestionrun_changelist")).content
    assert not IngestionRun.objects.exists()


def test_the_run_now_page_offers_the_pipelines_sources_and_kinds(superuser_client) -> None:
    assert b"run-now" in superuser_client.get(reverse("admin:ingestion_ingestionrun_changelist")).content
    page = superuser_client.get(reverse(RUN_NOW))
    assert page.status_code == 200
    for value in (b'value="municipal_money"', b'value="dws"', b'value="full"', b'value="change_check"'):
        assert value in page.content
    assert b'value="demo"' not in page.content


def test_run_now_queues_a_run_recording_who_asked(superuser_client) -> None:
    response = superuser_client.post(reverse(RUN_NOW), {"source": "dws", "kind": "full"}, follow=True)
    assert response.status_code == 200
    run = IngestionRun.objects.get()
    assert (run.source, run.kind, run.status, run.triggered_by) == ("dws", "full", RunStatus.QUEUED, "root")
    assert f"Run {run.pk} of dws is queued." in response.content.decode()


def test_a_second_run_of_a_source_under_way_is_refused_and_said_so(superuser_client) -> None:
    superuser_client.post(reverse(RUN_NOW), {"source": "municipal_money", "kind": "full"})
    response = superuser_client.post(reverse(RUN_NOW), {"source": "municipal_money", "kind": "full"}, follow=True)
    assert b"Refused" in response.content
    assert list(IngestionRun.objects.order_by("pk").values_list("status", flat=True)) == [
        RunStatus.QUEUED, RunStatus.REFUSED,
    ]


@pytest.mark.parametrize(("data", "field"), [
    ({"source": "elsewhere", "kind": "full"}, "source"),
    ({"source": "municipal_money", "kind": "change_check"}, "kind"),  # the Treasury source has no change check
])
def test_a_bad_choice_is_refused_naming_the_field(superuser_client, data: dict[str, str], field: str) -> None:
    page = superuser_client.post(reverse(RUN_NOW), data)
    assert page.status_code == 200 and field in page.context["form"].errors
    assert not IngestionRun.objects.exists()
