"""Webhook tests: private addresses allowed (the receivers listen on 127.0.0.1), short timeouts and retry delays,
a private rate-limit count, API keys issued through the service, and receivers started per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.core.cache import caches

from apikeys.models import ApiKey
from apikeys.services import api_key_issue
from tests.webhooks.receivers import Receiver

Issue = Callable[..., tuple[ApiKey, str]]


@pytest.fixture(autouse=True)
def _webhook_settings(settings: pytest.FixtureRequest) -> None:
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    settings.WEBHOOKS_TIMEOUT = 0.5
    settings.WEBHOOKS_CONNECT_TIMEOUT = 1.0
    settings.WEBHOOKS_RETRY_DELAY_SECONDS = [5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0]
    settings.CACHES = {
        **settings.CACHES,  # type: ignore[attr-defined]
        "ratelimit": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "webhooks-tests"},
    }
    caches["ratelimit"].clear()


@pytest.fixture
def issue(db: None) -> Issue:
    def issue(scopes: tuple[str, ...] = ("webhooks",), **kwargs: object) -> tuple[ApiKey, str]:
        return api_key_issue(**{"name": "Ward 12 app", "owner_email": "dev@example.org", "scopes": scopes,
                                "moderator": "root", "reason": "Asked for by the ward councillor", **kwargs})

    return issue


@pytest.fixture
def receiver() -> Iterator[Callable[..., Receiver]]:
    started: list[Receiver] = []

    def start(**kwargs: object) -> Receiver:
        started.append(Receiver(**kwargs).start())  # type: ignore[arg-type]
        return started[-1]

    yield start
    for one in started:
        one.stop()
