"""Admin list pages stay at a fixed number of queries however many rows there are."""

from __future__ import annotations

import pytest
from django.contrib.gis.geos import Point
from django.urls import reverse

from changelog.models import AdminAction, DataChangeLog
from reports.models import Report, ReportPhoto, ReportStatus, ReportType
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db

ROWS = 10_000
# Session, user, permissions (2), count, page, photos, date hierarchy; list filters on free-text columns add one
# DISTINCT each. Measured 8-10 on SpatiaLite; the point is that the number does not grow with the rows.
MAX_QUERIES = 10


@pytest.fixture
def many_rows() -> None:
    projects = [ProjectFactory(), ProjectFactory(municipality=None)]
    statuses = [ReportStatus.PUBLISHED, ReportStatus.PUBLISHED, ReportStatus.FLAGGED, ReportStatus.SPAM]
    Report.objects.bulk_create(
        [
            Report(
                project=projects[i % 3] if i % 3 < 2 else None, title=f"Report {i}", description="d",
                location=Point(18.4 + i / 100_000, -33.9, srid=4326), report_type=ReportType.ISSUE,
                public_location=Point(18.4 + i / 100_000, -33.9, srid=4326),
                status=statuses[i % 4],
            )
            for i in range(ROWS)
        ],
        batch_size=1000,
    )
    first_page = list(Report.objects.order_by("-created_at", "-pk").values_list("pk", flat=True)[:100])
    ReportPhoto.objects.bulk_create(
        [ReportPhoto(report_id=pk, image=f"reports/2026/01/{pk}.jpg", width=800, height=600) for pk in first_page]
    )
    AdminAction.objects.bulk_create(
        [AdminAction(admin_name="m", target_type="report", target_id=str(i), action="flag", reason="r")
         for i in range(ROWS)], batch_size=1000,
    )
    DataChangeLog.objects.bulk_create(
        [DataChangeLog(entity_type="report", entity_id=str(i), change_type="updated", source="admin_action")
         for i in range(ROWS)], batch_size=1000,
    )


QUEUE_VIEWS = [
    {}, {"review": "unreviewed"}, {"status__exact": "flagged"}, {"status__exact": "spam"}, {"q": "Report 99"},
    {"report_type__exact": "issue", "p": "3"}, {"created_at__year": "2026"},
]
OTHER_LISTS = [
    "admin:changelog_adminaction_changelist", "admin:changelog_datachangelog_changelist",
    "admin:projects_project_changelist", "admin:reports_reportphoto_changelist",
]


# The 30,000 rows are made once per test, so each test walks several pages rather than being parametrized.
def test_the_report_queue_runs_a_bounded_number_of_queries_with_10000_reports(
    many_rows, moderator_client, django_assert_max_num_queries
) -> None:
    url = reverse("admin:reports_report_changelist")
    for query in QUEUE_VIEWS:
        with django_assert_max_num_queries(MAX_QUERIES):
            response = moderator_client.get(url, query)
        assert response.status_code == 200, query


def test_audit_photo_and_project_lists_run_a_bounded_number_of_queries(
    many_rows, moderator_client, django_assert_max_num_queries
) -> None:
    for url_name in OTHER_LISTS:
        with django_assert_max_num_queries(MAX_QUERIES):
            response = moderator_client.get(reverse(url_name))
        assert response.status_code == 200, url_name


def test_the_first_page_shows_thumbnails_with_alt_text(many_rows, moderator_client) -> None:
    content = moderator_client.get(reverse("admin:reports_report_changelist")).content.decode()
    assert content.count('<img src="/media/reports/2026/01/') == 100
    assert 'alt="Photo sent with report' in content and 'width="64" height="48"' in content
