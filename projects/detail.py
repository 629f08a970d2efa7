"""The body of `GET /api/v1/projects/{id}` in one to three queries, whatever the number of budgets and reports.

1. the project, its municipality and its budget lines (one row per line, joined; one row when it has none), and
   whether it has change history and published reports (the next two run only if so);
2. its change history, newest first, at most HISTORY_LIMIT entries;
3. its newest published reports (at most REPORTS_LIMIT), each row carrying the total count (a window count),
   so no separate COUNT is needed.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Count, Exists, Window

from bukaamanzi.prepared import PreparedValues
from changelog.models import DataChangeLog, EntityType
from projects.attribution import attribution_for
from projects.maplayer import with_lng_lat
from projects.models import Project
from projects.schemas import ITEM_FIELDS, project_item
from reports.models import Report

HISTORY_LIMIT = 50
REPORTS_LIMIT = 10
DETAIL_FIELDS = ("external_id", "description", "function", "asset_class", "source_status", "address", "ward",
                 "contractor")
BUDGET_FIELDS = ("financial_year", "budget_type", "amount", "currency", "quarter", "source")
HISTORY_FIELDS = ("id", "change_type", "source", "field_changes", "old_values", "new_values", "created_at")
REPORT_FIELDS = ("id", "title", "report_type", "state", "created_at", "affected_count")


# Compiled once per database (bukaamanzi/prepared.py): compiling them cost more than running them.
# The project row also says whether it has history and published reports, so a project without them (most have
# no reports) costs one query instead of three.
_project_rows = PreparedValues(lambda pk: (
    with_lng_lat(Project.objects.filter(pk=pk))
    .annotate(has_history=Exists(DataChangeLog.objects.for_entity(EntityType.PROJECT, pk)),
              has_reports=Exists(Report.objects.published().filter(project_id=pk)))
    .order_by("budgets__financial_year", "budgets__budget_type", "budgets__quarter")
    .values(*ITEM_FIELDS, *DETAIL_FIELDS, *[f"budgets__{name}" for name in BUDGET_FIELDS], "has_history",
            "has_reports")
))
_history_rows = PreparedValues(lambda pk: (
    DataChangeLog.objects.for_entity(EntityType.PROJECT, pk).order_by("-pk").values(*HISTORY_FIELDS)[:HISTORY_LIMIT]
))
_report_rows = PreparedValues(lambda pk: (
    Report.objects.published().filter(project_id=pk).order_by("-created_at")
    .annotate(total=Window(Count("id"))).values(*REPORT_FIELDS, "total")[:REPORTS_LIMIT]
))


def project_detail_body(pk: uuid.UUID) -> dict[str, Any] | None:
    """The detail as plain data, or None when no project has this id."""
    rows = _project_rows(pk)
    if not rows:
        return None
    row = rows[0]
    body = project_item(row)
    body.update({name: row[name] for name in DETAIL_FIELDS})
    body["progress_changed_at"] = row["progress_changed_at"]
    body["budgets"] = _budgets_by_year(rows)
    body["attribution"] = attribution_for(row["source"], row["last_scraped_at"])
    body["history"] = _history_rows(pk) if row["has_history"] else []
    reports = _report_rows(pk) if row["has_reports"] else []
    body["reports_count"] = reports[0].pop("total") if reports else 0
    for report in reports[1:]:
        del report["total"]
    body["reports"] = reports
    return body


def _budgets_by_year(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    years: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        if row["budgets__financial_year"] is None:  # the project has no budget lines (LEFT JOIN)
            continue
        line = {name: row[f"budgets__{name}"] for name in BUDGET_FIELDS if name != "financial_year"}
        line["amount"] = str(line["amount"])
        years.setdefault(row["budgets__financial_year"], []).append(line)
    return [{"financial_year": year, "phases": phases} for year, phases in years.items()]
