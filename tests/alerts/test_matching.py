"""The area match: the great-circle distance decides at the edge of the circle, after the index narrowed."""

from __future__ import annotations

import math

import pytest

from alerts.matching import alert_items_match, distance_km
from alerts.models import AlertItem
from alerts.services import alert_confirm, alert_subscribe, area_target
from reports.services import report_submit

pytestmark = pytest.mark.django_db


def test_distance_is_the_great_circle_distance() -> None:
    assert distance_km(18.4241, -33.9249, 18.8602, -33.9321) == pytest.approx(40.3, abs=0.3)  # Cape Town, Stellenbosch
    assert distance_km(28.0, -26.0, 28.0, -26.0) == 0


def test_a_report_just_inside_the_radius_is_matched_and_one_just_outside_is_not() -> None:
    alert = alert_confirm(alert=alert_subscribe(email="edge@example.org", target=area_target(
        lat=-26.2, lng=28.04, radius_km=5), frequency="immediate", language="en"))
    km_per_degree = 2 * math.pi * 6371.0088 / 360
    inside = report_submit(title="Inside", description="x", report_type="issue", lng=28.04,
                           lat=-26.2 + 4.9 / km_per_degree)
    report_submit(title="Outside", description="x", report_type="issue", lng=28.04, lat=-26.2 + 5.1 / km_per_degree)
    alert_items_match()
    assert list(AlertItem.objects.values_list("alert", "report")) == [(alert.pk, inside.pk)]


def test_a_report_on_no_project_reaches_the_alerts_of_the_municipality_whose_boundary_holds_it() -> None:
    from django.contrib.gis.geos import MultiPolygon, Polygon

    from alerts.models import AlertKind
    from alerts.services import AlertTarget
    from tests.factories import municipality

    local = municipality("EC101")  # a local municipality of the Sarah Baartman district (DC10)
    local.boundary = MultiPolygon(Polygon.from_bbox((24.0, -33.6, 24.6, -33.0)), srid=4326)
    local.save(update_fields=["boundary"])
    district = municipality("DC10")
    alerts = [alert_confirm(alert=alert_subscribe(email=f"{m.code}@example.org", target=AlertTarget(
        kind=AlertKind.MUNICIPALITY, municipality=m), frequency="immediate", language="en")) for m in (local, district)]
    inside = report_submit(title="Inside EC101", description="x", report_type="issue", lng=24.3, lat=-33.3)
    report_submit(title="Outside", description="x", report_type="issue", lng=26.0, lat=-33.3)
    alert_items_match()
    assert sorted(AlertItem.objects.values_list("alert", "report")) == sorted((a.pk, inside.pk) for a in alerts)
