"""OpenAPI shape of a project's completion forecast (the body is built by insights.forecast_project)."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Schema


class ForecastOut(Schema):
    project_id: str
    outcome: str = Field(description="forecast, too_little_history (fewer than 3 progress figures or under 90 "
                                     "days between the first and last), stalled (no progress, no forecast), "
                                     "complete (100 % or completed at the source) or cancelled.")
    points: int = Field(description="Progress figures used (one per day).")
    span_days: int = Field(description="Days from the first progress figure to the last.")
    slope_per_month: float | None = Field(description="Fitted pace, percentage points a month.")
    completion: dt.date | None = Field(description="The day the fitted line reaches 100 %.")
    earliest: dt.date | None = Field(description="Early end of the range (the slope plus two standard errors).")
    latest: dt.date | None = Field(description="Late end of the range (the slope minus two standard errors); null "
                                               "with a forecast when that slower pace never reaches 100 %.")
    planned_end: dt.date | None
    months_late: int | None = Field(description="Whole months from the planned end to the forecast; negative when "
                                                "early; null without a planned end date or a forecast.")
    summary: str
    lateness: str
    method: str = Field(description="How the forecast is computed, in plain words.")
