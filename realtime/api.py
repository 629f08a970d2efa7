"""Health of the site and its parts, and the state of the data pipeline.

`/health` keeps its original contract (`status`, `database`; 200, or 503 when the database is down) and adds the
channel layer and each source's last successful run. A channel layer that is down makes the site `degraded`
(pages and the API still work; live updates wait in the change log), not unavailable.
"""

from __future__ import annotations

import datetime as dt
import logging

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema
from ninja.responses import Status

from ingestion.models import IngestionRun
from ingestion.sources.base import source_names
from realtime import pipeline

router = Router(tags=["Health"])
logger = logging.getLogger(__name__)


class SourceHealth(Schema):
    source: str
    last_success_at: dt.datetime | None
    last_run_status: str | None
    last_run_at: dt.datetime | None


class HealthOut(Schema):
    status: str
    database: str
    channel_layer: str = "unknown"
    sources: list[SourceHealth] = []
    checked_at: dt.datetime | None = None


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:  # any database failure means the site cannot serve data
        logger.exception("Health check: database unavailable")
        return False


def _channel_layer_state() -> str:
    backend = settings.CHANNEL_LAYERS.get("default", {}).get("BACKEND", "")
    if "redis" not in backend.lower():
        return "ok"  # the in-memory layer (tests, single process) is up whenever the process is
    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
        try:
            client.ping()
        finally:
            client.close()
        return "ok"
    except Exception:  # a refused, missing or slow Redis all mean live updates cannot be sent now
        logger.warning("Health check: channel layer unavailable", exc_info=True)
        return "unavailable"


def _last(source: str, queryset: object) -> IngestionRun | None:
    return queryset.of_source(source).order_by("-created_at").first()  # type: ignore[attr-defined]


def _source_health() -> list[SourceHealth]:
    result = []
    for source in source_names():
        success = _last(source, IngestionRun.objects.successful())
        last = _last(source, IngestionRun.objects.all())
        result.append(SourceHealth(
            source=source,
            last_success_at=(success.finished_at or success.created_at) if success else None,
            last_run_status=last.status if last else None,
            last_run_at=(last.finished_at or last.started_at or last.created_at) if last else None,
        ))
    return result


@router.get("/health", response={200: HealthOut, 503: HealthOut}, summary="Is the site healthy?",
            operation_id="health")
def health(request: HttpRequest) -> Status[HealthOut]:
    now = timezone.now()
    channel_layer = _channel_layer_state()
    if not _database_ok():
        return Status(503, HealthOut(status="error", database="unavailable", channel_layer=channel_layer,
                                     checked_at=now))
    return Status(200, HealthOut(
        status="ok" if channel_layer == "ok" else "degraded", database="ok", channel_layer=channel_layer,
        sources=_source_health(), checked_at=now,
    ))


# --- Pipeline status ------------------------------------------------------------------------------------


class RunOut(Schema):
    id: int
    kind: str
    status: str
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    duration_seconds: float | None
    created_count: int
    updated_count: int
    unchanged_count: int
    failed_count: int
    error: str
    triggered_by: str


class BreakerOut(Schema):
    state: str
    fail_counter: int
    opened_at: dt.datetime | None
    cooldown_ends_at: dt.datetime | None
    last_error: str


class SourceStatus(Schema):
    source: str
    last_run: RunOut | None
    last_success_at: dt.datetime | None
    breaker: BreakerOut


class DataQuality(Schema):
    projects: int
    demo_projects: int
    with_location: float
    with_budget: float
    with_municipality: float


class PipelineOut(Schema):
    sources: list[SourceStatus]
    data_quality: DataQuality
    checked_at: dt.datetime


def _run(run: IngestionRun | None) -> RunOut | None:
    if run is None:
        return None
    return RunOut(
        id=run.pk, kind=run.kind, status=run.status, started_at=run.started_at, finished_at=run.finished_at,
        duration_seconds=run.duration_seconds, created_count=run.created_count, updated_count=run.updated_count,
        unchanged_count=run.unchanged_count, failed_count=run.failed_count, error=run.error,
        triggered_by="staff" if run.triggered_by else "",  # who exactly is for the admin, not the public
    )


def _breaker(breaker: pipeline.Breaker) -> BreakerOut:
    return BreakerOut(state=breaker.state, fail_counter=breaker.fail_counter, opened_at=breaker.opened_at,
                      cooldown_ends_at=breaker.cooldown_ends_at, last_error=breaker.last_error)


@router.get("/pipeline/status", response=PipelineOut, summary="Ingestion runs, breakers and data quality",
            operation_id="pipeline_status",
            description="Per source: last run, duration, counts, errors, breaker state. Data quality: the share of "
            "real (non-demo) projects with a location, a budget and a matched municipality.")
def pipeline_status(request: HttpRequest) -> PipelineOut:
    # The same computation as the pipeline status page (realtime/pipeline.py).
    status = pipeline.pipeline_status()
    quality = status.data_quality
    return PipelineOut(
        sources=[
            SourceStatus(source=state.source, last_run=_run(state.last_run), last_success_at=state.last_success_at,
                         breaker=_breaker(state.breaker))
            for state in status.sources
        ],
        data_quality=DataQuality(
            projects=quality.projects, demo_projects=quality.demo_projects, with_location=quality.with_location,
            with_budget=quality.with_budget, with_municipality=quality.with_municipality,
        ),
        checked_at=status.checked_at,
    )
