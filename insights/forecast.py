"""A project's completion forecast from its progress history: a pure function, no database.

How it is computed (the project page says the same in plain words, `FORECAST_METHOD`):
  1. the progress values the source gave, each with the date the site recorded it (the change log), one per day;
  2. a straight line fitted through them by least squares (progress against days);
  3. the day that line reaches 100 % is the forecast; the range comes from how uncertain the slope is: the slope
     plus or minus two standard errors, each pivoted on the centre of the points, gives an earlier and a later day.

Least squares rather than Theil–Sen: with the three to a dozen points a project has, Theil–Sen's median of pairwise
slopes is coarse (three points give three slopes), and it has no simple standard error to draw a range from, while
the least-squares slope's standard error is one formula. A single wild point moves the line, but it also widens the
range, so the page still tells the reader how far to trust it.

No forecast is made with fewer than MIN_POINTS points or over fewer than MIN_SPAN_DAYS days (too little to draw a
line through), nor when the line is flat or falling (STALLED_SLOPE_PER_DAY: "no progress, no forecast").
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import partial

MIN_POINTS = 3
MIN_SPAN_DAYS = 90
# Under one percentage point per 100 days the line would take over 27 years to climb from 0 to 100 %: that is a
# stalled project, not a date worth printing.
STALLED_SLOPE_PER_DAY = 0.01
# Two standard errors either side of the slope: about a 95 % range for a straight line with normal scatter.
SPREAD = 2.0
# A forecast later than this many days after the last point is not a date anyone can plan by; shown as open-ended.
HORIZON_DAYS = 50 * 365
DAYS_PER_MONTH = 365.25 / 12


class Outcome(StrEnum):
    FORECAST = "forecast"
    TOO_LITTLE_HISTORY = "too_little_history"
    STALLED = "stalled"
    COMPLETE = "complete"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class ProgressPoint:
    day: dt.date
    percent: float


@dataclass(frozen=True)
class Forecast:
    outcome: Outcome
    points: int
    span_days: int
    slope_per_month: float | None = None  # percentage points a month, as fitted
    completion: dt.date | None = None  # the fitted day the line reaches 100 %
    earliest: dt.date | None = None
    latest: dt.date | None = None  # None with a FORECAST: the slow end of the range never reaches 100 %
    planned_end: dt.date | None = None
    months_late: int | None = None  # negative when early; None without a planned end date


def points_by_day(points: Iterable[ProgressPoint]) -> list[ProgressPoint]:
    """One point per day (the last value given that day), oldest first: the same figure fetched twice in a day is
    one observation, not two, and must not narrow the range."""
    by_day: dict[dt.date, float] = {}
    for point in sorted(points, key=lambda p: p.day):
        by_day[point.day] = point.percent
    return [ProgressPoint(day, percent) for day, percent in by_day.items()]


def months_between(planned: dt.date, fitted: dt.date) -> int:
    """Whole months from the planned end to the fitted date (negative: early), rounded to the nearest month."""
    return round((fitted - planned).days / DAYS_PER_MONTH)


def forecast_completion(points: Iterable[ProgressPoint], *, planned_end: dt.date | None = None) -> Forecast:
    """The completion forecast of one project's progress history (see the module docstring for the method)."""
    series = points_by_day(points)
    count = len(series)
    span = (series[-1].day - series[0].day).days if series else 0
    result = partial(Forecast, points=count, span_days=span, planned_end=planned_end)
    if series and series[-1].percent >= 100:
        return result(Outcome.COMPLETE, completion=series[-1].day)
    if count < MIN_POINTS or span < MIN_SPAN_DAYS:
        return result(Outcome.TOO_LITTLE_HISTORY)

    origin = series[0].day
    xs = [float((p.day - origin).days) for p in series]
    ys = [p.percent for p in series]
    mean_x, mean_y = sum(xs) / count, sum(ys) / count
    sxx = sum((x - mean_x) ** 2 for x in xs)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sxx
    slope_per_month = round(slope * DAYS_PER_MONTH, 2)
    if slope < STALLED_SLOPE_PER_DAY:
        return result(Outcome.STALLED, slope_per_month=slope_per_month)

    intercept = mean_y - slope * mean_x
    residual = sum((y - (intercept + slope * x)) ** 2 for x, y in zip(xs, ys, strict=True))
    standard_error = math.sqrt(residual / (count - 2) / sxx) if count > 2 else 0.0
    last_x = xs[-1]

    def reaches_100(rate: float) -> dt.date | None:
        """The day a line through the centre of the points with this slope reaches 100 %, or None if never (in
        HORIZON_DAYS). Never before the last point: the project is not finished yet, whatever the line says."""
        if rate <= 0:
            return None
        x = mean_x + (100 - mean_y) / rate
        if x - last_x > HORIZON_DAYS:
            return None
        return origin + dt.timedelta(days=round(max(x, last_x)))

    completion = reaches_100(slope)
    if completion is None:  # positive but so slow it lands beyond the horizon: as good as stalled
        return result(Outcome.STALLED, slope_per_month=slope_per_month)
    earliest = reaches_100(slope + SPREAD * standard_error)
    latest = reaches_100(slope - SPREAD * standard_error)
    late = months_between(planned_end, completion) if planned_end is not None else None
    return result(Outcome.FORECAST, slope_per_month=slope_per_month, completion=completion,
                  earliest=earliest or completion, latest=latest, months_late=late)
