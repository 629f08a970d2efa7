"""Figures are kept per data version: reused while nothing changes, recomputed after a moderation or an ingestion,
and shared through Redis when the site runs with it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.cache import caches

from insights.pages import figure
from municipalities.services import CapitalAmount, capital_spend_sync
from projects.filters import ProjectFilterForm
from projects.services import project_correct
from reports.services import report_mark_spam, report_publish
from tests.insights.conftest import FETCHED

pytestmark = pytest.mark.django_db


def national() -> ProjectFilterForm:
    form = ProjectFilterForm({})
    assert form.is_valid()
    return form


def waiting(code: str) -> int:
    rows = figure("municipalities", national())["rows"]
    return next(row["waiting"] for row in rows if row["code"] == code)


def test_a_kept_figure_costs_one_query_for_the_data_version(country: dict, django_assert_num_queries: Any) -> None:
    first = figure("status", national())
    with django_assert_num_queries(1):
        assert figure("status", national()) == first


def test_moderation_hides_a_report_from_the_figures_at_once(country: dict) -> None:
    assert waiting("CPT") == 1
    report_mark_spam(reports=[country["concern"]], moderator="mod", reason="advert")
    assert waiting("CPT") == 0
    country["hidden"].refresh_from_db()
    report_publish(reports=[country["hidden"]], moderator="mod", reason="fine after all")
    assert waiting("EC101") == 2


def test_an_ingested_capital_amount_replaces_the_kept_figure(country: dict) -> None:
    before = figure("capital", national())["rows"][-1]
    assert before["actual"] == Decimal("6100.00")
    capital_spend_sync(amounts=[CapitalAmount("CPT", "2023/2024", "AUDA", Decimal("5900"))],
                       source="municipal_money", fetched_at=FETCHED)
    assert figure("capital", national())["rows"][-1]["actual"] == Decimal("7000.00")


def test_a_moderators_correction_changes_the_status_figure(country: dict) -> None:
    project_correct(project=country["E5"], values={"status": "cancelled"}, moderator="mod", reason="source error")
    rows = {row["status"]: row["count"] for row in figure("status", national())["rows"]}
    assert rows["cancelled"] == 1 and rows["identification"] == 0


def test_figures_are_shared_through_redis(country: dict, redis_server: str, settings: Any,
                                          django_assert_num_queries: Any) -> None:
    settings.CACHES = {**settings.CACHES, "insights": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_server, "KEY_PREFIX": "t-ins"}}
    caches["insights"].clear()
    first = figure("red-flags", national())
    with django_assert_num_queries(1):
        assert figure("red-flags", national()) == first
    assert any(key for key in caches["insights"]._cache.get_client().keys("t-ins*"))  # type: ignore[attr-defined]


def test_a_cache_outage_serves_computed_figures(country: dict, settings: Any) -> None:
    settings.CACHES = {**settings.CACHES, "insights": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "unix:///nonexistent/redis.sock",
        "OPTIONS": {"socket_connect_timeout": 0.2}}}
    assert figure("status", national())["total"] == 8
