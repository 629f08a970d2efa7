"""API endpoints for municipalities."""

from __future__ import annotations

import re
import uuid

from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router

from bukaamanzi.apitools import LIMIT, PAGE, ApiError, ErrorOut, json_response, not_found, paginate
from bukaamanzi.lib.sources import real_source_names
from municipalities.models import CapitalSpend, Category, Municipality, Province
from municipalities.schemas import ITEM_FIELDS, MunicipalityDetail, MunicipalityPage, municipality_item
from projects.api import project_filters, project_page
from projects.attribution import attribution_summary
from projects.models import Project, Source
from projects.schemas import MunicipalityProjectFilters, ProjectPage

router = Router(tags=["Municipalities"])

CODE = re.compile(r"[A-Za-z]{2,3}[A-Za-z0-9]{0,5}")


def municipality_lookup(value: str) -> Q:
    """A UUID or an MDB code; anything else is refused before it reaches the database."""
    try:
        return Q(pk=uuid.UUID(value))
    except ValueError:
        pass
    if CODE.fullmatch(value):
        return Q(code__iexact=value)
    raise ApiError("municipality_id", _("municipality_id must be a UUID or an MDB code such as CPT or EC101."))


def get_municipality(value: str) -> Municipality:
    found = Municipality.objects.filter(municipality_lookup(value)).first()
    if found is None:
        raise not_found("municipality_id", _("No municipality has the code or id %(value)s.") % {"value": value})
    return found


@router.get("", response={200: MunicipalityPage, 422: ErrorOut}, summary="List municipalities",
            operation_id="municipalities_list")
def list_municipalities(
    request: HttpRequest,
    province: str | None = Query(None, description="EC, FS, GT, KZN, LIM, MP, NW, NC or WC"),
    category: str | None = Query(None, description="A (metropolitan), B (local) or C (district)"),
    page: int = PAGE,
    limit: int = LIMIT,
) -> HttpResponse:
    municipalities = Municipality.objects.current()
    errors: list[tuple[str | None, str]] = []
    if province:
        if province.upper() not in Province.values:
            errors.append(("province", _("province must be one of: %(choices)s.")
                           % {"choices": ", ".join(Province.values)}))
        municipalities = municipalities.in_province(province.upper())
    if category:
        if category.upper() not in Category.values:
            errors.append(("category", _("category must be A, B or C.")))
        municipalities = municipalities.of_category(category.upper())
    if errors:
        raise ApiError.of(errors)
    current, rows = paginate(municipalities, page, limit, ITEM_FIELDS, order_by=("name", "code"))
    return json_response(request, current.envelope([municipality_item(row) for row in rows]))


@router.get("/{municipality_id}", response={200: MunicipalityDetail, 404: ErrorOut, 422: ErrorOut},
            summary="One municipality (by id or MDB code) with its totals", operation_id="municipalities_detail")
def municipality_detail(request: HttpRequest, municipality_id: str) -> HttpResponse:
    lookup = municipality_lookup(municipality_id)
    row = Municipality.objects.filter(lookup).values(
        *ITEM_FIELDS, "point_method", "dashboard_url", "dws_project_count", "dws_total_value", "dws_fetched_at"
    ).first()
    if row is None:
        raise not_found("municipality_id", _("No municipality has the code or id %(value)s.")
                        % {"value": municipality_id})
    body = municipality_item(row)
    if body["dws_total_value"] is not None:
        body["dws_total_value"] = str(body["dws_total_value"])
    projects = Project.objects.filter(municipality_id=body["id"]).order_by()
    counts = projects.aggregate(demo=Count("id", filter=Q(is_demo=True)))
    body["projects_by_status"] = {
        entry["status"]: entry["n"] for entry in projects.values("status").annotate(n=Count("id"))
    }
    body["demo_project_count"] = counts["demo"]
    body["capital_spending"] = [
        {**line, "amount": str(line["amount"])}
        for line in CapitalSpend.objects.filter(municipality_id=body["id"]).order_by(
            "financial_year", "amount_type"
        ).values("financial_year", "amount_type", "amount", "source", "fetched_at")
    ]
    sources = [*real_source_names(), *([Source.DEMO] if counts["demo"] else [])]
    body["attribution"] = attribution_summary(sources)
    return json_response(request, body)


@router.get("/{municipality_id}/projects", response={200: ProjectPage, 404: ErrorOut, 422: ErrorOut},
            summary="Projects of one municipality (a district includes its local municipalities)",
            operation_id="municipalities_projects")
def municipality_projects(
    request: HttpRequest,
    municipality_id: str,
    filters: Query[MunicipalityProjectFilters],
    page: int = PAGE,
    limit: int = LIMIT,
) -> HttpResponse:
    municipality = get_municipality(municipality_id)
    base = Project.objects.in_municipality(municipality)
    return project_page(request, project_filters(request, base), page, limit)
