"""The data-quality pages and the forecast section in a real browser: no serious or critical WCAG 2.2 A/AA
violations (axe-core), and the forecast's explanation opens without JavaScript."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from projects.models import Status
from projects.services import project_upsert_from_source
from tests.browser import conftest as browser_fixtures
from tests.browser.conftest import axe_violations
from tests.factories import municipality

# The browser tests' fixtures, made available here (a conftest's fixtures reach only its own folder).
browser, site, page = browser_fixtures.browser, browser_fixtures.site, browser_fixtures.page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _insights_cache_in_memory(settings: Any) -> None:
    settings.CACHES = {**settings.CACHES, "insights": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                                        "LOCATION": "insights-browser-tests"}}


def late_project(monkeypatch: pytest.MonkeyPatch) -> str:
    start = dt.date(2025, 1, 6)
    for days, progress in ((0, "0"), (100, "30"), (200, "40")):
        at = timezone.make_aware(dt.datetime.combine(start + dt.timedelta(days=days), dt.time(12)))
        with monkeypatch.context() as patch, transaction.atomic():
            patch.setattr(timezone, "now", lambda at=at: at)
            project = project_upsert_from_source(source="municipal_money", external_id="AXE-1", fetched_at=at, values={
                "name": "Reservoir upgrade", "municipality": municipality("CPT"), "status": Status.IMPLEMENTATION,
                "start_date": start, "end_date": dt.date(2025, 9, 1), "progress_percentage": Decimal(progress)}).project
    return str(project.pk)


def test_quality_pages_and_forecast_have_no_serious_accessibility_violations(page, site, monkeypatch) -> None:
    project = late_project(monkeypatch)
    page.goto(f"{site}/projects/{project}/")
    page.get_by_text("How this is worked out").click()
    assert page.get_by_text("least squares", exact=False).is_visible()
    assert axe_violations(page) == []
    page.goto(f"{site}/insights/data-quality/")
    assert page.get_by_role("heading", name="By municipality").is_visible()
    assert axe_violations(page) == []

    get_user_model().objects.create_user("moderator", password="a long test password", is_staff=True)
    page.goto(f"{site}/insights/data-quality/records/")
    page.fill("#id_username", "moderator")
    page.fill("#id_password", "a long test password")
    page.click("input[type=submit]")
    page.get_by_role("link", name="No location").click()
    assert page.get_by_role("link", name="Edit Reservoir upgrade in the admin").is_visible()
    assert axe_violations(page) == []
