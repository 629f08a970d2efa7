"""/api/v1/webhooks: the webhooks endpoints."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["webhooks"])
