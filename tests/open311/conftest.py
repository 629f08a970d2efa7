"""Open311 test set-up: a private rate-limit count per test, keys issued through the service, and a report posted
the way a client posts it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
from django.core.cache import caches
from django.test import Client
from django.test.client import MULTIPART_CONTENT

from apikeys.models import Scope
from apikeys.services import api_key_issue

Post = Callable[..., Any]


@pytest.fixture(autouse=True)
def _private_rate_limit_cache(settings: pytest.FixtureRequest) -> None:
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "ratelimit": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "open311-tests"},
        "api": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "open311-bodies"},
    }
    caches["ratelimit"].clear()


@pytest.fixture
def secret(db: None) -> str:
    return api_key_issue(name="Ward 12 app", owner_email="dev@example.org", scopes=[Scope.OPEN311_POST],
                         moderator="root", reason="Asked for by the ward councillor")[1]


def fields(**overrides: str) -> dict[str, str]:
    """A request that a client would send: a leak in Cape Town, with a sender."""
    return {"service_code": "issue", "lat": "-33.9249", "long": "18.4241",
            "description": "Water leaking from the pipe near the school gate.\nIt has been running for days.",
            "email": "thandi@example.org", "first_name": "Thandi", "last_name": "M", **overrides}


@pytest.fixture
def post(client: Client, secret: str) -> Post:
    """POST requests as a form (urlencoded, or multipart with `files`); a field given as None is left out."""
    def post(fmt: str = "json", files: dict[str, Any] | None = None, **overrides: str | None) -> Any:
        data = {name: value for name, value in {"api_key": secret, **fields(), **overrides}.items()
                if value is not None}
        if files is not None:
            return client.post(f"/open311/v2/requests.{fmt}", {**data, **files}, content_type=MULTIPART_CONTENT)
        return client.post(f"/open311/v2/requests.{fmt}", urlencode(data),
                           content_type="application/x-www-form-urlencoded")
    return post
