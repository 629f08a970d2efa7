"""Resident pages for municipalities and provinces."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.vary import vary_on_headers

from bukaamanzi.http import HtmxHttpRequest
from municipalities.models import Category, Municipality, Province
from projects.fragments import municipality_totals_context
from projects.models import Project, RedFlag, Status
from projects.views import filtered_results, map_config

# Treasury's capital_v2 amount types, in words; an unknown code is shown as it is.
AMOUNT_TYPES = {
    "AUDA": _("Audited actual"),
    "ADJB": _("Adjusted budget"),
    "ORGB": _("Original budget"),
    "PAUD": _("Pre-audit outcome"),
    "ITY1": _("Budget year 1"),
    "IBY1": _("Budget year 1"),
    "IBY2": _("Budget year 2"),
}


def municipality_index(request: HttpRequest) -> HttpResponse:
    municipalities = Municipality.objects.current().order_by("province", "name").only(
        "code", "name", "province", "category", "project_count", "total_value")
    groups: dict[str, list[Municipality]] = {}
    for municipality in municipalities:
        groups.setdefault(municipality.province, []).append(municipality)
    provinces = [(value, label, groups.get(value, [])) for value, label in Province.choices]
    return render(request, "municipalities/index.html", {"provinces": provinces})


def province_index(request: HttpRequest) -> HttpResponse:
    rows = {
        row["province"]: row
        for row in Municipality.objects.current().exclude(category=Category.DISTRICT).values("province")
        .annotate(municipalities=Count("pk"), project_total=Sum("project_count"), value=Sum("total_value")).order_by()
    }
    provinces = [(value, label, rows.get(value, {})) for value, label in Province.choices]
    return render(request, "municipalities/provinces.html", {"provinces": provinces})


def province_detail(request: HttpRequest, province: str) -> HttpResponse:
    province = province.upper()
    if province not in Province.values:
        raise Http404("No such province")
    municipalities = Municipality.objects.current().in_province(province).order_by("category", "name").only(
        "code", "name", "category", "project_count", "total_value")
    return render(request, "municipalities/province.html", {
        "province": province, "province_label": Province(province).label, "municipalities": municipalities})


def _capital_table(municipality: Municipality) -> dict[str, object]:
    rows = list(municipality.capital_spending.order_by("financial_year", "amount_type"))
    types = sorted({row.amount_type for row in rows})
    years: dict[str, dict[str, Decimal]] = {}
    for row in rows:
        years.setdefault(row.financial_year, {})[row.amount_type] = row.amount
    return {
        "capital_types": [(code, AMOUNT_TYPES.get(code, code)) for code in types],
        "capital_years": [(year, [amounts.get(code) for code in types]) for year, amounts in years.items()],
        "capital_fetched": max((row.fetched_at for row in rows), default=None),
    }


@vary_on_headers("HX-Request")
def municipality_detail(request: HtmxHttpRequest, code: str) -> HttpResponse:
    municipality = get_object_or_404(Municipality.objects.select_related("district"), code=code.upper())
    base = Project.objects.in_municipality(municipality)
    form, results, status = filtered_results(request, base)
    context = {"municipality": municipality, "form": form, **results, "results_url": request.path}
    if request.htmx:
        return render(request, "projects/fragments/results.html", context, status=status)
    context.update(
        **municipality_totals_context(municipality),
        has_demo=base.filter(is_demo=True).exists(),
        statuses=Status.choices, flags=RedFlag.choices,
        project_types=list(base.exclude(project_type="").order_by("project_type")
                           .values_list("project_type", flat=True).distinct()),
        fixed_municipality=municipality,
        map_config=map_config(municipality=municipality.code),
        **_capital_table(municipality),
    )
    return render(request, "municipalities/detail.html", context, status=status)
