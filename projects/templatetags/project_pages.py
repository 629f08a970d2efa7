"""Display helpers for the resident pages: money, the budget chart, status symbols and the plain-word history.

They live here (not in views) because the same fragments are rendered by the page, by HTMX responses and by
live pushes, and each of those has only the project or report at hand. The money format and the symbols are
`bukaamanzi.lib`'s, shared with the history sentences and the map.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django import template
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from bukaamanzi.lib.money import format_zar
from bukaamanzi.lib.sources import source_info
from bukaamanzi.lib.status import STATUS_SYMBOLS
from projects.models import Budget
from reports.history import change_sentences

register = template.Library()

@register.filter
def zar(value: object, style: str = "") -> str:
    """The one money display filter: `{{ amount|zar }}` or `{{ amount|zar:"short" }}`."""
    return format_zar(value, style)


@register.filter
def status_symbol(status: str) -> str:
    return STATUS_SYMBOLS.get(status, "?")


@register.filter
def percent_width(value: object) -> str:
    """A CSS width between 0% and 100% (progress bars); never a locale-formatted decimal."""
    try:
        number = max(Decimal("0"), min(Decimal("100"), Decimal(str(value))))
    except (InvalidOperation, ValueError, TypeError):
        number = Decimal("0")
    return f"{number.quantize(Decimal('0.1'))}%"


@register.simple_tag
def history_sentences(entry: object) -> list[str]:
    return change_sentences(entry)  # type: ignore[arg-type]


# --- Budget against spending per financial year -------------------------------------------------------------

SPENDING_WORDS = ("audited", "actual", "outcome", "spent", "expenditure")
BUDGET_PREFERENCE = ("adjusted", "original")


@dataclass
class YearBar:
    year: str
    budget: Decimal | None
    spent: Decimal | None
    budget_height: float = 0.0
    spent_height: float = 0.0
    x: float = 0.0
    budget_y: float = 0.0
    spent_y: float = 0.0
    spent_x: float = 0.0
    label_x: float = 0.0


def _is_spending(budget_type: str) -> bool:
    lowered = budget_type.lower()
    return any(word in lowered for word in SPENDING_WORDS)


def _budget_rank(budget_type: str) -> int:
    lowered = budget_type.lower()
    for rank, word in enumerate(BUDGET_PREFERENCE):
        if word in lowered:
            return rank
    return len(BUDGET_PREFERENCE)


def year_bars(budgets: Iterable[Budget]) -> list[YearBar]:
    """One bar pair per financial year: the budget (adjusted before original) and the spending (audited outcome).

    Quarterly rows are left out: the chart compares whole years, and adding quarters to a year total would
    double count where a source also reports the year.
    """
    by_year: dict[str, dict[str, list[Budget]]] = {}
    for line in budgets:
        if line.quarter is not None:
            continue
        kind = "spent" if _is_spending(line.budget_type) else "budget"
        by_year.setdefault(line.financial_year, {"spent": [], "budget": []})[kind].append(line)
    bars = []
    for year in sorted(by_year):
        rows = by_year[year]
        budget = min(rows["budget"], key=lambda b: _budget_rank(b.budget_type)).amount if rows["budget"] else None
        spent = max(b.amount for b in rows["spent"]) if rows["spent"] else None
        bars.append(YearBar(year=year, budget=budget, spent=spent))
    return bars


CHART_HEIGHT = 160
GROUP_WIDTH = 90
BAR_WIDTH = 30
LEFT = 10


@register.inclusion_tag("projects/fragments/budget_chart.html")
def budget_chart(project: object) -> dict[str, object]:
    bars = year_bars(project.budgets.all())  # type: ignore[attr-defined]
    peak = max([b.budget or 0 for b in bars] + [b.spent or 0 for b in bars] + [Decimal("0")])
    baseline = CHART_HEIGHT + 5
    for index, bar in enumerate(bars):
        bar.x = LEFT + index * GROUP_WIDTH
        bar.spent_x = bar.x + BAR_WIDTH
        bar.label_x = bar.x + BAR_WIDTH
        if peak:
            bar.budget_height = round(float((bar.budget or 0) / peak) * CHART_HEIGHT, 1)
            bar.spent_height = round(float((bar.spent or 0) / peak) * CHART_HEIGHT, 1)
        bar.budget_y = baseline - bar.budget_height
        bar.spent_y = baseline - bar.spent_height
    return {
        "project": project,
        "bars": bars,
        "width": LEFT * 2 + max(len(bars), 1) * GROUP_WIDTH,
        "chart_height": CHART_HEIGHT,
        "height": CHART_HEIGHT + 40,
        "bar_width": BAR_WIDTH,
        "baseline": baseline,
        "title": _("Budget and spending per financial year"),
    }


@register.filter
def getlist_status(data: object) -> list[str]:
    """The statuses chosen in the query string, whether repeated (`status=a&status=b`) or comma separated."""
    values = data.getlist("status") if hasattr(data, "getlist") else []
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


@register.filter
def source_url(source: str) -> str:
    return source_info(source).url


@register.filter
def source_credit(source: str) -> str:
    """The credit line of a source, as its class declares it (the same text the API and exports carry)."""
    return source_info(source).credit


@register.filter
def timeline(project: object) -> dict[str, object] | None:
    """How far through its planned time a project is, in words and as a share (None without both dates)."""
    start, end = getattr(project, "start_date", None), getattr(project, "end_date", None)
    if not start or not end or end <= start:
        return None
    today = timezone.localdate()
    total = (end - start).days
    elapsed = min(max((today - start).days, 0), total)
    if today < start:
        days = (start - today).days
        summary = ngettext("Starts in %(days)d day.", "Starts in %(days)d days.", days) % {"days": days}
    elif today <= end:
        days = (end - today).days
        summary = ngettext("%(days)d day left of the planned time.", "%(days)d days left of the planned time.",
                           days) % {"days": days}
    else:
        days = (today - end).days
        summary = ngettext("The planned end was %(days)d day ago.", "The planned end was %(days)d days ago.",
                           days) % {"days": days}
    return {"elapsed": Decimal(elapsed * 100) / Decimal(total), "summary": summary}


@register.simple_tag
def municipality_options(groups: Iterable[tuple[str, Iterable[tuple[str, str]]]], chosen: str | None) -> SafeString:
    """The municipality select's `<optgroup>`s, one per province, with `chosen` (an MDB code, any case) selected.

    Built here rather than by template loops: 257 options through `{% for %}` and `{% if %}` cost 7 ms of the
    home page's 23 (bench/http/run.py, page_home); this costs a fraction of a millisecond.
    """
    chosen = (chosen or "").upper()
    options = (
        (label, format_html_join("", '<option value="{}"{}>{}</option>',
                                 ((code, " selected" if code == chosen else "", name) for code, name in places)))
        for label, places in groups
    )
    return format_html_join("", '<optgroup label="{}">{}</optgroup>', options)
