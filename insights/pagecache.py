"""Whole insights pages kept in each page process, per data version, language and address.

Why: the body of a warm insights page already comes from memory (insights/pages.py), but rendering the page around
it (the base template, its navigation and language form) cost as much CPU as the whole About page, so noise alone
decided whether a warm insights page met issue 17's goal (p95 at most 1.2 times About's). Kept whole, a warm page
costs a dictionary look-up and one replacement.

Nothing personal is kept. The page is rendered once with a sentinel where the CSRF token goes, and every response
gets its visitor's own token in its place (`get_token`, which also makes the CSRF middleware set the cookie, as the
normal render does). Pages for signed-in users and for requests with messages waiting are rendered as before, never
read from or kept here; so is a page whose render asked for the request's CSP nonce (none of the insights templates
does today). Only 200 answers are kept, and only for addresses a link on the site can lead to (no query, or the
sort order's parameters once each), so neither errors nor made-up query strings take the places.

The key holds the data version decided once per request and passed on to the render, so a page is never kept under
a newer version than the data it shows; the language, since the words differ; and the full path, which the
language form sends the visitor back to and whose sort order orders the tables.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Collection
from typing import Any, NamedTuple

from django.contrib.messages import get_messages
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.utils.translation import get_language

from bukaamanzi.lib.lru import LockedLRU
from projects.dataversion import data_version

# The national page and the nine provinces in four languages, with room for some sort orders.
ENTRIES = 64
# Stands where the CSRF token goes. Random per process, so no content (a query string echoed in the language form,
# say) can hold it: it is replaced before any response leaves. Letters, digits and hyphens survive HTML escaping.
SENTINEL = f"csrf-sentinel-{secrets.token_hex(16)}"
_SENTINEL_BYTES = SENTINEL.encode()

# (version, language, full path) -> the page rendered with the sentinel.
Key = tuple[str, str, str]
# render(version, context): the page for that data version, with `context` over the template's own context
# (a view's explicit context wins over the context processors', so {"csrf_token": SENTINEL} replaces the token).
Render = Callable[[str | None, dict[str, Any]], HttpResponse]


class _Page(NamedTuple):
    content: bytes
    content_type: str


_pages: LockedLRU[Key, _Page] = LockedLRU(ENTRIES)


def clear() -> None:
    """Forget every kept page (tests)."""
    _pages.clear()


def kept() -> list[Key]:
    """The keys of the pages kept, oldest first (tests; a look from a shell)."""
    return _pages.keys()


def _shareable(request: HttpRequest, query_keys: Collection[str]) -> bool:
    if request.method not in ("GET", "HEAD"):
        return False
    if any(key not in query_keys or len(request.GET.getlist(key)) > 1 for key in request.GET):
        return False
    # len() reads the waiting messages without marking them used: the normal render still shows them.
    return not request.user.is_authenticated and len(get_messages(request)) == 0


def _with_token(content: bytes, request: HttpRequest) -> bytes:
    return content.replace(_SENTINEL_BYTES, get_token(request).encode())


def serve(request: HttpRequest, render: Render, *, query_keys: Collection[str] = ()) -> HttpResponse:
    """The page `render` makes, from this process's copy when an anonymous visitor asks for one already kept.

    `render(version, context)` must render the page for that data version (None: its own, for a page not kept) with
    `context` added over its template context. `query_keys`: the query parameters a kept page may have.
    """
    if not _shareable(request, query_keys):
        return render(None, {})
    version = data_version()
    key = (version, get_language(), request.get_full_path())
    page = _pages.get(key)
    if page is None:
        response = render(version, {"csrf_token": SENTINEL})
        # bool() on django-csp's lazy nonce tells whether this render generated it, without generating one.
        if response.status_code != 200 or bool(getattr(request, "csp_nonce", None)):
            response.content = _with_token(response.content, request)  # an error page can hold it too
            return response
        page = _Page(response.content, response["Content-Type"])
        _pages.put(key, page)
    return HttpResponse(_with_token(page.content, request), content_type=page.content_type)
