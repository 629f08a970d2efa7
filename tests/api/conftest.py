"""API test set-up: a JSON client, a fresh, private rate-limit count and response cache for each test."""

from __future__ import annotations

import pytest
from django.core.cache import caches
from django.test import Client

from projects.maplayer import GRIDS


@pytest.fixture(autouse=True)
def _private_rate_limit_cache(settings: pytest.FixtureRequest) -> None:
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "ratelimit": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "api-tests"},
        "api": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "api-bodies-tests"},
        "insights": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "api-insights-tests"},
    }
    caches["ratelimit"].clear()
    caches["api"].clear()
    GRIDS.clear()


@pytest.fixture
def api() -> Client:
    return Client()


def ids(response: object) -> set[str]:
    return {item["id"] for item in response.json()["items"]}  # type: ignore[attr-defined]


def fields(response: object) -> set[str | None]:
    return {error["field"] for error in response.json()["detail"]}  # type: ignore[attr-defined]
