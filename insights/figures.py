"""The insight figures, each computed in the database (grouped aggregates) and returned as plain, picklable data.

Every figure takes a validated `ProjectFilterForm`, so the pages (a province or a municipality), the API and the
CSVs accept exactly the project list's filters. Demo projects are always left out (`ProjectQuerySet.real`), red
flags are the project list's own queryset methods, and a district's figures include its local municipalities'
(`ProjectQuerySet.in_municipality`, and for Treasury's capital data the same rule here).

Python only combines already-aggregated rows (at most one per municipality and financial year), never project rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from bukaamanzi.lib.sources import source_info
from bukaamanzi.lib.status import Status
from insights.cache import cached_figure
from municipalities.models import CapitalSpend, Category, Municipality, Province
from projects.filters import ProjectFilterForm
from projects.models import Project, ProjectQuerySet, RedFlag
from reports.models import Report
from reports.states import PROBLEM_TYPES, UNRESOLVED

# FixMyStreet #1957: a municipality with a handful of projects tops or tails a ranking by chance.
MIN_PROJECTS_TO_RANK = 5
# Treasury's capital_v2 amount types (shared/research/municipal_money_api.md): budget and audited actual.
ORIGINAL_BUDGET, ADJUSTED_BUDGET, AUDITED_ACTUAL = "ORGB", "ADJB", "AUDA"
CENTS = Decimal("0.01")
ZERO = Decimal("0.00")


def projects_in_scope(form: ProjectFilterForm) -> ProjectQuerySet:
    """The real (non-demo) projects the form's filters select."""
    return form.apply(Project.objects.real())


def scope_params(form: ProjectFilterForm) -> dict[str, str]:
    """The filters as a stable dict, for cache keys: only the values given, each as text."""
    params = {name: _text(value) for name, value in form.cleaned_data.items() if value not in (None, "", [])}
    # Red flags turn true with the date alone (overdue, stalled), which the data version cannot see.
    params["today"] = timezone.localdate().isoformat()
    return params


def _text(value: Any) -> str:
    if isinstance(value, Municipality):
        return value.code
    if isinstance(value, list | tuple):
        return ",".join(_text(part) for part in value)
    return str(value)


def _money(value: Decimal | None) -> Decimal | None:
    """Rand with two places whatever the database gives for a sum (SQLite drops trailing zeros)."""
    return None if value is None else Decimal(value).quantize(CENTS)


def _rate(part: int | Decimal, whole: int | Decimal) -> float | None:
    """A percentage with one decimal, or None when there is nothing to divide by."""
    if not whole:
        return None
    return round(float(Decimal(part) * 100 / Decimal(whole)), 1)


def project_sources(projects: QuerySet[Project]) -> list[dict[str, Any]]:
    """Who the project figures come from, and when each source was last fetched."""
    rows = projects.order_by().values("source").annotate(fetched_at=Max("last_scraped_at"))
    return _credits((row["source"], row["fetched_at"]) for row in rows)


def project_sources_of(form: ProjectFilterForm) -> list[dict[str, Any]]:
    """`project_sources` of the form's projects, computed once per data version for all the figures."""
    return cached_figure("project-sources", lambda: project_sources(projects_in_scope(form)), scope_params(form))


def _credits(pairs: Iterable[tuple[str, dt.datetime | None]]) -> list[dict[str, Any]]:
    return [
        {"source": name, "credit": source_info(name).credit, "url": source_info(name).url, "fetched_at": fetched}
        for name, fetched in sorted(pairs, key=lambda pair: pair[0])
    ]


# --- Projects: status, type, red flags ---------------------------------------------------------------------


def status_figure(form: ProjectFilterForm) -> dict[str, Any]:
    """Projects by status, every status of the vocabulary in its order, as counts and shares of the total."""
    projects = projects_in_scope(form)
    counts = dict(projects.order_by().values("status").annotate(n=Count("pk")).values_list("status", "n"))
    total = sum(counts.values())
    # Codes only: the figure is shared by every language, so pages and the API add the words.
    rows = [{"status": value, "count": counts.get(value, 0), "rate": _rate(counts.get(value, 0), total)}
            for value in Status.values]
    return {"total": total, "rows": rows, "sources": project_sources_of(form)}


def type_figure(form: ProjectFilterForm) -> dict[str, Any]:
    """Projects by type, most common first (a blank type is reported as such, with an empty `project_type`)."""
    projects = projects_in_scope(form)
    grouped = projects.order_by().values("project_type").annotate(count=Count("pk")).order_by("-count",
                                                                                              "project_type")
    total = sum(row["count"] for row in grouped)
    rows = [{"project_type": row["project_type"], "count": row["count"], "rate": _rate(row["count"], total)}
            for row in grouped]
    return {"total": total, "rows": rows, "sources": project_sources_of(form)}


def red_flag_figure(form: ProjectFilterForm) -> dict[str, Any]:
    """Projects per red flag (a project may carry several), as counts and shares of all projects in scope.

    Each flag is the project list's own queryset method (`with_flag`), counted on its own: on 50,000 SpatiaLite
    projects four plain counts took 200 ms where one aggregate with three `IN (subquery)` filters took 720 ms.
    """
    projects = projects_in_scope(form)
    total = projects.count()
    counts = {value: projects.with_flag(value).count() for value in RedFlag.values}
    rows = [{"flag": value, "count": counts[value], "rate": _rate(counts[value], total)} for value in RedFlag.values]
    return {"total": total, "rows": rows, "sources": project_sources_of(form)}


# --- Treasury's capital budget and spending ----------------------------------------------------------------


def _chosen_municipalities(form: ProjectFilterForm) -> QuerySet[Municipality]:
    """The municipalities the form's province or municipality covers (all without either); a district includes
    its locals."""
    municipality: Municipality | None = form.cleaned_data.get("municipality")
    province = form.cleaned_data.get("province")
    chosen = Municipality.objects.all()
    if municipality is not None:
        if municipality.category == Category.DISTRICT:
            return chosen.filter(Q(pk=municipality.pk) | Q(district=municipality))
        return chosen.filter(pk=municipality.pk)
    if province:
        return chosen.filter(province=province)
    return chosen


def _municipality_ids(form: ProjectFilterForm) -> QuerySet[Municipality] | None:
    """`_chosen_municipalities` as a subquery of ids, or None when the form names no place (every one)."""
    if form.cleaned_data.get("municipality") is None and not form.cleaned_data.get("province"):
        return None
    return _chosen_municipalities(form).values("pk")  # type: ignore[return-value]


def capital_figure(form: ProjectFilterForm) -> dict[str, Any]:
    """Capital budget against audited spending per financial year (all services, as Treasury reports them).

    Amount types are never added together. A municipality's budget for a year is its adjusted budget where it
    reported one, else its original budget; spending as a share of budget counts only the municipalities that
    reported both a budget and an audited actual that year. `municipalities` counts those reporting an actual.
    """
    rows_q = CapitalSpend.objects.all()
    chosen = _municipality_ids(form)
    if chosen is not None:
        rows_q = rows_q.filter(municipality__in=chosen)

    def same_year(*types: str) -> Exists:
        return Exists(CapitalSpend.objects.filter(municipality=OuterRef("municipality"),
                                                  financial_year=OuterRef("financial_year"), amount_type__in=types))

    budget = Q(amount_type=ADJUSTED_BUDGET) | (Q(amount_type=ORIGINAL_BUDGET) & ~same_year(ADJUSTED_BUDGET))
    actual = Q(amount_type=AUDITED_ACTUAL)
    grouped = rows_q.order_by().values("financial_year").annotate(
        original=Sum("amount", filter=Q(amount_type=ORIGINAL_BUDGET)),
        adjusted=Sum("amount", filter=Q(amount_type=ADJUSTED_BUDGET)),
        budget=Sum("amount", filter=budget),
        actual=Sum("amount", filter=actual),
        matched_budget=Sum("amount", filter=budget & same_year(AUDITED_ACTUAL)),
        matched_actual=Sum("amount", filter=actual & same_year(ADJUSTED_BUDGET, ORIGINAL_BUDGET)),
        municipalities=Count("municipality", filter=actual, distinct=True),
    ).order_by("financial_year")
    rows = [{
        "financial_year": row["financial_year"], "original_budget": _money(row["original"]),
        "adjusted_budget": _money(row["adjusted"]), "budget": _money(row["budget"]), "actual": _money(row["actual"]),
        "spent_rate": _rate(row["matched_actual"] or 0, row["matched_budget"] or 0),
        "municipalities": row["municipalities"],
    } for row in grouped]
    sources = rows_q.order_by().values("source").annotate(fetched_at=Max("fetched_at"))
    return {"rows": rows, "sources": _credits((row["source"], row["fetched_at"]) for row in sources)}


# --- Municipalities and provinces compared -----------------------------------------------------------------


def _by_municipality(form: ProjectFilterForm) -> dict[Any, dict[str, Any]]:
    """Each municipality's own projects (not its locals'): counts, overdue, budget and spending, reports waiting.

    Three grouped queries: the projects, the overdue ones (the project list's own `overdue()`) and the published
    problem reports not fixed yet.
    """
    placed = projects_in_scope(form).exclude(municipality=None).order_by()
    # Spending against budget only where both are known: a missing amount is not a zero.
    known = Q(budget_allocated__gt=0, budget_spent__isnull=False)
    grouped = placed.values("municipality_id").annotate(
        n=Count("pk"), a=Sum("budget_allocated", filter=known), s=Sum("budget_spent", filter=known))
    own: dict[Any, dict[str, Any]] = {
        row["municipality_id"]: {"projects": row["n"], "overdue": 0, "allocated": _money(row["a"]) or ZERO,
                                 "spent": _money(row["s"]) or ZERO, "waiting": 0}
        for row in grouped}
    for row in placed.overdue().values("municipality_id").annotate(n=Count("pk")):
        own[row["municipality_id"]]["overdue"] = row["n"]
    for row in _waiting_reports(form, placed).values("project__municipality_id").annotate(n=Count("pk")):
        own[row["project__municipality_id"]]["waiting"] = row["n"]
    return own


def _waiting_reports(form: ProjectFilterForm, placed: ProjectQuerySet) -> QuerySet[Report]:
    """Published problems (and quality concerns) not fixed yet, on the form's real, placed projects.

    The pages' scopes (country, province, municipality) are joins; any other filter goes through the projects as a
    subquery, which cost 230 against 30 ms on 50,000 SpatiaLite projects, so only the API's other filters pay it.
    """
    reports = Report.objects.published().filter(
        report_type__in=PROBLEM_TYPES, state__in=UNRESOLVED, project__is_demo=False,
        project__municipality__isnull=False).order_by()
    if _given(form) - {"province", "municipality"}:
        return reports.filter(project__in=placed.values("pk"))
    chosen = _municipality_ids(form)
    return reports if chosen is None else reports.filter(project__municipality__in=chosen)


def _own_by_municipality(form: ProjectFilterForm) -> dict[Any, dict[str, Any]]:
    """`_by_municipality` of the form's projects, shared by the municipality and the province figures.

    A province or a municipality takes its rows from the whole country's (one computation for the national page
    and all ten scoped pages after an ingestion); only the API's other filters compute their own.
    """
    given = _given(form)
    if given and given <= {"province", "municipality"}:
        country = ProjectFilterForm({})
        country.is_valid()
        chosen = set(_chosen_municipalities(form).values_list("pk", flat=True))
        return {pk: row for pk, row in _own_by_municipality(country).items() if pk in chosen}
    return cached_figure("own-by-municipality", lambda: _by_municipality(form), scope_params(form))


def _given(form: ProjectFilterForm) -> set[str]:
    return {name for name, value in form.cleaned_data.items() if value not in (None, "", [])}


def _finish(row: dict[str, Any]) -> dict[str, Any]:
    row["overdue_rate"] = _rate(row["overdue"], row["projects"])
    row["spent_rate"] = _rate(row["spent"], row["allocated"])
    row["ranked"] = row["projects"] >= MIN_PROJECTS_TO_RANK
    return row


def _add(into: dict[str, Any], part: dict[str, Any]) -> None:
    for key in ("projects", "overdue", "allocated", "spent", "waiting"):
        into[key] += part[key]


def municipality_figure(form: ProjectFilterForm) -> dict[str, Any]:
    """Every current municipality in scope with its projects, overdue share, spending against budget and reports
    waiting (published problems not yet fixed). A district's row includes its local municipalities'."""
    own = _own_by_municipality(form)
    municipalities = Municipality.objects.current().order_by("name")
    chosen = _municipality_ids(form)
    if chosen is not None:
        municipalities = municipalities.filter(pk__in=chosen)
    found = list(municipalities.values("pk", "code", "name", "province", "category", "district_id"))
    empty = {"projects": 0, "overdue": 0, "allocated": ZERO, "spent": ZERO, "waiting": 0}
    rows: dict[Any, dict[str, Any]] = {}
    for m in found:
        rows[m["pk"]] = {"code": m["code"], "name": m["name"], "province": m["province"],
                         "category": m["category"], **empty}
        _add(rows[m["pk"]], own.get(m["pk"], empty))
    for m in found:
        if m["district_id"] in rows:
            _add(rows[m["district_id"]], own.get(m["pk"], empty))
    return {"rows": [_finish(row) for row in rows.values()], "min_projects": MIN_PROJECTS_TO_RANK,
            "sources": project_sources_of(form)}


def province_figure(form: ProjectFilterForm) -> dict[str, Any]:
    """The provinces side by side; every project counted once (in its own municipality's province)."""
    own = _own_by_municipality(form)
    province_of = dict(Municipality.objects.filter(pk__in=list(own)).values_list("pk", "province"))
    totals = {value: {"province": value, "projects": 0, "overdue": 0, "allocated": ZERO,
                      "spent": ZERO, "waiting": 0} for value in Province.values}
    for pk, part in own.items():
        _add(totals[province_of[pk]], part)
    if form.cleaned_data.get("province"):
        totals = {key: row for key, row in totals.items() if key == form.cleaned_data["province"]}
    rows = [_finish(row) for row in totals.values()]
    for row in rows:
        row.pop("ranked")  # provinces are never too small to compare
    return {"rows": rows, "sources": project_sources_of(form)}


LEAGUES = {
    # name: (the column ranked on, highest first)
    "overdue": "overdue_rate",
    "spending": "spent_rate",
    "waiting": "waiting",
}


def league_tables(municipalities: dict[str, Any], *, limit: int | None = 10) -> dict[str, list[dict[str, Any]]]:
    """The ranked municipalities (at least MIN_PROJECTS_TO_RANK projects) by each league's column, highest first."""
    ranked = [row for row in municipalities["rows"] if row["ranked"]]
    tables = {}
    for name, column in LEAGUES.items():
        rows = sorted((row for row in ranked if row[column] is not None), key=lambda r: (-r[column], r["name"]))
        tables[name] = rows[:limit] if limit else rows
    return tables


FIGURES = {
    "status": status_figure,
    "types": type_figure,
    "red-flags": red_flag_figure,
    "capital": capital_figure,
    "municipalities": municipality_figure,
    "provinces": province_figure,
}
