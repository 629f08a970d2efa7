"""The send pass stays bounded: the area match goes through the spatial index, and the number of queries does
not grow with the number of alerts or of emails beyond a fixed few per email."""

from __future__ import annotations

import random
import re
from decimal import Decimal

import pytest
from django.contrib.gis.geos import Point
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alerts.delivery import send_alerts_pass
from alerts.matching import area_candidates
from alerts.models import Alert, AlertKind, Delivery, Subscriber
from alerts.services import alert_confirm, alert_subscribe, area_target
from reports.services import report_submit
from tests.alerts.smtp import Mailbox

pytestmark = pytest.mark.django_db


def _many_areas(count: int) -> None:
    """Confirmed area alerts spread over the country, written in bulk (the planner needs rows to choose)."""
    rng = random.Random(13)
    now = timezone.now()
    subscribers = Subscriber.objects.bulk_create([Subscriber(email=f"plan{n}@example.org") for n in range(count)])
    Alert.objects.bulk_create([
        Alert(subscriber=s, kind=AlertKind.AREA, center=Point(rng.uniform(17, 32), rng.uniform(-34, -23), srid=4326),
              radius_km=Decimal("5"), target_key=f"area:plan{n}", language="en", confirmed_at=now)
        for n, s in enumerate(subscribers)])


def test_the_area_match_reads_the_spatial_index() -> None:
    _many_areas(2000)
    sql, params = area_candidates(Point(18.42, -33.92, srid=4326)).query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE alerts_alert")
            cursor.execute("ANALYZE alerts_subscriber")
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            index = re.search(r"Index Scan (?:using|on) (\w+)", plan)
            assert index is not None and "center" in index.group(1), plan
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            plan = "\n".join(str(row) for row in cursor.fetchall())
            assert "idx_alerts_alert_center" in plan, plan


def _areas(count: int) -> None:
    for n in range(count):
        alert = alert_subscribe(email=f"a{n}@example.org", target=area_target(
            lat=-33.92 + n * 0.0001, lng=18.42, radius_km=Decimal("5")), frequency="immediate", language="en")
        alert_confirm(alert=alert)


def _reports(count: int) -> None:
    for n in range(count):
        report_submit(title=f"Leak {n}", description="x", report_type="issue", lng=18.421, lat=-33.921,
                      email="known@example.org")


@pytest.mark.parametrize("size", [(3, 2), (12, 6)])
def test_queries_per_pass_grow_with_emails_by_a_fixed_few(mailbox: Mailbox, size: tuple[int, int],
                                                          settings: pytest.FixtureRequest) -> None:
    settings.ALERT_NEW_SENDER_HOLD_MINUTES = 0
    alerts, reports = size
    _areas(alerts)
    send_alerts_pass()  # the confirmations
    _reports(reports)
    with CaptureQueriesContext(connection) as queries:
        send_alerts_pass()
    emails = Delivery.objects.filter(kind="alerts").count()
    assert emails == alerts
    # Claim: the address's row, its items, their reports, the delivery, the items, the address (and a savepoint
    # around them here, inside the test's transaction); send: lease, delivery, items, sent. Matching: a few per
    # change, whatever the number of alerts.
    assert len(queries) <= 13 * emails + 8 * reports + 10, [q["sql"][:120] for q in queries.captured_queries]
