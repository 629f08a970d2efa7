"""The forecast read from a project's real change history: the project page and the forecast endpoint.

Progress is written the way ingestion writes it (project_upsert_from_source), each fetch on its own day: the change
log stamps its rows with the clock, so the clock is set to that day for the write.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone, translation

from changelog.models import DataChangeLog
from insights.forecast import Outcome
from insights.forecast_project import progress_points, project_forecast
from projects.models import Project, Status
from projects.services import project_upsert_from_source
from tests.factories import municipality

pytestmark = pytest.mark.django_db

START = dt.date(2025, 1, 6)


def fetch(monkeypatch: pytest.MonkeyPatch, days: int, progress: str, *, external_id: str = "MM-1",
          end_date: dt.date | None = dt.date(2025, 6, 5)) -> Project:
    """One ingestion fetch of the project on START + days, at noon in South Africa, giving this progress."""
    at = timezone.make_aware(dt.datetime.combine(START + dt.timedelta(days=days), dt.time(12)))
    values = {"name": "Reservoir upgrade", "municipality": municipality("CPT"), "status": Status.IMPLEMENTATION,
              "start_date": START, "end_date": end_date, "progress_percentage": Decimal(progress)}
    with monkeypatch.context() as patch, transaction.atomic():
        patch.setattr(timezone, "now", lambda: at)
        return project_upsert_from_source(source="municipal_money", external_id=external_id, values=values,
                                          fetched_at=at).project


@pytest.fixture
def late_project(monkeypatch: pytest.MonkeyPatch) -> Project:
    # 0 % to 50 % over 180 days: 100 % on day 360 (1 January 2026), against a planned end of day 150.
    for days, progress in ((0, "0"), (90, "25"), (180, "50")):
        project = fetch(monkeypatch, days, progress)
    return project


def test_progress_points_come_from_the_change_log_one_per_fetch(late_project: Project) -> None:
    points = progress_points(late_project.pk)
    assert [(p.day, p.percent) for p in points] == [(START, 0.0), (dt.date(2025, 4, 6), 25.0),
                                                     (dt.date(2025, 7, 5), 50.0)]


def test_changes_to_other_fields_are_not_progress_points(late_project: Project, monkeypatch) -> None:
    at = timezone.make_aware(dt.datetime(2025, 8, 1, 12))
    with monkeypatch.context() as patch, transaction.atomic():
        patch.setattr(timezone, "now", lambda: at)
        project_upsert_from_source(source="municipal_money", external_id="MM-1", fetched_at=at, values={
            "name": "Reservoir upgrade, phase 2", "progress_percentage": Decimal("50")})
    assert DataChangeLog.objects.for_entity("project", late_project.pk).count() == 4
    assert len(progress_points(late_project.pk)) == 3


def test_late_project_page_says_about_seven_months_late_and_how(client, late_project: Project,
                                                                  django_assert_max_num_queries) -> None:
    forecast = project_forecast(late_project.pk, late_project.end_date)
    assert (forecast.outcome, forecast.completion, forecast.months_late) == (
        Outcome.FORECAST, dt.date(2026, 1, 1), 7)
    with django_assert_max_num_queries(12):
        html = client.get(f"/projects/{late_project.pk}/").content.decode()
    assert 'id="project-forecast"' in html
    assert "Likely complete around 1 January 2026." in html  # on a straight line: no range to show
    assert "<strong>Against the planned end date of 5 June 2025: likely about 7 months late.</strong>" in html
    assert "least squares" in html  # the method in plain words, readable without JavaScript (<details>)
    assert "Based on 3 progress figures over 180 days." in html


def test_new_project_has_not_enough_history_to_forecast(client, monkeypatch) -> None:
    project = fetch(monkeypatch, 0, "10", external_id="MM-2")
    html = client.get(f"/projects/{project.pk}/").content.decode()
    assert "Not enough history to forecast." in html
    assert "months late" not in html


def test_scattered_history_shows_its_range(client, monkeypatch) -> None:
    for days, progress in ((0, "0"), (100, "30"), (200, "40")):
        project = fetch(monkeypatch, days, progress, external_id="MM-5", end_date=None)
    # The hand-computed fit of tests/insights/test_forecast.py: days 343, 483 and 1007 after START.
    html = client.get(f"/projects/{project.pk}/").content.decode()
    assert "Likely complete around 4 May 2026 (between 15 December 2025 and 10 October 2027)." in html
    assert "Against the planned end date" not in html


def test_stalled_project_page_says_no_progress_no_forecast(client, monkeypatch) -> None:
    fetch(monkeypatch, 0, "30", external_id="MM-3")
    fetch(monkeypatch, 100, "31", external_id="MM-3")
    project = fetch(monkeypatch, 200, "30", external_id="MM-3")
    html = client.get(f"/projects/{project.pk}/").content.decode()
    assert "No progress, no forecast" in html


def test_forecast_api_gives_dates_range_and_words(client, late_project: Project,
                                                  django_assert_max_num_queries) -> None:
    with django_assert_max_num_queries(2):
        response = client.get(f"/api/v1/insights/projects/{late_project.pk}/forecast")
    assert response.status_code == 200
    body = response.json()
    assert body["outcome"] == "forecast"
    assert (body["completion"], body["earliest"], body["latest"]) == ("2026-01-01", "2026-01-01", "2026-01-01")
    assert (body["planned_end"], body["months_late"], body["points"], body["span_days"]) == ("2025-06-05", 7, 3, 180)
    assert body["lateness"] == "likely about 7 months late"
    assert body["summary"] == ("Likely complete around 1 January 2026. "
                               "Against the planned end date of 5 June 2025: likely about 7 months late.")
    assert "least squares" in body["method"]


def test_forecast_api_names_the_bad_or_unknown_project_id(client) -> None:
    bad = client.get("/api/v1/insights/projects/not-a-uuid/forecast")
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "project_id"
    missing = client.get(f"/api/v1/insights/projects/{uuid.uuid4()}/forecast")
    assert missing.status_code == 404 and missing.json()["detail"][0]["field"] == "project_id"


def test_forecast_words_go_through_translation(late_project: Project, monkeypatch) -> None:
    """Every sentence is looked up in the catalogue (the lead adds the translations): a stand-in catalogue that
    marks each lookup shows that none is printed as a fixed English string."""
    from insights import forecast_project

    monkeypatch.setattr(forecast_project, "_", lambda text: f"«{text}»")
    monkeypatch.setattr(forecast_project, "ngettext",
                        lambda one, many, n: f"«{one if n == 1 else many}»")
    forecast = project_forecast(late_project.pk, late_project.end_date)
    with translation.override("en"):
        summary = forecast_project.summary_text(forecast)
        assert summary.startswith("«Likely complete around") and "«likely about %(months)d months late»" not in summary
        assert "«likely about 7 months late»" in summary
        assert forecast_project.method_text().startswith("«Each time")


def test_completed_or_cancelled_project_gets_no_forecast(client, monkeypatch) -> None:
    for days, progress in ((0, "0"), (90, "25"), (180, "50")):
        project = fetch(monkeypatch, days, progress, external_id="MM-4")
    Project.objects.filter(pk=project.pk).update(status=Status.CANCELLED)
    body = client.get(f"/api/v1/insights/projects/{project.pk}/forecast").json()
    assert (body["outcome"], body["completion"], body["points"]) == ("cancelled", None, 3)
    Project.objects.filter(pk=project.pk).update(status=Status.COMPLETED)
    html = client.get(f"/projects/{project.pk}/").content.decode()
    assert "The source reports this project complete." in html and "months late" not in html
