"""Resident pages for projects: the home map and list, the project page, About and the error pages."""

from __future__ import annotations

import json
import sys

from django.conf import settings
from django.core.paginator import Paginator
from django.db import DatabaseError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import get_object_or_404, render
from django.template import loader
from django.views.decorators.vary import vary_on_headers

from bukaamanzi.http import HtmxHttpRequest
from bukaamanzi.lib.geo import SOUTH_AFRICA
from bukaamanzi.lib.status import STATUS_SYMBOLS
from changelog.models import DataChangeLog, EntityType
from municipalities.models import Municipality, Province
from projects.filters import ProjectFilterForm
from projects.fragments import project_fragments_context
from projects.models import Project, ProjectQuerySet, RedFlag, Status

PAGE_SIZE = 20
HISTORY_SHOWN = 30


def municipality_groups() -> list[tuple[str, list[tuple[str, str]]]]:
    """(province, [(code, name)]) for a municipality select (`{% municipality_options %}`): one query."""
    municipalities = list(Municipality.objects.current().order_by("province", "name").values_list(
        "code", "name", "province"))
    by_province: dict[str, list[tuple[str, str]]] = {}
    for code, name, province in municipalities:
        by_province.setdefault(province, []).append((code, name))
    return [(str(label), by_province.get(value, [])) for value, label in Province.choices]


def filter_choices() -> dict[str, object]:
    """Options for the filter form's selects: two queries whatever the number of projects."""
    return {
        "municipality_groups": municipality_groups(),
        "project_types": list(Project.objects.exclude(project_type="").order_by("project_type")
                              .values_list("project_type", flat=True).distinct()),
        "statuses": Status.choices,
        "flags": RedFlag.choices,
    }


def filtered_results(request: HttpRequest, base: ProjectQuerySet) -> tuple[ProjectFilterForm, dict[str, object], int]:
    """Bind the shared filter form to the query string and page through the matching projects."""
    form = ProjectFilterForm(request.GET)
    if form.is_valid():
        projects, status = form.apply(base), 200
    else:
        # Bad filters are named beside their fields; nothing is listed rather than a guess.
        projects, status = base.none(), 400
    projects = projects.select_related("municipality").order_by("name", "pk")
    page = Paginator(projects, PAGE_SIZE).get_page(request.GET.get("page"))
    return form, {"page": page, "has_demo_results": any(p.is_demo for p in page.object_list)}, status


@vary_on_headers("HX-Request")
def home(request: HtmxHttpRequest) -> HttpResponse:
    form, results, status = filtered_results(request, Project.objects.water())
    context = {"form": form, **results, "results_url": request.path}
    if request.htmx:
        return render(request, "projects/fragments/results.html", context, status=status)
    context.update(filter_choices())
    context["has_demo"] = results["has_demo_results"] or Project.objects.filter(is_demo=True).exists()
    context["map_config"] = map_config()
    return render(request, "projects/home.html", context, status=status)


def map_config(**fixed: str) -> dict[str, object]:
    """What the map script needs, as data attributes: the tile URL is a setting so no CDN is hard-wired, and the
    South Africa box and the status symbols come from bukaamanzi.lib, so the script holds no copy of them."""
    return {
        "tiles": settings.MAP_TILE_URL,
        "attribution": settings.MAP_TILE_ATTRIBUTION,
        "fixed": "&".join(f"{key}={value}" for key, value in fixed.items()),
        "box": SOUTH_AFRICA,
        "bounds": json.dumps(SOUTH_AFRICA.leaflet_bounds()),
        "symbols": json.dumps(STATUS_SYMBOLS, ensure_ascii=False),
    }


def project_detail(request: HttpRequest, pk: str) -> HttpResponse:
    project = get_object_or_404(
        Project.objects.select_related("municipality", "municipality__district").prefetch_related("budgets"), pk=pk
    )
    history = (
        DataChangeLog.objects.filter(
            Q(entity_type=EntityType.PROJECT, entity_id=str(project.pk))
        ).order_by("-created_at", "-pk")[:HISTORY_SHOWN]
    )
    context = {
        **project_fragments_context(project),
        "history": history,
        "map_config": map_config(),
    }
    return render(request, "projects/detail.html", context)


def about(request: HttpRequest) -> HttpResponse:
    return render(request, "about.html", {"statuses": Status.choices, "flags": RedFlag.choices})


def server_error(request: HttpRequest) -> HttpResponse:
    # No context processors and no database: the error may be the database itself.
    if isinstance(sys.exc_info()[1], DatabaseError):
        # The database is down or out of connections (settings: DB_CONNECT_TIMEOUT, DB_POOL_TIMEOUT): a 503 that
        # says "try again shortly", which proxies and crawlers read as passing, not a 500 that says we broke.
        response = HttpResponse(loader.get_template("503.html").render({"request": request}), status=503)
        response["Retry-After"] = "30"
        return response
    return HttpResponseServerError(loader.get_template("500.html").render({"request": request}))
