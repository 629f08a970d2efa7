"""The data-quality pages: the public scores (/insights/data-quality/) and the staff list of failing records.

Both take the project list's filters (province, municipality, status, ...); a bad filter is answered 400 with
the reason beside its field, and nothing is listed rather than a guess.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin.views.decorators import staff_member_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from insights.quality import failing, failure_counts, filter_params, filtered, measured_at, quality_table
from insights.quality_rules import FRESH_DAYS, PART_LABELS, RULES, RULES_BY_KEY, WEIGHTS, Part
from projects.dataversion import data_version
from projects.filters import ProjectFilterForm

RECORDS_PER_PAGE = 50
SOURCE_MAX_LENGTH = 30  # Project.source's length: a longer value cannot name a source


def _method_context() -> dict[str, Any]:
    """What the pages say about how the score is made (the weights and rules, from insights.quality_rules)."""
    return {
        "parts": [{"key": str(part), "label": PART_LABELS[part], "weight": WEIGHTS[part],
                   "rules": [rule for rule in RULES if rule.part == part]} for part in Part],
        "fresh_days": FRESH_DAYS,
    }


def data_quality(request: HttpRequest) -> HttpResponse:
    form = ProjectFilterForm(request.GET)
    context: dict[str, Any] = {"form": form, **_method_context()}
    status = 200
    if form.is_valid():
        projects, params, version = filtered(form), filter_params(request.GET, form), data_version()
        context["by_source"] = quality_table("source", projects, params, version=version)
        context["by_municipality"] = quality_table("municipality", projects, params, version=version)
        total = context["by_source"]["total"]
        if total is not None:
            context["rule_counts"] = [(rule, total["failures"][rule.key]) for rule in RULES]
    else:
        status = 400
    return render(request, "insights/quality.html", context, status=status)


@staff_member_required
def data_quality_records(request: HttpRequest) -> HttpResponse:
    """Every rule with its count of failing records; with ?rule=, those records, with links to correct them."""
    form = ProjectFilterForm(request.GET)
    rule_key, source = request.GET.get("rule", ""), request.GET.get("source", "").strip()
    errors: dict[str, str] = {}
    if rule_key and rule_key not in RULES_BY_KEY:
        errors["rule"] = _("There is no rule called %(rule)s.") % {"rule": rule_key}
    if len(source) > SOURCE_MAX_LENGTH:
        errors["source"] = _("A source name has at most %(count)d characters.") % {"count": SOURCE_MAX_LENGTH}
    context: dict[str, Any] = {"form": form, "errors": errors, "source": source, "rules": RULES}
    if errors or not form.is_valid():
        return render(request, "insights/quality_records.html", context, status=400)
    now = measured_at()
    projects = filtered(form)
    if source:
        projects = projects.filter(source=source)
    query = request.GET.copy()
    query.pop("rule", None)
    query.pop("page", None)
    context["query"] = query.urlencode()
    if not rule_key:
        counts = failure_counts(projects, now)
        context["counts"] = [(rule, counts[rule.key]) for rule in RULES]
        return render(request, "insights/quality_records.html", context)
    rule = RULES_BY_KEY[rule_key]
    rows = (failing(projects, rule, now).order_by("name", "pk")
            .values("pk", "name", "source", "municipality__name", "status", "last_scraped_at"))
    context.update({"rule": rule, "page": Paginator(rows, RECORDS_PER_PAGE).get_page(request.GET.get("page"))})
    return render(request, "insights/quality_records.html", context)
