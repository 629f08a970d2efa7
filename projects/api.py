"""API endpoints for projects, the map layer and the exports.

Every endpoint validates its query string with the shared `ProjectFilterForm`, so the pages, the API, the map
and the exports accept and refuse exactly the same filters.
"""

from __future__ import annotations

import functools
from collections.abc import Hashable
from typing import Any

from django.http import HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router

from bukaamanzi.apitools import LIMIT, PAGE, ApiError, ErrorOut, json_response, not_found, paginate, parse_uuid
from bukaamanzi.listmemo import list_key
from bukaamanzi.prepared import PreparedValuesForIds
from projects import exports
from projects.apicache import cached_json_response
from projects.attribution import attribution_summary
from projects.dataversion import data_version, pushed_version
from projects.detail import project_detail_body
from projects.filters import ProjectFilterForm
from projects.maplayer import MAX_ZOOM, indexed, map_layer, with_lng_lat
from projects.models import Project, ProjectQuerySet
from projects.schemas import ITEM_FIELDS, MapLayer, ProjectDetail, ProjectFilters, ProjectPage, project_item
from reports.api import affected_response
from reports.ratelimit import affected_throttle
from reports.schemas import AffectedOut

router = Router(tags=["Projects"])
map_router = Router(tags=["Map"])
exports_router = Router(tags=["Exports"])

ERRORS = {422: ErrorOut, 404: ErrorOut}

# Documented once and shared by every endpoint that takes the project filters (values are checked by the form).
def project_filters(request: HttpRequest, queryset: ProjectQuerySet | None = None) -> ProjectQuerySet:
    """Validate the query string's project filters and apply them; 422 naming each bad field."""
    form = filter_form(request)
    base = Project.objects.all() if queryset is None else queryset
    return indexed(form.apply(base), form)


def filter_form(request: HttpRequest) -> ProjectFilterForm:
    """The query string's project filters, validated; 422 naming each bad field."""
    if _FILTER_NAMES.isdisjoint(request.GET):
        return _no_filters()
    data: QueryDict = request.GET.copy()
    # The API calls it municipality_id (as the issue and the docs do); the form and the pages call it municipality.
    if "municipality_id" in data and "municipality" not in data:
        data.setlist("municipality", data.getlist("municipality_id"))
    form = ProjectFilterForm(data)
    if not form.is_valid():
        errors = form.errors_by_field()
        if "municipality" in errors and "municipality_id" in request.GET:
            errors["municipality_id"] = errors.pop("municipality")
        raise ApiError.from_fields(errors)
    return form


_FILTER_NAMES = frozenset({*ProjectFilterForm.base_fields, "municipality_id"})


@functools.cache
def _no_filters() -> ProjectFilterForm:
    """The form of a query string that names no filter, validated once per process and only read after: most API
    reads name none, and building a form deep-copies its fields (0.4 ms a request)."""
    form = ProjectFilterForm({})
    form.is_valid()
    return form


@router.get("", response={200: ProjectPage, **ERRORS}, summary="List projects", operation_id="projects_list")
def list_projects(
    request: HttpRequest,
    filters: Query[ProjectFilters],
    page: int = PAGE,
    limit: int = LIMIT,
) -> HttpResponse:
    version = data_version()  # read once: it keys both the response cache and the list's count and anchors
    return cached_json_response(request, lambda: page_body(
        project_filters(request), page, limit, memo_key=list_key("projects", version, request.GET)), version=version)


def project_page(request: HttpRequest, queryset: ProjectQuerySet, page: int, limit: int) -> HttpResponse:
    return json_response(request, page_body(queryset, page, limit))


LIST_ORDER = ("name", "id")  # index project_name_id_idx
# A page's rows by their ids, compiled once per page size (bukaamanzi/prepared.py): compiling the query cost
# about as much as running it.
_list_rows = PreparedValuesForIds(
    lambda ids: with_lng_lat(Project.objects.filter(pk__in=ids)).order_by(*LIST_ORDER).values(*ITEM_FIELDS))


def page_body(queryset: ProjectQuerySet, page: int, limit: int, *, memo_key: Hashable | None = None,
              ) -> dict[str, Any]:
    """One page of projects as plain dicts (no per-row validation), ordered by name."""
    current, rows = paginate(queryset, page, limit, ITEM_FIELDS, order_by=LIST_ORDER, rows_for=_list_rows,
                             memo_key=memo_key)
    items = [project_item(row) for row in rows]
    body = current.envelope(items)
    body["attribution"] = attribution_summary(item["source"] for item in items)
    return body


@router.get("/{project_id}", response={200: ProjectDetail, **ERRORS}, summary="One project, with its budgets, "
            "red flags, attribution and change history", operation_id="projects_detail")
def project_detail(request: HttpRequest, project_id: str) -> HttpResponse:
    uuid = parse_uuid(project_id, "project_id")

    def build() -> dict[str, Any]:
        body = project_detail_body(uuid)
        if body is None:
            raise not_found("project_id", _("No project has this id."))
        return body

    # Through the response cache only when the data version costs nothing (pushed: projects/dataversion.py).
    # Otherwise three prepared queries (projects/detail.py) cost less than reading the version, and most ids are
    # asked for once.
    version = pushed_version()
    if version is None:
        return json_response(request, build())
    return cached_json_response(request, build, version=version)


@router.post("/{project_id}/affected", response={200: AffectedOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut,
                                                 429: ErrorOut},
             summary="“This project affects me too” (once per person)", operation_id="projects_affected",
             throttle=[affected_throttle])
def project_affected(request: HttpRequest, project_id: str) -> HttpResponse:
    project = Project.objects.filter(pk=parse_uuid(project_id, "project_id")).select_related("municipality").first()
    if project is None:
        raise not_found("project_id", _("No project has this id."))
    return affected_response(request, project=project)


# --- Map layer ------------------------------------------------------------------------------------------


@map_router.get("/projects", response={200: MapLayer, 422: ErrorOut}, summary="GeoJSON for the map",
                operation_id="map_projects",
                description="Points (id, name, status, is_demo) for the viewport, or, when it holds more than "
                "MAP_CLUSTER_THRESHOLD projects, clusters (count, centroid, bounds): the cells of a grid that "
                "shrinks with the zoom which hold projects in the viewport (a cell at the edge counts all its "
                "projects).")
def map_projects(
    request: HttpRequest,
    filters: Query[ProjectFilters],
    zoom: int = Query(6, description=f"Map zoom level, 0 to {MAX_ZOOM}."),
) -> HttpResponse:
    if not 0 <= zoom <= MAX_ZOOM:
        raise ApiError("zoom", _("zoom must be between 0 and %(max)d.") % {"max": MAX_ZOOM})
    version = data_version()
    return cached_json_response(
        request, lambda: map_layer(filter_form(request), zoom=zoom, version=version), version=version)


# --- Exports --------------------------------------------------------------------------------------------

EXPORT_RESPONSES = {200: None, 422: ErrorOut}


def _export_operation(path: str, summary: str, operation_id: str, media_type: str) -> Any:
    return exports_router.get(
        path, response=EXPORT_RESPONSES, summary=summary, operation_id=operation_id,
        openapi_extra={"responses": {"200": {"description": summary, "content": {media_type: {"schema": {}}}}}},
    )


@_export_operation("/projects.csv", "Projects as CSV (streamed)", "export_csv", "text/csv")
def export_csv(
    request: HttpRequest, filters: Query[ProjectFilters],
) -> StreamingHttpResponse:
    return exports.export_csv(request, project_filters(request))


@_export_operation("/projects.geojson", "Projects as GeoJSON (streamed)", "export_geojson", "application/geo+json")
def export_geojson(
    request: HttpRequest, filters: Query[ProjectFilters],
) -> StreamingHttpResponse:
    return exports.export_geojson(request, project_filters(request))


@_export_operation("/projects.oc4ids.json", "Projects as an OC4IDS project package (streamed)", "export_oc4ids",
                   "application/json")
def export_oc4ids(
    request: HttpRequest, filters: Query[ProjectFilters],
) -> StreamingHttpResponse:
    return exports.export_oc4ids(request, project_filters(request))
