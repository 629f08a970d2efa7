"""The browser fixtures of tests/browser (Debian's Chromium through Playwright, nothing fetched from outside)."""

from tests.browser.conftest import browser, page, site  # noqa: F401
