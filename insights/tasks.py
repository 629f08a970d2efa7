"""Warm the insights after an ingestion run, in the django-q2 worker, so that the first visitor after a run is
served from the cache rather than waiting for the recompute (bench/insights: the recompute times are in README).

Figures are also computed lazily on the first read of a new data version, so a warm-up that fails or comes late
costs time, never correctness.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.http import urlencode
from django_q.tasks import async_task

from ingestion.models import IngestionRun, RunStatus
from insights.pages import scope_body
from municipalities.models import Province
from projects.dataversion import data_version
from projects.filters import ProjectFilterForm

logger = logging.getLogger(__name__)
WARM_TASK = "insights.tasks.warm_figures"
# Runs that may have changed the data; a run with no change leaves the data version, and so the cache, as it was.
CHANGING = (RunStatus.SUCCESS, RunStatus.PARTIAL)


def warm_figures() -> float:
    """Compute the national and the nine province pages' figures for the site's language; returns seconds."""
    started = time.perf_counter()
    version = data_version()
    with translation.override(settings.LANGUAGE_CODE):
        scopes: list[tuple[dict[str, str], dict[str, Any]]] = [({}, {"kind": "national", "query": ""})]
        scopes += [({"province": code}, {"kind": "province", "query": urlencode({"province": code}),
                                         "province": code, "name": str(Province(code).label)})
                   for code in Province.values]
        for data, scope in scopes:
            form = ProjectFilterForm(data)
            form.is_valid()
            scope_body(form, scope=scope, version=version)
    seconds = time.perf_counter() - started
    logger.info("insights warmed in %.2f s", seconds)
    return seconds


def warm_after_run(sender: type[IngestionRun], run: IngestionRun, **_: Any) -> None:
    """Receiver of ingestion's `run_finished`: queue a warm-up when the run may have changed the data."""
    if run.status not in CHANGING:
        return
    try:
        async_task(WARM_TASK, task_name=f"insights: warm after run {run.pk}")
    except Exception:  # never raise into ingestion: the figures are computed on first read anyway
        logger.warning("could not queue the insights warm-up after run %s", run.pk, exc_info=True)
