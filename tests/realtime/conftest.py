"""Helpers for live-update tests.

Tests are sync functions that drive async scenarios through `async_to_sync`: the consumers' database reads
(`database_sync_to_async`) then run on the test's own thread and connection, inside its transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator

from bukaamanzi.asgi import application
from changelog.models import DataChangeLog
from realtime.consumers import _ConnectionCount

HEADERS = [(b"origin", b"http://localhost"), (b"host", b"localhost")]


@pytest.fixture(autouse=True)
def _keep_the_test_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    """Channels closes "old" connections around every database call; inside a test's transaction PostgreSQL's
    connection counts as unusable (autocommit is off), and closing it would end the test's transaction."""
    monkeypatch.setattr("channels.db.close_old_connections", lambda: None)


@pytest.fixture(autouse=True)
def _nothing_pending(db: None) -> Iterator[None]:
    """Rows written while setting up the test database are not what these tests are about."""
    DataChangeLog.objects.update(notification_sent=True)
    _ConnectionCount.open = 0
    yield
    _ConnectionCount.open = 0


async def connect(path: str = "/ws/projects") -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, path, headers=HEADERS)
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    return communicator


async def send(communicator: WebsocketCommunicator, **message: Any) -> dict[str, Any]:
    await communicator.send_to(text_data=json.dumps(message))
    return await receive(communicator)


async def receive(communicator: WebsocketCommunicator, timeout: float = 3) -> dict[str, Any]:
    return json.loads(await communicator.receive_from(timeout=timeout))
