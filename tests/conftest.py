"""Shared test set-up: real SpatiaLite or PostGIS (from DATABASE_URL), isolated media, in-memory channels
for unit tests (tests that need the real Redis ask for the `redis_server` fixture)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from bukaamanzi.lib.redis_server import start_private_redis
from tests.pushed import listening  # noqa: F401  (a fixture, shared by the tests of the pushed version)


@pytest.fixture(autouse=True)
def _isolated_media_and_memory_channels(settings: pytest.FixtureRequest, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _media_served_from_this_tests_root(
    _isolated_media_and_memory_channels: None, settings: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """bukaamanzi.urls reads MEDIA_ROOT once, on import, while each test stores its files in its own MEDIA_ROOT
    (above): without this, MEDIA_URL would serve the first test's files, and an old photo URL could answer 200."""
    from bukaamanzi import urls

    for pattern in urls.urlpatterns:
        if getattr(pattern, "default_args", {}).get("document_root") is not None:
            monkeypatch.setitem(pattern.default_args, "document_root", settings.MEDIA_ROOT)  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _each_test_starts_in_the_default_language(settings: pytest.FixtureRequest) -> Iterator[None]:
    """A request through the test client leaves its language active in the thread (LocaleMiddleware activates it and
    nothing deactivates it), so a later test's messages would come out in, say, Afrikaans."""
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)  # type: ignore[attr-defined]
    yield
    translation.deactivate()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    """A private redis-server on a unix socket, for tests that need the real channel layer."""
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed (make test installs it)")
    directory = Path(tempfile.mkdtemp(prefix="ba-redis-"))
    socket = directory / "redis.sock"
    process = start_private_redis(socket)
    yield f"unix://{socket}"
    process.terminate()
    process.wait(timeout=10)
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: pytest.FixtureRequest) -> None:
    """Every test database starts with the 257 reference municipalities, as a real site does."""
    from municipalities.services import municipality_load_reference

    with django_db_blocker.unblock():
        municipality_load_reference()


@pytest.fixture(autouse=True)
def _reference_municipalities_outlive_transactional_tests(request: pytest.FixtureRequest) -> Iterator[None]:
    """A transactional test ends by emptying every table; put the reference list back for the tests after it."""
    yield
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or "live_server" in request.fixturenames or (
        marker is not None and marker.kwargs.get("transaction", False)
    )
    if transactional:
        from municipalities.models import Municipality
        from municipalities.services import municipality_load_reference

        with request.getfixturevalue("django_db_blocker").unblock():
            if not Municipality.objects.exists():
                municipality_load_reference()
