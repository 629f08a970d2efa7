"""An open page in Debian's Chromium updates itself without reloading, against real processes: redis-server and
daphne on a SpatiaLite file (pytest-django's live server cannot serve WebSockets). The change is made in another
process through the service path; its relay, on commit, renders the fragments and publishes them.

No request may leave the machine: every HTTP request to another host is refused at the browser's network layer.
"""

from __future__ import annotations

import base64
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.realtime.test_end_to_end import PYTHON, Site, free_port, http_ok, wait_until

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
DEADLINE_SECONDS = 3
# A 1×1 transparent PNG: the map's tiles are not what these tests are about.
BLANK_TILE = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


@pytest.fixture(autouse=True)
def _nothing_pending() -> None:
    """Overrides the package's fixture: this module's data is in the site's own file, not the test database (and
    the test database must not be touched while Playwright's loop runs in this thread)."""


@pytest.fixture(scope="module", params=["split", "single"])
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """split: pages from one daphne process, sockets from another on their own port (scripts/serve.py's default);
    single: one process for both, the socket on the page's own origin."""
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed (make test installs it)")
    port = free_port()
    ws_port = free_port() if request.param == "split" else port
    site = Site.in_directory(
        tmp_path_factory.mktemp("live-browser"), port,
        # Static files from the source tree (WhiteNoise's finders), not a collected copy that may be stale.
        DEBUG="true",
        # Map tiles from the site's address (the page fixture answers them), never from the internet.
        MAP_TILE_URL=f"http://127.0.0.1:{port}/static/tiles/{{z}}/{{x}}/{{y}}.png",
        WS_PUBLIC_PORT=str(ws_port) if ws_port != port else "0",
    )
    site.manage("migrate", "--no-input", "-v", "0")
    site.start_redis()
    servers = {"daphne": port, **({"daphne-sockets": ws_port} if ws_port != port else {})}
    for name, listen in servers.items():
        site.start(name, PYTHON, "-m", "daphne", "-b", "127.0.0.1", "-p", str(listen), "bukaamanzi.asgi:application")
    try:
        for listen in {port, ws_port}:
            wait_until(lambda listen=listen: http_ok(f"http://127.0.0.1:{listen}/api/v1/health"),
                       "daphne did not answer", 60)
        yield site
    finally:
        site.stop_all()


# Module scope, sync API: Playwright's loop runs only while this module's tests do (a session-wide one would
# stop async tests elsewhere from starting their own loop).
@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium (/usr/bin/chromium) is missing: make test installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: object, site: Site) -> Iterator[object]:
    origin = f"http://127.0.0.1:{site.port}"
    context = browser.new_context(locale="en-ZA")  # type: ignore[attr-defined]
    outside: list[str] = []

    def only_local(route: object, request: object) -> None:
        if request.url.startswith(f"{origin}/static/tiles/"):  # type: ignore[attr-defined]
            route.fulfill(status=200, content_type="image/png", body=BLANK_TILE)  # type: ignore[attr-defined]
        elif request.url.startswith(origin) or request.url.startswith("data:"):  # type: ignore[attr-defined]
            route.continue_()  # type: ignore[attr-defined]
        else:
            outside.append(request.url)  # type: ignore[attr-defined]
            route.abort()  # type: ignore[attr-defined]

    context.route("**/*", only_local)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    yield page
    context.close()
    assert outside == [], f"requests left the machine: {outside}"
    assert problems == [], f"JavaScript errors: {problems}"


def make_project(site: Site, external_id: str, status: str = "implementation") -> str:
    return site.manage(
        "shell", "-c",
        "from projects.models import Project;"
        f"p = Project.objects.create(source='municipal_money', external_id={external_id!r}, name='Reservoir upgrade',"
        f" status={status!r}, progress_percentage=10);"
        "print(p.pk)",
    ).splitlines()[-1]


def set_progress(site: Site, project_id: str, progress: str) -> float:
    """Change the progress in a separate process (service path, relay on commit); returns the time just before."""
    return float(site.manage(
        "shell", "-c",
        "import time; from realtime.tasks import project_progress_set; started = time.time();"
        f"project_progress_set({project_id!r}, {progress!r}); print(started)",
    ).splitlines()[-1])


def watch_for(page: object, selector: str, text: str) -> None:
    """Record in the page when `text` first appears in `selector`, and mark the document to detect a reload."""
    page.evaluate(  # type: ignore[attr-defined]
        """([selector, text]) => {
             window.__notReloaded = true;
             const check = () => {
               const el = document.querySelector(selector);
               if (!window.__seenAt && el && el.textContent.includes(text)) { window.__seenAt = Date.now(); }
             };
             new MutationObserver(check).observe(document.body, {subtree: true, childList: true, characterData: true});
           }""",
        [selector, text],
    )


def test_open_project_page_shows_the_new_progress_without_reloading(page: object, site: Site) -> None:
    project_id = make_project(site, "BROWSER-1")
    sockets: list[str] = []
    page.on("websocket", lambda socket: sockets.append(socket.url))  # type: ignore[attr-defined]
    page.goto(f"http://127.0.0.1:{site.port}/projects/{project_id}/")  # type: ignore[attr-defined]
    pill = page.locator("#live-updates .live-pill")  # type: ignore[attr-defined]
    pill.filter(has_text="Live").wait_for(timeout=10_000)
    assert "10% complete" in page.locator("#project-progress").inner_text()  # type: ignore[attr-defined]
    watch_for(page, "#project-progress", "67% complete")

    changed_at = set_progress(site, project_id, "67")

    page.wait_for_function("() => window.__seenAt", timeout=10_000)  # type: ignore[attr-defined]
    waited = page.evaluate("() => window.__seenAt") / 1000 - changed_at  # type: ignore[attr-defined]
    print(f"commit to progress shown on the open page: {waited:.3f} s")  # shown with -s; the figure in docs
    assert waited <= DEADLINE_SECONDS, f"the new progress took {waited:.2f} s to show"
    assert page.evaluate("() => window.__notReloaded") is True  # type: ignore[attr-defined]
    assert page.locator("#project-progress progress").get_attribute("value") == "67.00"  # type: ignore[attr-defined]
    assert pill.inner_text() == "Live"
    assert pill.get_attribute("data-state") == "live"
    # The socket goes to the socket process's port in the split layout, to the page's own origin otherwise.
    socket_port = int(site.env["WS_PUBLIC_PORT"]) or site.port
    assert sockets == [f"ws://127.0.0.1:{socket_port}/ws/live/project/{project_id}?lang=en"]


def test_home_page_updates_the_row_it_shows_and_ignores_rows_it_does_not(page: object, site: Site) -> None:
    shown = make_project(site, "BROWSER-2", status="completed")
    hidden = make_project(site, "BROWSER-3", status="implementation")
    # Filtered to completed projects: the second project's row is not on this page.
    page.goto(f"http://127.0.0.1:{site.port}/?status=completed")  # type: ignore[attr-defined]
    page.locator("#live-updates .live-pill").filter(has_text="Live").wait_for(timeout=10_000)  # type: ignore[attr-defined]
    assert page.locator(f"#project-row-{hidden}").count() == 0  # type: ignore[attr-defined]
    watch_for(page, f"#project-row-{shown}", "Progress: 90%")

    set_progress(site, hidden, "20")  # pushed to every open home page; this one has no such row
    changed_at = set_progress(site, shown, "90")

    page.wait_for_function("() => window.__seenAt", timeout=10_000)  # type: ignore[attr-defined]
    assert page.evaluate("() => window.__seenAt") / 1000 - changed_at <= DEADLINE_SECONDS  # type: ignore[attr-defined]
    assert page.locator(f"#project-row-{hidden}").count() == 0  # type: ignore[attr-defined]
    assert page.evaluate("() => window.__notReloaded") is True  # type: ignore[attr-defined]
    # The `page` fixture fails the test if htmx reported the missing row as an error in the console.


def test_pipeline_page_shows_a_run_that_starts_in_another_process_and_passes_axe(page: object, site: Site) -> None:
    from tests.browser.conftest import AXE, axe_violations

    page.goto(f"http://127.0.0.1:{site.port}/pipeline/")  # type: ignore[attr-defined]
    page.locator("#live-updates .live-pill").filter(has_text="Live").wait_for(timeout=10_000)  # type: ignore[attr-defined]
    if AXE.exists():
        assert axe_violations(page) == []
    watch_for(page, "#pipeline-status", "Running")

    site.manage("shell", "-c", "from ingestion.services import ingestion_start_run;"
                "ingestion_start_run(source='dws', status='running', triggered_by='browser test')")

    page.wait_for_function("() => window.__seenAt", timeout=DEADLINE_SECONDS * 1000)  # type: ignore[attr-defined]
    assert page.evaluate("() => window.__notReloaded") is True  # type: ignore[attr-defined]
    assert "browser test" not in page.content()  # type: ignore[attr-defined]
