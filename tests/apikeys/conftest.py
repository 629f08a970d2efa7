"""API key test set-up: a fresh, private rate-limit count for each test, and keys issued through the service."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.cache import caches

from apikeys.models import ApiKey
from apikeys.services import api_key_issue

Issue = Callable[..., tuple[ApiKey, str]]


@pytest.fixture(autouse=True)
def _private_rate_limit_cache(settings: pytest.FixtureRequest) -> None:
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "ratelimit": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "apikeys-tests"},
        "api": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "apikeys-bodies-tests"},
        "insights": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "apikeys-insights-tests"},
    }
    caches["ratelimit"].clear()


@pytest.fixture
def issue(db: None) -> Issue:
    def issue(scopes: tuple[str, ...] = ("sync:trigger",), **kwargs: object) -> tuple[ApiKey, str]:
        return api_key_issue(**{"name": "Ward 12 app", "owner_email": "Dev@Example.org", "scopes": scopes,
                                "moderator": "root", "reason": "Asked for by the ward councillor", **kwargs})

    return issue
