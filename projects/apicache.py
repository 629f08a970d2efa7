"""A per-process cache of public API response bodies, keyed by the data version (projects/dataversion.py).

Any write the version sees changes the key, so a cached body is never served after it. Entries also expire after
API_CACHE_SECONDS: the responses already allow clients and proxies that much staleness (Cache-Control max-age), and
it bounds what the version cannot see (red flags that turn true with the date alone; where the version is queried
rather than pushed, a transaction that took its change-log id before another's but committed after it).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django.utils.translation import get_language

from bukaamanzi.apitools import dumps, json_response
from projects.dataversion import data_version

CACHE_ALIAS = "api"


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
