"""A test process that listens for the pushed data version, as a page process on PostgreSQL does
(projects/dataversion.py); the `listening` fixture is registered in tests/conftest.py."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from django.db import connection

from projects import dataversion


def wait_for(condition: Callable[[], object], what: str, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds} s: {what}")
        time.sleep(0.01)


@pytest.fixture
def listening(transactional_db: None) -> Iterator[None]:
    """This process listens, as a page process does, once it has heard the first version; writes in the test
    commit (transactional_db). Skipped on SpatiaLite, which has no notifications and reads the version per request."""
    if connection.vendor != "postgresql":
        pytest.skip("notifications are PostgreSQL's; SpatiaLite reads the version per request")
    from municipalities.models import Municipality
    from municipalities.services import municipality_load_reference

    if not Municipality.objects.exists():  # an earlier transactional test may have emptied every table
        municipality_load_reference()
    dataversion.disable_push()  # a clean start: no earlier test's write request still distrusting the push
    dataversion.enable_push()
    try:
        wait_for(lambda: dataversion.pushed_version() is not None, "the listener heard the first version")
        yield
    finally:
        dataversion.disable_push()
