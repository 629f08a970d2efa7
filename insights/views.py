"""The insights pages (national and per province) and the CSV of every figure: thin views over insights.pages."""

from __future__ import annotations

import csv
import functools
import io
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.http import urlencode
from django.utils.safestring import SafeString
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from insights import pagecache
from insights.figures import FIGURES
from insights.pages import SortForm, figure, scope_body
from municipalities.models import Province
from projects.filters import ProjectFilterForm


def _bad_request(request: HttpRequest, errors: dict[str, list[str]]) -> HttpResponse:
    return render(request, "insights/bad_request.html", {"errors": errors}, status=400)


def _errors(form: Any) -> dict[str, list[str]]:
    return {field: [str(message) for message in messages] for field, messages in form.errors.items()}


def _page(request: HttpRequest, filters: dict[str, str], scope: dict[str, Any]) -> HttpResponse:
    """The page whole from this process's copy when it can be (insights.pagecache), else rendered. The filter
    form is built only to render: building one deep-copies its fields, most of what a kept page would cost."""

    def render_page(version: str | None, context: dict[str, Any]) -> HttpResponse:
        sort = SortForm(request.GET)
        if not sort.is_valid():
            return _bad_request(request, _errors(sort))
        form = ProjectFilterForm(filters)
        form.is_valid()
        body = scope_body(form, scope=scope, sort=sort.cleaned_data["sort"], order=sort.cleaned_data["order"],
                          version=version)
        intro = page_intro(scope["kind"], scope["query"], get_language())
        return render(request, "insights/page.html", {"body": body, "intro": intro, "scope": scope, **context})

    return pagecache.serve(request, render_page, query_keys=SortForm.base_fields)


@functools.lru_cache(maxsize=64)
def page_intro(kind: str, query: str, language: str) -> SafeString:
    """The links and notes above a page's figures: the same for every visit in a language, so rendered once per
    process (its ten links cost more than the rest of a warm page; README, "Insights")."""
    with translation.override(language):
        return render_to_string("insights/fragments/intro.html",
                                {"kind": kind, "query": query, "provinces": Province.choices})


def national(request: HttpRequest) -> HttpResponse:
    return _page(request, {}, {"kind": "national", "query": "", "name": _("South Africa")})


def province(request: HttpRequest, province: str) -> HttpResponse:
    code = province.upper()
    if code not in Province.values:
        raise Http404("No such province")
    return _page(request, {"province": code}, {"kind": "province", "query": urlencode({"province": code}),
                                               "province": code, "name": str(Province(code).label)})


def figure_csv(request: HttpRequest, name: str) -> HttpResponse:
    """One figure as CSV, for the same filters as the project list (400 naming a bad filter)."""
    if name not in FIGURES:
        raise Http404("No such figure")
    form = ProjectFilterForm(request.GET)
    if not form.is_valid():
        return _bad_request(request, form.errors_by_field())
    data = figure(name, form)
    response = HttpResponse(figure_csv_text(data), content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="bukaamanzi-insights-{name}-{stamp}.csv"'
    return response


def figure_csv_text(data: dict[str, Any]) -> str:
    """The figure's rows, one a line, with the sources and their fetch dates in a last column."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    rows = data["rows"]
    columns = list(rows[0]) if rows else []
    credits = "; ".join(
        f"{source['credit']} (fetched {source['fetched_at'].date().isoformat()})" if source["fetched_at"]
        else source["credit"] for source in data["sources"])
    writer.writerow([*columns, "source"])
    for row in rows:
        writer.writerow([*("" if row[column] is None else row[column] for column in columns), credits])
    return buffer.getvalue()
