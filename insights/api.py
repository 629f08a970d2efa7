"""/api/v1/insights: the insights endpoints."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["insights"])
