"""Playwright driving Debian's Chromium (never a downloaded browser) against pytest-django's live server.

No request may leave the machine: map tiles point at the live server (MAP_TILE_URL) and every other host is
refused at the browser's network layer, so a stray CDN link fails the test instead of reaching the internet.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


# Module scope: the sync API keeps an event loop running in the main thread until it stops, and async tests in
# other modules (tests/test_asgi.py) cannot start their own loop while it runs.
@pytest.fixture(scope="module")
def browser(django_db_setup: None) -> Iterator[object]:
    if not Path(CHROMIUM).exists() or shutil.which("node") is None:
        pytest.fail("Chromium (/usr/bin/chromium) is missing: make test installs it")
    if not AXE.exists():
        pytest.fail("node_modules/axe-core is missing: run npm ci (make test does)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread; the ORM calls the tests make are plain
    # synchronous ones, so Django's guard against ORM use inside a loop is lifted while the browser is open.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def site(browser, live_server, settings, transactional_db, monkeypatch) -> str:
    """The live server with the reference municipalities (a transactional test starts from empty tables)."""
    import leaflet

    from municipalities.services import municipality_load_reference

    municipality_load_reference()
    settings.MAP_TILE_URL = f"{live_server.url}/static/tiles/{{z}}/{{x}}/{{y}}.png"
    # The admin's maps are django-leaflet's, which read their tiles once, on import (LEAFLET_CONFIG): point them
    # at the live server too, or an admin page with a map would fetch tiles from the internet.
    monkeypatch.setitem(leaflet.app_settings, "TILES", [("local", settings.MAP_TILE_URL, {"attribution": ""})])
    return live_server.url


@pytest.fixture
def page(browser, site) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-ZA")
    outside: list[str] = []

    def only_local(route, request) -> None:
        if request.url.startswith(site) or request.url.startswith("data:"):
            route.continue_()
        else:
            outside.append(request.url)
            route.abort()

    context.route("**/*", only_local)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert outside == [], f"requests left the machine: {outside}"
    assert errors == [], f"JavaScript errors: {errors}"


def axe_violations(page) -> list[dict]:
    """Serious and critical WCAG 2.x A/AA violations that axe-core finds on the current page."""
    # Evaluated through the DevTools protocol, not added as an inline <script>: the site's Content-Security-Policy
    # refuses inline scripts, as it should.
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    result = page.evaluate(
        """async () => await axe.run(document, {runOnly: {type: 'tag',
             values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']}})"""
    )
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"],
         "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"] if v["impact"] in ("serious", "critical")
    ]
