"""Health of the site and its parts."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest
from ninja import Router, Schema
from ninja.responses import Status

router = Router(tags=["Health"])


class HealthOut(Schema):
    status: str
    database: str


@router.get("/health", response={200: HealthOut, 503: HealthOut}, summary="Is the site healthy?")
def health(request: HttpRequest) -> Status[HealthOut]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return Status(200, HealthOut(status="ok", database="ok"))
    except Exception:  # any database failure means the site cannot serve data
        return Status(503, HealthOut(status="error", database="unavailable"))
