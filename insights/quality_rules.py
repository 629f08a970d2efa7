"""The data-quality rules: what a project record must have and must not contradict, each as a database filter.

Every rule is a `Q` that matches the records failing it, so a score is a handful of filtered COUNTs in one
aggregate query and the staff list of failing records is the same `Q` in a WHERE clause: the two cannot disagree.
A rule whose inputs are missing does not fail (spending above budget needs both amounts): the missing value is
already counted once, by the completeness rule for it.

The score and its weights (the public page and docs/insights.md say the same in words):
  completeness 40 %, the share of the five completeness checks the records pass;
  consistency 40 %, the share of the three consistency checks they pass;
  freshness 20 %, the share of records the source confirmed within FRESH_DAYS.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from django.db.models import F, Q
from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from bukaamanzi.lib.status import Status

# Sources are fetched daily (ingestion schedules): a record the source has not confirmed for 30 days has missed
# thirty runs, so either it left the source or the runs are failing; either way its figures may be out of date.
FRESH_DAYS = 30


class Part(StrEnum):
    COMPLETENESS = "completeness"
    CONSISTENCY = "consistency"
    FRESHNESS = "freshness"


PART_LABELS: dict[Part, str | Promise] = {
    Part.COMPLETENESS: _("Completeness"),
    Part.CONSISTENCY: _("Consistency"),
    Part.FRESHNESS: _("Freshness"),
}
# Percentage points of the score each part is worth; they add up to 100.
WEIGHTS: dict[Part, int] = {Part.COMPLETENESS: 40, Part.CONSISTENCY: 40, Part.FRESHNESS: 20}


@dataclass(frozen=True)
class Rule:
    key: str
    part: Part
    label: str | Promise  # what a failing record shows, e.g. "no location"
    fails: Callable[[dt.datetime], Q]  # the records failing it; takes the moment freshness is measured from


RULES: tuple[Rule, ...] = (
    Rule("no_location", Part.COMPLETENESS, _("No location"), lambda now: Q(location__isnull=True)),
    Rule("no_budget", Part.COMPLETENESS, _("No budget"), lambda now: Q(budget_allocated__isnull=True)),
    Rule("no_dates", Part.COMPLETENESS, _("No start or planned end date"),
         lambda now: Q(start_date__isnull=True) | Q(end_date__isnull=True)),
    Rule("no_contractor", Part.COMPLETENESS, _("No contractor"), lambda now: Q(contractor="")),
    Rule("no_status", Part.COMPLETENESS, _("Status unknown"), lambda now: Q(status=Status.UNKNOWN)),
    Rule("spent_above_budget", Part.CONSISTENCY, _("Spending above budget"),
         lambda now: Q(budget_spent__gt=F("budget_allocated"))),
    Rule("complete_not_completed", Part.CONSISTENCY, _("Progress 100 % but not completed"),
         lambda now: Q(progress_percentage__gte=100) & ~Q(status=Status.COMPLETED)),
    Rule("end_before_start", Part.CONSISTENCY, _("Planned end before start"),
         lambda now: Q(end_date__lt=F("start_date"))),
    Rule("not_confirmed", Part.FRESHNESS,
         format_lazy(_("Not confirmed by the source in the last {days} days"), days=FRESH_DAYS),
         lambda now: Q(last_scraped_at__isnull=True) | Q(last_scraped_at__lt=now - dt.timedelta(days=FRESH_DAYS))),
)
RULES_BY_KEY: dict[str, Rule] = {rule.key: rule for rule in RULES}


def rules_of(part: Part) -> list[Rule]:
    return [rule for rule in RULES if rule.part == part]


def part_shares(projects: int, failures: dict[str, int]) -> dict[Part, float]:
    """Each part as the share (0 to 1) of its checks that the `projects` records pass."""
    shares = {}
    for part in Part:
        checks = projects * len(rules_of(part))
        failed = sum(failures[rule.key] for rule in rules_of(part))
        shares[part] = 1 - failed / checks if checks else 1.0
    return shares


def score(shares: dict[Part, float]) -> int:
    """The 0–100 score: the parts' shares weighted by WEIGHTS, rounded to a whole number."""
    return round(sum(WEIGHTS[part] * share for part, share in shares.items()))
