"""/api/v1/insights: every figure of the insights pages, for the same filters as the project list.

The bodies come from the same functions (and the same per-data-version cache) as the pages and their CSVs; bad
filters are a 422 naming each field, as on /api/v1/projects.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router

from bukaamanzi.apitools import ErrorOut, json_response
from bukaamanzi.lib.status import Status
from insights.figures import MIN_PROJECTS_TO_RANK, league_tables
from insights.pages import figure
from insights.schemas import (
    CapitalFigure,
    FlagFigure,
    Leagues,
    MunicipalityFigure,
    ProvinceFigure,
    StatusFigure,
    TypeFigure,
)
from municipalities.models import Province
from projects.api import filter_form
from projects.models import RedFlag
from projects.schemas import ProjectFilters

router = Router(tags=["insights"])
ERRORS = {422: ErrorOut}
SCOPE = ("Filters as on /api/v1/projects; demo projects are left out and a district includes its local "
         "municipalities. Recomputed whenever the data changes (ingestion, moderation, reports).")


def _figure(request: HttpRequest, name: str) -> dict[str, Any]:
    return figure(name, filter_form(request))


def _labelled(data: dict[str, Any], key: str, choices: Any) -> dict[str, Any]:
    """The figure with each row's code in words, in the request's language (figures are shared by all)."""
    return {**data, "rows": [{**row, "label": str(choices(row[key]).label)} for row in data["rows"]]}


@router.get("/status", response={200: StatusFigure, **ERRORS}, summary="Projects by status",
            description=SCOPE, operation_id="insights_status")
def status(request: HttpRequest, filters: Query[ProjectFilters]) -> HttpResponse:
    return json_response(request, _labelled(_figure(request, "status"), "status", Status))


@router.get("/types", response={200: TypeFigure, **ERRORS}, summary="Projects by type, most common first",
            description=SCOPE, operation_id="insights_types")
def types(request: HttpRequest, filters: Query[ProjectFilters]) -> HttpResponse:
    return json_response(request, _figure(request, "types"))


@router.get("/red-flags", response={200: FlagFigure, **ERRORS}, summary="Projects over budget, overdue and stalled",
            description=SCOPE, operation_id="insights_red_flags")
def red_flags(request: HttpRequest, filters: Query[ProjectFilters]) -> HttpResponse:
    return json_response(request, _labelled(_figure(request, "red-flags"), "flag", RedFlag))


@router.get("/capital", response={200: CapitalFigure, **ERRORS},
            summary="Capital budget against audited spending per financial year (National Treasury)",
            description="Only the province and municipality filters apply: Treasury reports capital per "
            "municipality, all services together. A district includes its local municipalities.",
            operation_id="insights_capital")
def capital(request: HttpRequest, filters: Query[ProjectFilters]) -> HttpResponse:
    return json_response(request, _figure(request, "capital"))


@router.get("/municipalities", response={200: MunicipalityFigure, **ERRORS},
            summary="Municipalities compared: projects, overdue, spending against budget, reports waiting",
            description=SCOPE, operation_id="insights_municipalities")
def municipalities(request: HttpRequest, filters: Query[ProjectFilters]) -> HttpResponse:
    return json_response(request, _figure(request, "municipalities"))


@router.get("/provinces", response={200: ProvinceFigure, **ERRORS}, summary="Provinces compared",
            description=SCOPE + " Every project counts once, in its own municipality's province.",
            operation_id="insights_provinces")
def provinces(request: HttpRequest, filters: Query[ProjectFilters]) -> HttpResponse:
    return json_response(request, _labelled(_figure(request, "provinces"), "province", Province))


@router.get("/leagues", response={200: Leagues, **ERRORS},
            summary="League tables: share overdue, spending against budget, reports waiting",
            description=SCOPE + f" Only municipalities with at least {MIN_PROJECTS_TO_RANK} projects are ranked "
            "(small samples skew rankings); highest first, every ranked municipality.",
            operation_id="insights_leagues")
def leagues(request: HttpRequest, filters: Query[ProjectFilters]) -> HttpResponse:
    data = _figure(request, "municipalities")
    return json_response(request, {**league_tables(data, limit=None), "min_projects": data["min_projects"],
                                   "sources": data["sources"]})
