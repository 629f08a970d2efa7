"""The completion forecast on constructed progress histories (pure: no database)."""

from __future__ import annotations

import datetime as dt

from insights.forecast import Outcome, ProgressPoint, forecast_completion, months_between

START = dt.date(2025, 1, 1)


def history(*points: tuple[int, float]) -> list[ProgressPoint]:
    """(days after START, percent) pairs as progress points."""
    return [ProgressPoint(START + dt.timedelta(days=days), percent) for days, percent in points]


def day(days: int) -> dt.date:
    return START + dt.timedelta(days=days)


def test_steady_project_finishing_on_its_planned_end_is_on_time() -> None:
    # 0 % to 50 % in 180 days on a straight line: 100 % on day 360, the planned end.
    forecast = forecast_completion(history((0, 0), (90, 25), (180, 50)), planned_end=day(360))
    assert forecast.outcome == Outcome.FORECAST
    assert forecast.completion == day(360)
    # A perfect line: no spread, so the range is the date itself.
    assert forecast.earliest == forecast.latest == day(360)
    assert forecast.months_late == 0


def test_same_pace_against_an_earlier_planned_end_is_about_seven_months_late() -> None:
    forecast = forecast_completion(history((0, 0), (90, 25), (180, 50)), planned_end=day(150))
    assert forecast.completion == day(360)
    assert forecast.months_late == 7  # 210 days is 6.9 months


def test_fast_project_is_early_against_its_planned_end() -> None:
    forecast = forecast_completion(history((0, 10), (60, 40), (120, 70)), planned_end=day(400))
    # 0.5 points a day from 10 % on day 0: 100 % on day 180, 220 days (7.2 months) early.
    assert forecast.completion == day(180)
    assert forecast.months_late == -7


def test_range_and_fit_match_a_hand_computed_least_squares_line() -> None:
    # Mean (100, 23.33), slope 4000 / 20000 = 0.2 a day, squared residuals 66.67, standard error
    # sqrt(66.67 / 1 / 20000) = 0.0577. Through the centre: 100 % on day 100 + 76.67 / 0.2 = 483.3;
    # at 0.2 ± 2 × 0.0577 a day: day 343.0 and day 1007.0.
    forecast = forecast_completion(history((0, 0), (100, 30), (200, 40)))
    assert forecast.outcome == Outcome.FORECAST
    assert (forecast.earliest, forecast.completion, forecast.latest) == (day(343), day(483), day(1007))
    assert forecast.slope_per_month == 6.09  # 0.2 a day × 30.44 days
    assert forecast.months_late is None  # no planned end date: nothing to compare with


def test_flat_history_is_stalled_with_no_forecast() -> None:
    forecast = forecast_completion(history((0, 40), (100, 40), (200, 40)), planned_end=day(300))
    assert forecast.outcome == Outcome.STALLED
    assert forecast.completion is None and forecast.months_late is None


def test_falling_or_barely_rising_history_is_stalled() -> None:
    assert forecast_completion(history((0, 60), (100, 50), (200, 45))).outcome == Outcome.STALLED
    # 0.005 points a day: over 50 years to finish.
    assert forecast_completion(history((0, 20), (100, 20.5), (200, 21))).outcome == Outcome.STALLED


def test_slow_end_of_range_that_never_finishes_leaves_latest_open() -> None:
    # Wildly scattered: the slope minus two standard errors is below zero.
    forecast = forecast_completion(history((0, 0), (50, 40), (100, 5), (150, 45)))
    assert forecast.outcome == Outcome.FORECAST
    assert forecast.latest is None and forecast.earliest is not None and forecast.completion is not None


def test_two_points_are_too_little_history() -> None:
    forecast = forecast_completion(history((0, 0), (200, 50)))
    assert forecast.outcome == Outcome.TOO_LITTLE_HISTORY
    assert forecast.points == 2


def test_three_points_within_ninety_days_are_too_little_history() -> None:
    forecast = forecast_completion(history((0, 0), (45, 20), (89, 40)))
    assert (forecast.outcome, forecast.span_days) == (Outcome.TOO_LITTLE_HISTORY, 89)
    assert forecast_completion(history((0, 0), (45, 20), (90, 40))).outcome == Outcome.FORECAST


def test_figures_given_twice_on_one_day_count_once() -> None:
    # Three entries but two days: not enough, and the later figure of the day is the one kept.
    forecast = forecast_completion(history((0, 0), (120, 30), (120, 35)))
    assert (forecast.outcome, forecast.points) == (Outcome.TOO_LITTLE_HISTORY, 2)


def test_no_history_at_all_is_too_little_history() -> None:
    forecast = forecast_completion([])
    assert (forecast.outcome, forecast.points, forecast.span_days) == (Outcome.TOO_LITTLE_HISTORY, 0, 0)


def test_project_at_100_percent_is_complete_not_forecast() -> None:
    forecast = forecast_completion(history((0, 10), (100, 100)))
    assert (forecast.outcome, forecast.completion) == (Outcome.COMPLETE, day(100))


def test_forecast_is_never_before_the_last_figure() -> None:
    # The line through these reaches 100 % "before" the last figure (day 110); the project is still at 95 %.
    forecast = forecast_completion(history((0, 0), (100, 99), (110, 95)))
    assert forecast.completion is not None and forecast.completion >= day(110)


def test_points_arrive_in_any_order() -> None:
    ordered = forecast_completion(history((0, 0), (90, 25), (180, 50)))
    shuffled = forecast_completion(history((180, 50), (0, 0), (90, 25)))
    assert ordered == shuffled


def test_months_between_rounds_to_the_nearest_month() -> None:
    assert months_between(dt.date(2026, 1, 1), dt.date(2026, 8, 1)) == 7
    assert months_between(dt.date(2026, 1, 1), dt.date(2026, 1, 10)) == 0
    assert months_between(dt.date(2026, 8, 1), dt.date(2026, 1, 1)) == -7
