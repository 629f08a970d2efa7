"""Alert tests send through Django's SMTP backend to a real SMTP server they start (tests/alerts/smtp.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import caches

from tests.alerts.smtp import Mailbox, SmtpServer


@pytest.fixture(autouse=True)
def _private_rate_limit_cache(settings: pytest.FixtureRequest) -> None:
    settings.CACHES = {
        **settings.CACHES,
        "ratelimit": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "alerts-tests"},
    }
    caches["ratelimit"].clear()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mailbox(smtp_server: SmtpServer, settings: pytest.FixtureRequest) -> Mailbox:
    """The received mail of a real SMTP server that the site's email settings point at."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp_server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    settings.SITE_URL = "https://bukaamanzi.example"
    return smtp_server.mailbox
