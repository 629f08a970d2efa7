"""Template helpers of the insights pages, and the insights section of a municipality page.

The section is an inclusion tag so that the municipality page (a lower app) includes it from its template without
importing this app: imports point one way (pyproject's import-linter layers).
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.http import urlencode

from bukaamanzi.lib.status import Status
from municipalities.models import Category, Municipality, Province
from projects.filters import ProjectFilterForm
from projects.models import RedFlag

register = template.Library()


def _label(choices: type[Any], value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


@register.filter
def status_label(value: str) -> str:
    return _label(Status, value)


@register.filter
def flag_label(value: str) -> str:
    return _label(RedFlag, value)


@register.filter
def province_label(value: str) -> str:
    return _label(Province, value)


@register.filter
def category_label(value: str) -> str:
    return _label(Category, value)


@register.simple_tag
def sort_query(column: str, current: str, order: str) -> str:
    """The query string of a column header's link: that column, the other direction when it is already sorted."""
    if column == current:
        direction = "asc" if order == "desc" or (not order and column != "name") else "desc"
    else:
        direction = "asc" if column == "name" else "desc"
    return urlencode({"sort": column, "order": direction})


@register.simple_tag
def municipality_insights(municipality: Municipality) -> str:
    """The insights section of a municipality page (a district's includes its local municipalities)."""
    from insights.pages import scope_body  # the pages module renders templates; load it when first used

    form = ProjectFilterForm({"municipality": municipality.code})
    form.is_valid()
    query = urlencode({"municipality": municipality.code})
    return scope_body(form, scope={"kind": "municipality", "query": query, "name": municipality.name})
