"""What the insights pages show for one scope (the country, a province, a municipality): figures read through the
shared cache, turned into charts and tables, and the rendered body kept per data version too.

The body (charts, tables, league tables) is rendered once per data version, language, scope and sort order, and
read from this process's memory after that (insights/cache.py). For anonymous visitors the page views keep the whole
page around it too (insights/pagecache.py): a warm page is then the data version (no query where it is pushed, one
elsewhere), one look-up and the visitor's own CSRF token put in; nothing personal is kept or shared. Signed-in users
and visitors with a message waiting get the page rendered around the kept body.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from bukaamanzi.lib.money import format_zar
from bukaamanzi.lib.status import Status
from insights.cache import cached_figure
from insights.charts import Chart, bar_chart
from insights.figures import FIGURES, MIN_PROJECTS_TO_RANK, league_tables, scope_params
from municipalities.models import Province
from projects.dataversion import data_version
from projects.filters import ProjectFilterForm
from projects.models import RedFlag

SORTABLE = {
    "name": gettext_lazy("Name"),
    "projects": gettext_lazy("Projects"),
    "overdue_rate": gettext_lazy("Overdue (%)"),
    "spent_rate": gettext_lazy("Spent of budget (%)"),
    "waiting": gettext_lazy("Reports waiting"),
}


class SortForm(forms.Form):
    """How a comparison table is ordered: a column and a direction (links in the column headers, no script)."""

    sort = forms.ChoiceField(required=False, choices=list(SORTABLE.items()))
    order = forms.ChoiceField(required=False, choices=[("asc", gettext_lazy("ascending")),
                                                      ("desc", gettext_lazy("descending"))])


def figure(name: str, form: ProjectFilterForm, *, version: str | None = None) -> dict[str, Any]:
    """One figure of `insights.figures.FIGURES` for the form's filters, through the per-data-version cache."""
    compute = FIGURES[name]
    return cached_figure(name, lambda: compute(form), scope_params(form), version=version)


def sorted_rows(rows: list[dict[str, Any]], sort: str, order: str) -> list[dict[str, Any]]:
    """Rows by one column; rows without a value for it (no budget known, say) always last."""
    column = sort or "name"
    descending = (order or ("asc" if column == "name" else "desc")) == "desc"
    known = [row for row in rows if row.get(column) is not None]
    unknown = [row for row in rows if row.get(column) is None]
    known.sort(key=lambda row: row["name"])
    known.sort(key=lambda row: row[column], reverse=descending)
    return known + unknown


def _count_text(row: dict[str, Any]) -> str:
    return f"{row['count']} ({row['rate']}%)" if row["rate"] is not None else str(row["count"])


def _charts(figures: dict[str, dict[str, Any]], prefix: str) -> dict[str, Chart]:
    status, types, flags, capital = figures["status"], figures["types"], figures["red_flags"], figures["capital"]
    top_types = types["rows"][:12]
    return {
        "status": bar_chart(
            f"{prefix}-status", _("Projects by status"),
            _("Bar chart of the number of projects in each status; the table below gives the numbers."),
            [(str(Status(row["status"]).label), [row["count"]]) for row in status["rows"]],
            texts=[[_count_text(row)] for row in status["rows"]]),
        "types": bar_chart(
            f"{prefix}-types", _("Projects by type"),
            _("Bar chart of the number of projects of each type, most common first; the table below gives the "
              "numbers."),
            [(row["project_type"] or _("Type not given"), [row["count"]]) for row in top_types],
            texts=[[_count_text(row)] for row in top_types]),
        "flags": bar_chart(
            f"{prefix}-flags", _("Projects with a red flag"),
            _("Bar chart of the number of projects over budget, overdue and stalled; the table below gives the "
              "numbers."),
            [(str(RedFlag(row["flag"]).label), [row["count"]]) for row in flags["rows"]],
            texts=[[_count_text(row)] for row in flags["rows"]]),
        "capital": bar_chart(
            f"{prefix}-capital", _("Capital budget and audited spending per financial year"),
            _("Bar chart with two bars per financial year, the capital budget and the audited capital spending; "
              "the table below gives the amounts."),
            [(row["financial_year"], [row["budget"], row["actual"]])
             for row in capital["rows"]],
            series=[_("Budget"), _("Audited spending")],
            texts=[[format_zar(row["budget"], "short"),
                    format_zar(row["actual"], "short")] for row in capital["rows"]]),
    }


def scope_body(form: ProjectFilterForm, *, scope: dict[str, Any], sort: str = "", order: str = "",
               version: str | None = None) -> SafeString:
    """The rendered body of an insights page or section, cached per data version, language, scope and sort.

    `scope` says what the body is about: {"kind": "national" | "province" | "municipality", "query": the
    query string of its CSV links, ...} and is passed to the template as it is.
    """
    version = version or data_version()
    params = {**scope_params(form), "kind": scope["kind"], "language": get_language(), "sort": sort,
              "order": order}

    def render() -> str:
        names = ["status", "types", "red-flags", "capital"]
        if scope["kind"] != "municipality":
            names += ["municipalities", "provinces"]
        # Template variables cannot hold a hyphen: red-flags is red_flags in the templates.
        figures = {name.replace("-", "_"): figure(name, form, version=version) for name in names}
        context: dict[str, Any] = {"figures": figures, "charts": _charts(figures, scope["kind"]), "scope": scope,
                                   "min_projects": MIN_PROJECTS_TO_RANK, "sortable": SORTABLE,
                                   "sort": sort or "name", "order": order}
        if scope["kind"] != "municipality":
            context["leagues"] = league_tables(figures["municipalities"],
                                               limit=10 if scope["kind"] == "national" else None)
            compared = "provinces" if scope["kind"] == "national" else "municipalities"
            context["compared"] = compared
            rows = figures[compared]["rows"]
            if compared == "provinces":
                rows = [{**row, "name": str(Province(row["province"]).label)} for row in rows]
            context["compared_rows"] = sorted_rows(rows, sort, order)
        return render_to_string("insights/fragments/body.html", context)

    # Our own template's output, escaped when it was rendered; a string from the cache is marked safe again.
    return mark_safe(cached_figure("body", render, params, version=version))  # noqa: S308
