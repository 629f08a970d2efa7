""""It affects me too" on report and project pages, with and without JavaScript (HTMX)."""

import pytest
from django.test import Client

from reports.models import ReportStatus
from tests.factories import ProjectFactory, ReportFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _private_rate_limit_cache(settings) -> None:
    settings.CACHES = {**settings.CACHES, "ratelimit": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "page-affected-tests"}}
    from django.core.cache import caches

    caches["ratelimit"].clear()


def test_without_javascript_a_tap_counts_and_returns_to_the_report(client) -> None:
    report = ReportFactory()
    response = client.post(f"/reports/{report.pk}/affected/", follow=True)
    assert response.redirect_chain[-1][0] == f"/reports/{report.pk}/#report-{report.pk}"
    html = response.content.decode()
    assert "you are counted as affected too" in html and "1 resident says this affects them." in html
    response = client.post(f"/reports/{report.pk}/affected/", {"back": "project"}, follow=True)
    assert response.redirect_chain[-1][0] == f"/projects/{report.project.pk}/#report-{report.pk}"
    assert "already said this affects you" in response.content.decode()
    report.refresh_from_db()
    assert report.affected_count == 1


def test_htmx_returns_the_report_fragment_with_the_new_count(client) -> None:
    report = ReportFactory()
    response = client.post(f"/reports/{report.pk}/affected/", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200 and html.strip().startswith(f'<article id="report-{report.pk}"')
    assert "1 resident says this affects them." in html and 'role="status"' in html


def test_a_project_page_counts_residents_affected(client) -> None:
    project = ProjectFactory()
    page = client.get(f"/projects/{project.pk}/").content.decode()
    assert 'id="project-affected"' in page and "0 residents say this project affects them." in page
    response = client.post(f"/projects/{project.pk}/affected/", headers={"HX-Request": "true"})
    assert response.content.decode().strip().startswith('<form id="project-affected"')
    assert "1 resident says this project affects them." in response.content.decode()
    Client().post(f"/projects/{project.pk}/affected/", REMOTE_ADDR="10.0.0.5", follow=True)
    project.refresh_from_db()
    assert project.affected_count == 2
    history = client.get(f"/projects/{project.pk}/").content.decode()
    assert "affected too changed" not in history  # a count, not history


def test_taps_need_post_and_csrf_and_a_public_report(client) -> None:
    report = ReportFactory()
    assert client.get(f"/reports/{report.pk}/affected/").status_code == 405
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(f"/reports/{report.pk}/affected/").status_code == 403
    hidden = ReportFactory(status=ReportStatus.FLAGGED)
    assert client.post(f"/reports/{hidden.pk}/affected/").status_code == 404
    assert client.get(f"/reports/{hidden.pk}/").status_code == 404


def test_taps_are_rate_limited_on_the_page(client, settings) -> None:
    settings.AFFECTED_RATE_LIMIT = "1/h"
    first, second = ReportFactory(), ReportFactory()
    assert client.post(f"/reports/{first.pk}/affected/").status_code == 302
    response = client.post(f"/reports/{second.pk}/affected/", headers={"HX-Request": "true"})
    assert response.status_code == 429 and "Too many taps" in response.content.decode()
