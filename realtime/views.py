"""The pipeline status page: per source the last run and its breaker, and data quality (live while open)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from realtime.pipeline import pipeline_status


def pipeline_page(request: HttpRequest) -> HttpResponse:
    return render(request, "realtime/pipeline.html", {"pipeline": pipeline_status()})
