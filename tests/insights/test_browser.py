"""axe-core finds nothing on the insights pages and the municipality page's section (Debian's Chromium)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import axe_violations, browser, page, site  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_insights_pages_have_no_accessibility_violations(page: Any, site: str, country: dict) -> None:  # noqa: F811
    for path in ("/insights/", "/insights/EC/?sort=overdue_rate&order=desc", "/municipalities/DC10/"):
        page.goto(f"{site}{path}")
        assert page.locator("svg.insights-chart[role=img]").count() == 4, path
        assert axe_violations(page) == [], path


def test_sorting_a_table_works_without_javascript(browser: Any, site: str, country: dict) -> None:  # noqa: F811
    context = browser.new_context(java_script_enabled=False)
    without_script = context.new_page()
    without_script.goto(f"{site}/insights/EC/")
    without_script.get_by_role("link", name="Projects", exact=True).last.click()
    assert "sort=projects" in without_script.url
    header = without_script.locator("th[aria-sort]")
    assert header.get_attribute("aria-sort") == "descending"
    context.close()
