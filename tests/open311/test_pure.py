"""The pure parts: states to open/closed, titles, dates and filters, and the XML writer's escaping."""

from __future__ import annotations

import datetime as dt

import pytest
from defusedxml import ElementTree

from open311.errors import Open311Error
from open311.formats import to_xml
from open311.mapping import RequestRow, open311_status, request_items, status_notes, title_from
from open311.parsers import parse_filters, parse_request_id, parse_submission
from reports.models import ReportState

NOW = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(("state", "status"), [
    (ReportState.OPEN, "open"), (ReportState.ACKNOWLEDGED, "open"), (ReportState.IN_PROGRESS, "open"),
    (ReportState.FIXED, "closed"), (ReportState.NOT_FIXED, "closed"), (ReportState.DUPLICATE, "closed"),
    (ReportState.NOTED, "closed"),
])
def test_every_state_is_open_or_closed(state: str, status: str) -> None:
    assert open311_status(state) == status


def test_status_notes_say_who_set_the_state() -> None:
    assert status_notes(state="fixed", set_by="resident", duplicate_of_id=None) == "Fixed, says a resident"
    assert status_notes(state="not_fixed", set_by="moderator", duplicate_of_id=None) == "Closed, not fixed"
    assert status_notes(state="duplicate", set_by="moderator", duplicate_of_id=7) == "Duplicate of request 7."


def test_a_title_is_the_first_line_cut_at_a_word() -> None:
    assert title_from("Burst pipe\nmore") == "Burst pipe"
    long = "The main pipe along the road to the clinic has burst and water is running into the houses below"
    assert title_from(long) == "The main pipe along the road to the clinic has burst and water is running into…"


def test_times_are_south_african_to_the_second() -> None:
    sent = dt.datetime(2026, 12, 7, 10, 0, 5, 123, tzinfo=dt.UTC)
    row = RequestRow(id=1, report_type="issue", state="open", state_set_by="", duplicate_of_id=None, title="Leak",
                     description="Leak", address="", lng=18.4, lat=-33.9, created_at=sent,
                     updated_at=sent + dt.timedelta(days=1), agency="", media_url=None)
    item = request_items([row])[0]
    assert (item["requested_datetime"], item["updated_datetime"]) == ("2026-12-07T12:00:05+02:00",
                                                                      "2026-12-08T12:00:05+02:00")
    assert (item["description"], item["expected_datetime"], item["media_url"]) == ("Leak", None, "")


@pytest.mark.parametrize(("text", "number"), [("12", 12), (" 7 ", 7), ("0", None), ("-1", None), ("1e3", None),
                                              ("١٢", None), ("9" * 19, None)])
def test_request_ids_are_positive_whole_numbers(text: str, number: int | None) -> None:
    assert parse_request_id(text) == number


def test_filters_default_to_the_last_90_days() -> None:
    assert parse_filters({}, NOW).start == NOW - dt.timedelta(days=90)
    end = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    filters = parse_filters({"end_date": "2026-06-01T00:00:00Z"}, NOW)
    assert (filters.start, filters.end) == (end - dt.timedelta(days=90), end)


def test_dates_may_carry_an_offset_or_be_a_day_in_south_african_time() -> None:
    filters = parse_filters({"start_date": "2026-01-01", "end_date": "2026-01-02T00:00:00+02:00"}, NOW)
    assert filters.start == dt.datetime(2025, 12, 31, 22, 0, tzinfo=dt.UTC)
    assert filters.end == dt.datetime(2026, 1, 1, 22, 0, tzinfo=dt.UTC)


def test_all_bad_filters_are_reported_together() -> None:
    with pytest.raises(Open311Error) as caught:
        parse_filters({"status": "x", "start_date": "soon", "service_code": "y"}, NOW)
    assert caught.value.status == 400
    assert [d.split(":")[0] for d in caught.value.descriptions] == ["service_code", "status", "start_date"]


def test_a_submission_takes_a_name_attributes_and_coordinates() -> None:
    submission = parse_submission({
        "service_code": "issue", "lat": "-33.92", "long": "18.42", "description": " Leak ", "first_name": "Thandi",
        "last_name": "M", "attribute[rough_location]": "TRUE", "attribute[title]": "Leak"})
    assert (submission.lng, submission.lat, submission.name, submission.description) == (18.42, -33.92, "Thandi M",
                                                                                         "Leak")
    assert submission.rough_location and submission.title == "Leak" and submission.project_id is None


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", ""])
def test_coordinates_must_be_finite_numbers(value: str) -> None:
    with pytest.raises(Open311Error):
        parse_submission({"service_code": "issue", "lat": value, "long": "18.4", "description": "Leak"})


def test_xml_escapes_text_and_writes_none_as_an_empty_element() -> None:
    body = to_xml("service_requests", [{"description": "<b>&\"fish\"</b>", "expected_datetime": None,
                                        "lat": -33.5, "metadata": True}])
    request = ElementTree.fromstring(body).find("request")
    assert request.findtext("description") == "<b>&\"fish\"</b>"
    assert request.find("expected_datetime").text is None
    assert (request.findtext("lat"), request.findtext("metadata")) == ("-33.5", "true")
    assert body.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
