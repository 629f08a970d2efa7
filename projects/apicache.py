"""A per-process cache of public API response bodies, keyed by the data version.

The data version is one cheap query (three index look-ups): the newest change-log id (every service write records
one: projects, budgets, reports, "affected too", moderation, deletions), the newest project `updated_at` (writes
that bypass the services, such as seeds) and the newest `last_scraped_at` (ingestion refreshes the fetch date of
unchanged projects without logging). Any such write changes the key, so a cached body is never served after a change the
version sees. Entries also expire after API_CACHE_SECONDS: the responses already allow clients and proxies that
much staleness (Cache-Control max-age), and it bounds what the version cannot see (a transaction that took its
change-log id before another's but committed after it, and red flags that turn true with the date alone).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.utils.translation import get_language

from bukaamanzi.apitools import dumps, json_response
from changelog.models import DataChangeLog
from projects.models import Project

CACHE_ALIAS = "api"


def _version_sql() -> str:
    log, project = DataChangeLog._meta.db_table, Project._meta.db_table
    qn = connection.ops.quote_name
    return (
        f"SELECT (SELECT MAX(id) FROM {qn(log)}), (SELECT MAX(updated_at) FROM {qn(project)}), "  # noqa: S608
        f"(SELECT MAX(last_scraped_at) FROM {qn(project)})"
    )


def data_version() -> str:
    """What the public data looks like now, as a short string; it changes with every write the module doc names."""
    with connection.cursor() as cursor:
        cursor.execute(_version_sql())
        row = cursor.fetchone() or ()
    return ":".join(str(part) for part in row)


def cached_json_response(request: HttpRequest, build: Callable[[], Any], *, version: str | None = None) -> HttpResponse:
    """`json_response(request, build())`, with the body reused while the data version and the URL are the same.

    `build` raises (an ApiError, say) for bad input; nothing is cached then. The key holds the language, since
    attribution notes are translated. Pass `version` when the caller already read it.
    """
    if settings.API_CACHE_SECONDS <= 0:
        return json_response(request, build())
    url = request.get_full_path()
    version = version or data_version()
    key = "body:" + hashlib.blake2b(f"{version}|{get_language()}|{url}".encode(), digest_size=16).hexdigest()
    cache = caches[CACHE_ALIAS]
    body = cache.get(key)
    if body is None:
        built = build()
        body = built if isinstance(built, bytes) else dumps(built)  # bytes: a body its builder already encoded
        cache.set(key, body, settings.API_CACHE_SECONDS)
    return json_response(request, body)
