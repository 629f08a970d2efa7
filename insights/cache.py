"""Insight figures kept per data version in the shared "insights" cache.

A figure is computed in the database once per data version (projects.apicache.data_version: the newest change-log
id, project write and fetch date; ingestion and moderation both move it) and shared by every process through the
"insights" cache (Redis with the channel layer, the database cache otherwise). The version is part of the key, so a
figure computed from older data is never served: after a change the next read recomputes it. If the cache server is
down, the figure is computed and served without it rather than failing the page.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import caches

from projects.apicache import data_version

CACHE_ALIAS = "insights"
T = TypeVar("T")
logger = logging.getLogger(__name__)


def figure_key(name: str, params: dict[str, Any] | None, version: str) -> str:
    """The cache key of one figure: its name, its parameters (order-free) and the data version."""
    raw = json.dumps([name, params or {}, version], sort_keys=True, default=str)
    return "fig:" + hashlib.blake2b(raw.encode(), digest_size=16).hexdigest()


def cached_figure(name: str, compute: Callable[[], T], params: dict[str, Any] | None = None,
                  *, version: str | None = None) -> T:
    """`compute()`, reused while the data version and the parameters are the same.

    `compute` must return picklable data (dicts, lists, numbers, dates), never querysets or model instances.
    """
    key = figure_key(name, params, version or data_version())
    cache = caches[CACHE_ALIAS]
    try:
        hit = cache.get(key)
    except Exception:  # a cache outage must not take the page down; the figure is computed instead
        logger.warning("insights cache unavailable; computing %s", name, exc_info=True)
        return compute()
    if hit is not None:
        return hit  # type: ignore[no-any-return]
    value = compute()
    try:
        cache.set(key, value)
    except Exception:
        logger.warning("insights cache unavailable; %s not kept", name, exc_info=True)
    return value
