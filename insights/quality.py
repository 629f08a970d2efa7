"""Data-quality scores per source and per municipality, computed in the database and kept per data version.

One aggregate query per table: the records are grouped (by source, or by municipality) and every rule of
`insights.quality_rules` is one filtered COUNT, with the oldest and newest confirmation dates beside them; Python
then only turns those few numbers per group into shares and a score. Demo data is left out: it is made up, so its
quality says nothing about any source.

Freshness is measured from the start of today (South African time), and the day is part of the cache key, so a
figure is the same all day and is recomputed when the data changes or the day turns.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Max, Min
from django.http import QueryDict
from django.utils import timezone

from bukaamanzi.lib.sources import source_info
from insights.cache import cached_figure
from insights.quality_rules import RULES, Part, Rule, part_shares, score
from projects.filters import ProjectFilterForm
from projects.maplayer import indexed
from projects.models import Project, ProjectQuerySet

# How a group is named in each table: the source's name, or the municipality's code, name and province.
GROUPINGS: dict[str, tuple[str, ...]] = {
    "source": ("source",),
    "municipality": ("municipality__code", "municipality__name", "municipality__province"),
}


def measured_at(today: dt.date | None = None) -> dt.datetime:
    """The moment freshness is measured from: the start of today, South African time."""
    day = today or timezone.localdate()
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def real_projects() -> ProjectQuerySet:
    return Project.objects.real()


def _counts(now: dt.datetime) -> dict[str, Any]:
    counts: dict[str, Any] = {"projects": Count("pk"), "oldest_confirmed": Min("last_scraped_at"),
                              "newest_confirmed": Max("last_scraped_at")}
    for rule in RULES:
        counts[f"fail_{rule.key}"] = Count("pk", filter=rule.fails(now))
    return counts


def _days_since(now: dt.datetime, when: dt.datetime | None) -> int | None:
    return None if when is None else max(0, (now - when).days)


def scored(row: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    """One aggregate row as the tables show it: counts, each part in percent (one decimal) and the score."""
    failures = {rule.key: row[f"fail_{rule.key}"] for rule in RULES}
    shares = part_shares(row["projects"], failures)
    return {
        "projects": row["projects"],
        "score": score(shares),
        **{str(part): round(100 * shares[part], 1) for part in Part},
        "failures": failures,
        # Days since the source last confirmed the most and the least recently confirmed of its records.
        "days_since_newest_confirmation": _days_since(now, row["newest_confirmed"]),
        "days_since_oldest_confirmation": _days_since(now, row["oldest_confirmed"]),
        "never_confirmed": row["projects"] - row["confirmed"],
    }


def _grouped_counts(queryset: ProjectQuerySet, grouping: str, now: dt.datetime) -> list[dict[str, Any]]:
    fields = GROUPINGS[grouping]
    return list(queryset.order_by().values(*fields).annotate(**_counts(now), confirmed=Count("last_scraped_at"))
                .order_by(*fields))


def _named(row: dict[str, Any], grouping: str, now: dt.datetime) -> dict[str, Any]:
    if grouping == "source":  # named after the cache (with_source_names): the title is translated
        return {"source": row["source"], **scored(row, now)}
    return {"municipality_code": row["municipality__code"], "name": row["municipality__name"],
            "province": row["municipality__province"], **scored(row, now)}


def _summed(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The groups' counts added up (every count is a sum over records; the dates combine by min and max), so the
    total needs no second query and always agrees with the rows."""
    if not rows:
        return None
    total: dict[str, Any] = {key: sum(row[key] for row in rows) for key in rows[0]
                             if key == "projects" or key == "confirmed" or key.startswith("fail_")}
    oldest = [row["oldest_confirmed"] for row in rows if row["oldest_confirmed"] is not None]
    newest = [row["newest_confirmed"] for row in rows if row["newest_confirmed"] is not None]
    total["oldest_confirmed"] = min(oldest) if oldest else None
    total["newest_confirmed"] = max(newest) if newest else None
    return total


def quality_rows(queryset: ProjectQuerySet, grouping: str, now: dt.datetime) -> dict[str, Any]:
    """The scored groups of `queryset` and their total, from one aggregate query."""
    rows = _grouped_counts(queryset, grouping, now)
    total = _summed(rows)
    return {"measured_at": now.isoformat(), "total": scored(total, now) if total else None,
            "rows": [_named(row, grouping, now) for row in rows]}


def quality_total(queryset: ProjectQuerySet, now: dt.datetime) -> dict[str, Any] | None:
    """All of `queryset` as one group (one query); None when it holds no records."""
    row = queryset.order_by().aggregate(**_counts(now), confirmed=Count("last_scraped_at"))
    return scored(row, now) if row["projects"] else None


def quality_table(grouping: str, queryset: ProjectQuerySet, filters: dict[str, Any],
                  today: dt.date | None = None, version: str | None = None) -> dict[str, Any]:
    """The scores of every group and of all records together, cached per data version, filters and day.

    `filters` are the query's (validated) project filters, as plain values: they are part of the cache key. Pass
    `version` (projects.dataversion.data_version) when several figures are read for one page.
    """
    day = today or timezone.localdate()
    now = measured_at(day)
    table = cached_figure(f"quality_by_{grouping}", lambda: quality_rows(queryset, grouping, now),
                          {"filters": filters, "day": day.isoformat()}, version=version)
    return with_source_names(table) if grouping == "source" else table


def with_source_names(table: dict[str, Any]) -> dict[str, Any]:
    """The source table with each source's title in the current language (kept out of the shared cache, whose
    figures serve every language)."""
    rows = [{"source": row["source"], "name": str(source_info(row["source"]).title),
             **{key: value for key, value in row.items() if key != "source"}} for row in table["rows"]]
    return {**table, "rows": rows}


def filtered(form: ProjectFilterForm) -> ProjectQuerySet:
    """The real (not demo) projects the valid filter form selects, as the project list selects them."""
    return indexed(form.apply(real_projects()), form)


def filter_params(query: QueryDict, form: ProjectFilterForm) -> dict[str, list[str]]:
    """The filters a query gave, as plain strings for the cache key (the API's municipality_id included)."""
    return {name: query.getlist(name) for name in sorted(query) if name in form.fields or name == "municipality_id"}


def failing(queryset: ProjectQuerySet, rule: Rule, now: dt.datetime) -> ProjectQuerySet:
    """The records of `queryset` that fail the rule (the staff list's rows)."""
    return queryset.filter(rule.fails(now))


def failure_counts(queryset: ProjectQuerySet, now: dt.datetime) -> dict[str, int]:
    """How many records of `queryset` fail each rule (one query)."""
    row = queryset.order_by().aggregate(**{rule.key: Count("pk", filter=rule.fails(now)) for rule in RULES})
    return {key: int(value) for key, value in row.items()}
