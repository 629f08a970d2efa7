"""The data-quality tables as CSV: one row per group, then the total, with every rule's count of failures."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.http import HttpResponse
from django.utils import timezone

from insights.quality_rules import RULES

FIGURES = ("projects", "score", "completeness", "consistency", "freshness", "days_since_newest_confirmation",
           "days_since_oldest_confirmation", "never_confirmed")
NAMES = {"source": ("source", "name"), "municipality": ("municipality_code", "name", "province")}


def quality_csv(table: dict[str, Any], grouping: str) -> HttpResponse:
    names = NAMES[grouping]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*names, *FIGURES, *(f"fails_{rule.key}" for rule in RULES)])
    rows = list(table["rows"])
    if table["total"] is not None:
        rows.append({names[0]: "ALL", **table["total"]})
    for row in rows:
        writer.writerow([*(row.get(name) or "" for name in names), *(_cell(row[name]) for name in FIGURES),
                         *(row["failures"][rule.key] for rule in RULES)])
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="bukaamanzi-data-quality-{grouping}-{stamp}.csv"'
    return response


def _cell(value: object) -> object:
    return "" if value is None else value
