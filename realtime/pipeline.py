"""The state of the data pipeline: each source's last run and breaker, and how complete the data is.

One computation serves the API (`GET /api/v1/pipeline/status`), the pipeline status page and the live push to
open copies of that page. Ingestion sends `run_changed` after a run changes state (`realtime.receivers` calls
`pipeline_push`) (queued, running, finished); it renders the panel here, in the writing process, so page
consumers only forward HTML. """

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db.models import Count, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation

from bukaamanzi.lib.sources import source_info
from ingestion.models import CircuitState, IngestionRun, SourceCircuit
from ingestion.sources.base import source_names
from projects.models import Project
from realtime.groups import html_pipeline_group
from realtime.layers import groups_listened
from realtime.outage import push_failed

logger = logging.getLogger(__name__)

PIPELINE_FRAGMENT = "realtime/fragments/pipeline.html"


@dataclass(frozen=True)
class Breaker:
    state: str
    fail_counter: int
    opened_at: dt.datetime | None
    cooldown_ends_at: dt.datetime | None
    last_error: str

    @property
    def label(self) -> str:
        return str(CircuitState(self.state).label) if self.state in CircuitState.values else self.state


@dataclass(frozen=True)
class SourceState:
    source: str
    last_run: IngestionRun | None
    last_success_at: dt.datetime | None
    breaker: Breaker

    @property
    def label(self) -> str:
        return str(source_info(self.source).title)


@dataclass(frozen=True)
class DataQuality:
    projects: int
    demo_projects: int
    with_location: float
    with_budget: float
    with_municipality: float


@dataclass(frozen=True)
class PipelineStatus:
    sources: list[SourceState]
    data_quality: DataQuality
    checked_at: dt.datetime


def breaker_of(source: str) -> Breaker:
    # Read only (unlike ingestion.http.breaker_status): a status page must not create rows; a source never
    # called yet has no row and is closed.
    row = SourceCircuit.objects.filter(source=source).first()
    if row is None:
        return Breaker(state=CircuitState.CLOSED, fail_counter=0, opened_at=None, cooldown_ends_at=None, last_error="")
    cooldown_ends = (
        row.opened_at + dt.timedelta(seconds=settings.BREAKER_COOLDOWN_SECONDS)
        if row.state == CircuitState.OPEN and row.opened_at else None
    )
    return Breaker(state=row.state, fail_counter=row.fail_counter, opened_at=row.opened_at,
                   cooldown_ends_at=cooldown_ends, last_error=row.last_error)


def data_quality() -> DataQuality:
    """Shares (0 to 1) of real, non-demo projects with a location, a budget and a matched municipality."""
    real = Project.objects.real()
    counts = real.aggregate(
        n=Count("id"),
        located=Count("id", filter=Q(location__isnull=False)),
        matched=Count("id", filter=Q(municipality__isnull=False)),
    )
    total = counts["n"]

    def share(value: int) -> float:
        return round(value / total, 4) if total else 0.0

    budgeted = (
        real.filter(Q(budget_allocated__isnull=False) | Q(budgets__isnull=False)).distinct().count() if total else 0
    )
    return DataQuality(
        projects=total,
        demo_projects=Project.objects.filter(is_demo=True).count(),
        with_location=share(counts["located"]),
        with_budget=share(budgeted),
        with_municipality=share(counts["matched"]),
    )


def source_state(source: str) -> SourceState:
    success = IngestionRun.objects.successful().of_source(source).order_by("-created_at").first()
    return SourceState(
        source=source,
        last_run=IngestionRun.objects.of_source(source).order_by("-created_at").first(),
        last_success_at=(success.finished_at or success.created_at) if success else None,
        breaker=breaker_of(source),
    )


def pipeline_status() -> PipelineStatus:
    return PipelineStatus(
        sources=[source_state(source) for source in source_names()], data_quality=data_quality(),
        checked_at=timezone.now(),
    )


def render_pipeline(status: PipelineStatus, language: str) -> str:
    with translation.override(language):
        return render_to_string(PIPELINE_FRAGMENT, {"pipeline": status})


def pipeline_push() -> None:
    """Send the panel to open pipeline pages, in each open page's language. Never raises: the run is already
    recorded, and an open page catches up on its next poll or reconnect."""
    try:
        wanted = {html_pipeline_group(code): code for code, _ in settings.LANGUAGES}
        listened = async_to_sync(_listened)(list(wanted))
        if not listened:
            return  # nobody has the page open: no database reads, no rendering
        # Rendered here, in the caller's thread and connection, not in a consumer.
        status = pipeline_status()
        html = {group: render_pipeline(status, wanted[group]) for group in sorted(listened)}
        async_to_sync(_send)(html)
    except Exception as exc:
        push_failed("Pipeline status push", exc)


async def _listened(groups: list[str]) -> set[str]:
    layer = get_channel_layer()
    if layer is None:
        return set()
    return await asyncio.wait_for(groups_listened(layer, groups), settings.RELAY_SEND_TIMEOUT_SECONDS)


async def _send(html: dict[str, str]) -> None:
    layer = get_channel_layer()
    for group, text in html.items():
        await asyncio.wait_for(
            layer.group_send(group, {"type": "html.fragments", "html": text}), settings.RELAY_SEND_TIMEOUT_SECONDS
        )
