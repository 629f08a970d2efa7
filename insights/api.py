"""/api/v1/insights: every figure of the insights pages, for the same filters as the project list.

The bodies come from the same functions (and the same per-data-version cache) as the pages and their CSVs; bad
filters are a 422 naming each field, as on /api/v1/projects.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router

from bukaamanzi.apitools import ErrorOut, json_response, not_found, parse_uuid
from bukaamanzi.lib.status import Status
from insights.figures import MIN_PROJECTS_TO_RANK, league_tables
from insights.forecast_project import forecast_body, project_forecast
from insights.forecast_schemas import ForecastOut
from insights.pages import figure
from insights.quality import filter_params, filtered, quality_table
from insights.quality_csv import quality_csv
from insights.quality_schemas import MunicipalityQualityTable, SourceQualityTable
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
from projects.models import Project, RedFlag
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


# --- Completion forecast and data quality (insights.forecast_project, insights.quality) -----------------------

FILTERS_NOTE = ("Takes the project list's filters (province, municipality_id, status, project_type, flag, q, bbox, "
                "center); demo data is left out. A bad filter is a 422 naming the field.")


@router.get("/projects/{project_id}/forecast", response={200: ForecastOut, 404: ErrorOut, 422: ErrorOut},
            summary="A project's completion forecast", operation_id="insights_project_forecast",
            description="A straight line fitted by least squares through the project's progress figures (as "
            "recorded in its change history, one per day), carried forward to 100 %; the range is the slope plus "
            "or minus two standard errors. Needs at least 3 figures over at least 90 days.")
def project_forecast_endpoint(request: HttpRequest, project_id: str) -> HttpResponse:
    # Two small queries (planned end and status, progress entries): cheaper than reading the data version to cache.
    pk = parse_uuid(project_id, "project_id")
    found = Project.objects.filter(pk=pk).values_list("end_date", "status").first()
    if found is None:
        raise not_found("project_id", _("No project has this id."))
    return json_response(request, forecast_body(pk, project_forecast(pk, *found)))


def _quality(request: HttpRequest, grouping: str) -> dict[str, Any]:
    form = filter_form(request)
    return quality_table(grouping, filtered(form), filter_params(request.GET, form))


@router.get("/data-quality/sources", response={200: SourceQualityTable, 422: ErrorOut},
            summary="Data quality per source", operation_id="insights_quality_sources", description=FILTERS_NOTE)
def quality_sources(request: HttpRequest, filters: Query[ProjectFilters]) -> HttpResponse:
    return json_response(request, _quality(request, "source"))


@router.get("/data-quality/municipalities", response={200: MunicipalityQualityTable, 422: ErrorOut},
            summary="Data quality per municipality", operation_id="insights_quality_municipalities",
            description=FILTERS_NOTE)
def quality_municipalities(request: HttpRequest, filters: Query[ProjectFilters]) -> HttpResponse:
    return json_response(request, _quality(request, "municipality"))


def _csv_operation(path: str, summary: str, operation_id: str) -> Any:
    return router.get(path, response={200: None, 422: ErrorOut}, summary=summary, operation_id=operation_id,
                      description=FILTERS_NOTE, openapi_extra={"responses": {"200": {
                          "description": summary, "content": {"text/csv": {"schema": {"type": "string"}}}}}})


@_csv_operation("/data-quality/sources.csv", "Data quality per source, as CSV", "insights_quality_sources_csv")
def quality_sources_csv(request: HttpRequest, filters: Query[ProjectFilters]) -> HttpResponse:
    return quality_csv(_quality(request, "source"), "source")


@_csv_operation("/data-quality/municipalities.csv", "Data quality per municipality, as CSV",
                "insights_quality_municipalities_csv")
def quality_municipalities_csv(request: HttpRequest, filters: Query[ProjectFilters]) -> HttpResponse:
    return quality_csv(_quality(request, "municipality"), "municipality")
