"""One project's completion forecast: its progress history read from the change log, the fit (insights.forecast)
and the words the page and the API show.

Every progress value a source (or a moderator) gave is in the change log's `new_values["progress_percentage"]`,
with the time the site recorded it; those are the points. One query per project, whatever the length of its
history: only the date and that one value of each entry that has it are read.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from bukaamanzi.lib.status import Status
from changelog.models import DataChangeLog, EntityType
from insights.forecast import (
    MIN_POINTS,
    MIN_SPAN_DAYS,
    Forecast,
    Outcome,
    ProgressPoint,
    forecast_completion,
    points_by_day,
)

PROGRESS_FIELD = "progress_percentage"


def progress_points(project_id: uuid.UUID | str) -> list[ProgressPoint]:
    """The project's progress values with the (South African) day each was recorded, oldest first."""
    rows = (DataChangeLog.objects.for_entity(EntityType.PROJECT, project_id)
            .filter(new_values__has_key=PROGRESS_FIELD)
            .order_by("created_at", "pk")
            .values_list("created_at", f"new_values__{PROGRESS_FIELD}"))
    points = []
    for created_at, value in rows:
        percent = _percent(value)
        if percent is not None:
            points.append(ProgressPoint(timezone.localtime(created_at).date(), percent))
    return points


def _percent(value: object) -> float | None:
    """A logged progress value ("42.50", 42.5 or null) as a float between 0 and 100, or None (cleared, garbled)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    if not number.is_finite() or not 0 <= number <= 100:
        return None
    return float(number)


def project_forecast(project_id: uuid.UUID | str, planned_end: dt.date | None, status: str = "") -> Forecast:
    """The forecast from the project's history; a project the source calls completed or cancelled gets none (its
    progress figure may never have reached 100 %, and no line should say when it will)."""
    if status in (Status.COMPLETED, Status.CANCELLED):
        points = points_by_day(progress_points(project_id))
        span = (points[-1].day - points[0].day).days if points else 0
        outcome = Outcome.COMPLETE if status == Status.COMPLETED else Outcome.CANCELLED
        return Forecast(outcome, points=len(points), span_days=span, planned_end=planned_end)
    return forecast_completion(progress_points(project_id), planned_end=planned_end)


def method_text() -> str:
    """How the forecast is made, in plain words (the page and the API say the same)."""
    return _(
        "Each time the source gave a new progress figure, the site recorded it with its date. A straight line is "
        "drawn as close as possible to those figures (least squares) and carried forward to 100 %%: the day it "
        "gets there is the forecast. The range shows how much the pace between figures varied: the faster and "
        "slower paces that still fit the figures give the earlier and later dates. A forecast needs at least "
        "%(points)d figures spread over at least %(days)d days."
    ) % {"points": MIN_POINTS, "days": MIN_SPAN_DAYS}


def _day(value: dt.date) -> str:
    return formats.date_format(value, "j F Y")


def lateness_text(forecast: Forecast) -> str:
    """"likely about 7 months late" (or early, or on time) against the planned end date; "" without one."""
    months = forecast.months_late
    if forecast.outcome != Outcome.FORECAST or months is None:
        return ""
    if months == 0:
        return _("likely about on time")
    if months > 0:
        return ngettext("likely about %(months)d month late", "likely about %(months)d months late",
                        months) % {"months": months}
    return ngettext("likely about %(months)d month early", "likely about %(months)d months early",
                    -months) % {"months": -months}


def outcome_text(forecast: Forecast) -> str:
    """The forecast (or why there is none) in one sentence, without the comparison with the planned end."""
    if forecast.outcome == Outcome.COMPLETE:
        return _("The source reports this project complete.")
    if forecast.outcome == Outcome.CANCELLED:
        return _("The source reports this project cancelled: no forecast.")
    if forecast.outcome == Outcome.TOO_LITTLE_HISTORY:
        return _("Not enough history to forecast.")
    if forecast.outcome == Outcome.STALLED:
        return _("No progress, no forecast: the progress figures have not gone up.")
    assert forecast.completion is not None and forecast.earliest is not None
    if forecast.latest is None:
        return _("Likely complete around %(date)s, not before %(earliest)s; at the slowest pace that fits the "
                 "figures it would not finish.") % {"date": _day(forecast.completion),
                                                    "earliest": _day(forecast.earliest)}
    if forecast.earliest == forecast.latest:  # the figures lie on a straight line: no spread to show
        return _("Likely complete around %(date)s.") % {"date": _day(forecast.completion)}
    return _("Likely complete around %(date)s (between %(earliest)s and %(latest)s).") % {
        "date": _day(forecast.completion), "earliest": _day(forecast.earliest), "latest": _day(forecast.latest)}


def comparison_text(forecast: Forecast) -> str:
    """"Against the planned end date of 5 June 2025: likely about 7 months late.", or "" without a forecast or a
    planned end date."""
    late = lateness_text(forecast)
    if not late or forecast.planned_end is None:
        return ""
    return _("Against the planned end date of %(planned)s: %(late)s.") % {"planned": _day(forecast.planned_end),
                                                                          "late": late}


def summary_text(forecast: Forecast) -> str:
    """The forecast and its comparison with the planned end, for the API."""
    return " ".join(text for text in (outcome_text(forecast), comparison_text(forecast)) if text)


def forecast_body(project_id: uuid.UUID | str, forecast: Forecast) -> dict[str, Any]:
    """The forecast as the API returns it (dates ISO, words translated)."""

    def iso(value: dt.date | None) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "project_id": str(project_id),
        "outcome": str(forecast.outcome),
        "points": forecast.points,
        "span_days": forecast.span_days,
        "slope_per_month": forecast.slope_per_month,
        "completion": iso(forecast.completion),
        "earliest": iso(forecast.earliest),
        "latest": iso(forecast.latest),
        "planned_end": iso(forecast.planned_end),
        "months_late": forecast.months_late,
        "summary": summary_text(forecast),
        "lateness": lateness_text(forecast),
        "method": method_text(),
    }
