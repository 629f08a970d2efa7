"""The admin stays bounded at scale: with 100,000 reports and 300,000 flags the report, update and flag lists, the
moderation queue and the admin index each run at most 12 queries, and each page's time is printed.

Slow on purpose (marked `scale`, about a minute a database): the point is a realistic table size for the planner
and the queue's subqueries. The rows are written once, mostly in SQL, for one test that walks every page.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.contrib.gis.geos import Point
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from reports.models import Contributor, Flag, FlagReason, Report, ReportStatus, ReportType, ReportUpdate
from reports.queue import queue_summary

pytestmark = [pytest.mark.django_db, pytest.mark.scale]

REPORTS = 100_000
FLAGS = 300_000
MAX_QUERIES = 12
# Reports are written as a template of a thousand through the ORM, then copied in SQL (INSERT ... SELECT, with
# the columns read from the model): writing 100,000 through bulk_create took minutes on SpatiaLite.
TEMPLATE = 1_000
# In each twenty: one hidden automatically (3 active flags, never reviewed), one public with an active flag, eight
# flagged once and restored (cleared flags, reviewed; they carry the rest of the 300,000 flags), ten never flagged.
# The group is written in `address` so that the SQL below can find it.
HIDDEN, FLAGGED, RESTORED = "hidden", "flagged", "restored"


def _group(n: int) -> str:
    return HIDDEN if n % 20 == 0 else FLAGGED if n % 20 == 1 else RESTORED if n % 20 < 10 else ""


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _copy_template(copies: int) -> None:
    table = _q(Report._meta.db_table)
    columns = [_q(field.column) for field in Report._meta.concrete_fields if not field.primary_key]
    listed = ", ".join(columns)
    numbers = ", ".join(f"({n})" for n in range(copies))
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({listed}) SELECT {', '.join(f'template.{c}' for c in columns)} "  # noqa: S608
                       f"FROM {table} AS template CROSS JOIN (VALUES {numbers}) AS copies")


def _reports(now: dt.datetime) -> None:
    senders = Contributor.objects.bulk_create(
        [Contributor(name=f"Sender {n}", email=f"sender{n}@example.org") for n in range(100)])
    point = Point(18.42, -33.92, srid=4326)
    Report.objects.bulk_create([
        Report(title=f"Report {n}", description="d", location=point, public_location=point, address=_group(n),
               report_type=ReportType.ISSUE, contributor=senders[n % 100] if n % 10 == 3 else None,
               status=ReportStatus.FLAGGED if _group(n) == HIDDEN else ReportStatus.PUBLISHED,
               reviewed_at=now if _group(n) == RESTORED else None)
        for n in range(TEMPLATE)])
    _copy_template(REPORTS // TEMPLATE - 1)
    # Two years of reports, newest last: a hundred steps of a week, and the newest ten within the alert hold (the
    # anonymous ones among them are held as first-time senders').
    ids = list(Report.objects.order_by("pk").values_list("pk", flat=True))
    step = len(ids) // 100
    for n, start in enumerate(range(0, len(ids), step)):
        Report.objects.filter(pk__gte=ids[start], pk__lte=ids[min(start + step, len(ids)) - 1]).update(
            created_at=now - dt.timedelta(weeks=100 - n))
    for n, pk in enumerate(reversed(ids[-10:])):
        Report.objects.filter(pk=pk).update(created_at=now - dt.timedelta(minutes=n + 1))


def _updates() -> None:
    """An update on every fifth report; every hundredth update hidden automatically."""
    report_ids = Report.objects.order_by("pk").values_list("pk", flat=True)[::5]
    ReportUpdate.objects.bulk_create(
        [ReportUpdate(report_id=pk, text=f"Update {n}",
                      status=ReportStatus.FLAGGED if n % 100 == 0 else ReportStatus.PUBLISHED)
         for n, pk in enumerate(report_ids)], batch_size=5_000)


def _flags(now: dt.datetime) -> int:
    flag, report, update = (_q(model._meta.db_table) for model in (Flag, Report, ReportUpdate))
    columns = "report_id, update_id, reason, text, browser_key, address_key, created_at, cleared_at"
    reasons = ", ".join(f"({n}, '{reason}')" for n, reason in enumerate(
        [FlagReason.SPAM, FlagReason.OFFENSIVE, FlagReason.OFF_TOPIC, FlagReason.PERSONAL_INFORMATION] * 4))

    def flags(select: str, where: str, per: int, *params: object) -> str:
        return (f"INSERT INTO {flag} ({columns}) SELECT {select} FROM {{table}} AS item "  # noqa: S608
                f"CROSS JOIN (SELECT * FROM (VALUES {reasons}) AS r WHERE r.column1 < {per}) AS v WHERE {where}")

    active, restored = (connection.ops.adapt_datetimefield_value(now - dt.timedelta(days=days)) for days in (0, 2))
    cleared = connection.ops.adapt_datetimefield_value(now - dt.timedelta(days=1))
    on_report = "item.id, NULL, v.column2, '', '', 'a' || v.column1, %s, {cleared}"
    with connection.cursor() as cursor:
        cursor.execute(flags(on_report.format(cleared="NULL"), f"item.address = '{HIDDEN}'", 3).format(
            table=report), [active])
        cursor.execute(flags(on_report.format(cleared="NULL"), f"item.address = '{FLAGGED}'", 1).format(
            table=report), [active])
        cursor.execute(flags("NULL, item.id, v.column2, '', '', 'a' || v.column1, %s, NULL",
                             f"item.status = '{ReportStatus.FLAGGED}'", 3).format(table=update), [active])
        rest = FLAGS - Flag.objects.count()
        cursor.execute(flags(on_report.format(cleared="%s"), f"item.address = '{RESTORED}'", 16).format(
            table=report) + " LIMIT %s", [restored, cleared, rest])
    return Flag.objects.count()


@pytest.fixture
def at_scale() -> None:
    started = time.perf_counter()
    now = timezone.now()
    _reports(now)
    _updates()
    assert Report.objects.count() == REPORTS
    assert _flags(now) == FLAGS
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(f"\n[{connection.vendor}] {REPORTS:,} reports and {FLAGS:,} flags made in "
          f"{time.perf_counter() - started:.1f} s")


PAGES = [
    ("report list", "admin:reports_report_changelist", {}),
    ("report list, not reviewed", "admin:reports_report_changelist", {"review": "unreviewed"}),
    ("report queue, all", "admin:reports_report_changelist", {"queue": "all"}),
    ("report queue, flagged", "admin:reports_report_changelist", {"queue": "flagged"}),
    ("report queue, hidden", "admin:reports_report_changelist", {"queue": "hidden"}),
    ("report queue, held", "admin:reports_report_changelist", {"queue": "held"}),
    ("report queue, page 20", "admin:reports_report_changelist", {"queue": "all", "p": "20"}),
    ("update list", "admin:reports_reportupdate_changelist", {}),
    ("update queue, all", "admin:reports_reportupdate_changelist", {"queue": "all"}),
    ("flag list", "admin:reports_flag_changelist", {}),
    ("flag list, active", "admin:reports_flag_changelist", {"cleared_at__isempty": "1"}),
    ("admin index", "admin:index", {}),
]


def test_admin_pages_and_the_queue_stay_bounded_with_100000_reports_and_300000_flags(
    at_scale, moderator_client, django_assert_max_num_queries, capsys
) -> None:
    summary = queue_summary()
    assert summary.reports["hidden"] == REPORTS // 20 and summary.reports["flagged"] == REPORTS // 20
    assert summary.reports["held"] >= 1 and summary.updates["hidden"] == REPORTS // 5 // 100
    timings = []
    for name, url_name, query in PAGES:
        moderator_client.get(reverse(url_name), query)  # the first request of a kind warms caches
        started = time.perf_counter()
        with django_assert_max_num_queries(MAX_QUERIES):
            response = moderator_client.get(reverse(url_name), query)
        timings.append((name, time.perf_counter() - started))
        assert response.status_code == 200, name
    with capsys.disabled():
        print(f"\n[{connection.vendor}] page times: "
              + ", ".join(f"{name} {seconds * 1000:.0f} ms" for name, seconds in timings))
