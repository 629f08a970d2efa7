"""Helpers for the ingestion tests: saved source responses live next to the tests, never outside the repo."""

from collections.abc import Callable
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def fixture_text() -> Callable[[str, str], str]:
    """Read a saved response: fixture_text("dws", "level_index.html")."""

    def read(source: str, name: str) -> str:
        return (FIXTURES / source / name).read_text(encoding="utf-8")

    return read
