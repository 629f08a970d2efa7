"""The one error of the Open311 endpoints: an HTTP status and one or more descriptions, rendered by
`open311.formats` in the specification's shape (`[{"code": 400, "description": "…"}]`)."""

from __future__ import annotations

from collections.abc import Sequence


class Open311Error(Exception):
    def __init__(self, status: int, *descriptions: str, retry_after: int | None = None) -> None:
        super().__init__(descriptions[0] if descriptions else "")
        self.status = status
        self.descriptions: Sequence[str] = descriptions
        self.retry_after = retry_after  # seconds, for a 429
