"""The Content-Security-Policy in a real browser (Debian's Chromium): the home page, a project page with its map,
the report form, the API's documentation and the admin (log-in, index, a project with its map widget, a report
with its read-only map) load and draw their maps with no script or style refused."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point

from reports.models import ReportType
from reports.services import report_submit
from tests.factories import ProjectFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-test-password"
# Records each refusal in the page, before any of the page's own code runs (init scripts are not page scripts).
LISTEN = """window.__csp = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push(
  e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + (e.sourceFile || '') + ':' + e.lineNumber));"""


@pytest.fixture
def watched(page):  # type: ignore[no-untyped-def]
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    page.context.add_init_script(LISTEN)
    return page, console


def refused(page, console: list[str]) -> list[str]:  # type: ignore[no-untyped-def]
    in_console = [text for text in console if "Content Security Policy" in text or "Content-Security-Policy" in text]
    return in_console + page.evaluate("window.__csp")


def shows(page, console: list[str], selector: str, state: str = "visible") -> None:  # type: ignore[no-untyped-def]
    """Wait for what the page's scripts draw; if it never comes, say what the policy refused."""
    try:
        page.wait_for_selector(selector, timeout=15000, state=state)
    except Exception as error:
        raise AssertionError(f"{page.url}: {selector} never appeared; refused: {refused(page, console)}; "
                             f"console: {console[-10:]}") from error


def test_pages_and_the_admin_run_under_the_policy_with_no_violation(watched, site) -> None:  # type: ignore[no-untyped-def]
    page, console = watched
    project = ProjectFactory(location=Point(18.42, -33.92, srid=4326))
    report = report_submit(title="Leak at the school gate", description="Water runs past the gate.",
                           report_type=ReportType.ISSUE, lng=18.43, lat=-33.93)
    get_user_model().objects.create_superuser("moderator", "moderator@example.org", PASSWORD)

    response = page.goto(f"{site}/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    shows(page, console, "#project-map .leaflet-marker-icon")

    page.goto(f"{site}/projects/{project.pk}/")
    shows(page, console, "#point-map img.leaflet-marker-icon")

    page.goto(f"{site}/reports/new/")
    shows(page, console, "#pick-map.leaflet-container")

    page.goto(f"{site}/api/v1/docs")
    shows(page, console, "#swagger-ui .swagger-ui", state="attached")  # drawn by swagger-ui-bundle.js

    page.goto(f"{site}/admin/login/?next=/admin/")
    page.fill("#id_username", "moderator")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{site}/admin/")

    page.goto(f"{site}/admin/projects/project/{project.pk}/change/")
    shows(page, console, ".leaflet-container .leaflet-marker-icon")  # django-leaflet's widget, with the nonce
    page.goto(f"{site}/admin/reports/report/{report.pk}/change/")
    shows(page, console, ".readonly-map .leaflet-marker-icon")
    page.wait_for_function("window.__csp !== undefined")

    assert refused(page, console) == []
