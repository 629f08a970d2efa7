"""/api/v1/insights: the insights endpoints."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router

from bukaamanzi.apitools import ErrorOut, json_response, not_found, parse_uuid
from insights.forecast_project import forecast_body, project_forecast
from insights.forecast_schemas import ForecastOut
from insights.quality import filter_params, filtered, quality_table
from insights.quality_csv import quality_csv
from insights.quality_schemas import MunicipalityQualityTable, SourceQualityTable
from projects.api import filter_form
from projects.models import Project
from projects.schemas import ProjectFilters

router = Router(tags=["insights"])


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
