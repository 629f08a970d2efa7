"""A small country to compute the insights of by hand (the expected figures are in the tests that use it).

- DC10 Sarah Baartman (a district, Eastern Cape): one project of its own.
- EC101 Dr Beyers Naude (a local of DC10): five projects, one overdue and over budget, one completed past its end
  date (not overdue), one stalled, one with no budget, one sanitation project with no spending.
- CPT Cape Town (a metro, Western Cape): two projects, both overdue: too few to be ranked.
- EC102 Blue Crane Route: one demo project, overdue, with a problem report: left out everywhere.

Reports on EC101's first project: a problem waiting, a fixed problem, a problem moderators hid (flagged), and a
progress update; on Cape Town's first, a quality concern acknowledged (waiting). Capital data goes through the
service ingestion uses.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from bukaamanzi.lib.status import Status
from municipalities.services import CapitalAmount, capital_spend_sync
from reports.models import ReportState, ReportStatus, ReportType
from tests.factories import ProjectFactory, ReportFactory, municipality

PAST = dt.date(2020, 1, 1)
FETCHED = dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _insights_cache_in_memory(settings: Any) -> None:
    """Each test starts with an empty insights cache (the Redis one is tested in test_cache_redis) and no page kept
    whole (insights.pagecache)."""
    settings.CACHES = {**settings.CACHES, "insights": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": f"insights-{id(settings)}"}}
    from django.core.cache import caches

    from insights import pagecache
    from insights.cache import local_clear

    caches["insights"].clear()
    local_clear()
    pagecache.clear()


def _project(code: str, **fields: Any) -> Any:
    defaults: dict[str, Any] = {"status": Status.IMPLEMENTATION, "end_date": None, "progress_changed_at": None,
                                "budget_allocated": Decimal("100"), "budget_spent": Decimal("50"),
                                "project_type": "Water supply", "last_scraped_at": FETCHED}
    return ProjectFactory(municipality=municipality(code), **{**defaults, **fields})


@pytest.fixture
def country(db: None) -> dict[str, Any]:
    now = timezone.now()
    made: dict[str, Any] = {
        "D1": _project("DC10"),
        "E1": _project("EC101", end_date=PAST, budget_spent=Decimal("150")),
        "E2": _project("EC101", status=Status.COMPLETED, end_date=PAST, budget_allocated=Decimal("200"),
                       budget_spent=Decimal("200")),
        "E3": _project("EC101", status=Status.ON_HOLD, progress_changed_at=now - dt.timedelta(days=200),
                       budget_spent=Decimal("0")),
        "E4": _project("EC101", budget_allocated=None, budget_spent=Decimal("10")),
        "E5": _project("EC101", status=Status.IDENTIFICATION, project_type="Sanitation", budget_spent=None),
        "C1": _project("CPT", end_date=PAST, budget_allocated=Decimal("1000"), budget_spent=Decimal("100")),
        "C2": _project("CPT", end_date=PAST, budget_allocated=Decimal("1000"), budget_spent=Decimal("100")),
        "X": _project("EC102", end_date=PAST, is_demo=True, source="demo"),
    }
    issue, concern = ReportType.ISSUE, ReportType.QUALITY_CONCERN
    made["waiting"] = ReportFactory(project=made["E1"], report_type=issue, state=ReportState.OPEN)
    ReportFactory(project=made["E1"], report_type=issue, state=ReportState.FIXED)
    made["hidden"] = ReportFactory(project=made["E1"], report_type=issue, state=ReportState.OPEN,
                                   status=ReportStatus.FLAGGED)
    ReportFactory(project=made["E1"], report_type=ReportType.PROGRESS_UPDATE)
    ReportFactory(project=made["X"], report_type=issue, state=ReportState.OPEN)
    made["concern"] = ReportFactory(project=made["C1"], report_type=concern, state=ReportState.ACKNOWLEDGED)
    amounts = [
        ("DC10", "2023/2024", "ORGB", "1000"), ("DC10", "2023/2024", "AUDA", "800"),
        ("EC101", "2023/2024", "ORGB", "500"), ("EC101", "2023/2024", "ADJB", "600"),
        ("EC101", "2023/2024", "AUDA", "300"),
        ("CPT", "2023/2024", "ORGB", "10000"), ("CPT", "2023/2024", "AUDA", "5000"),
        ("CPT", "2022/2023", "AUDA", "4000"),
    ]
    capital_spend_sync(amounts=[CapitalAmount(c, y, t, Decimal(a)) for c, y, t, a in amounts],
                       source="municipal_money", fetched_at=FETCHED)
    return made
