"""Insight figures kept per data version: in this process first, then in the shared "insights" cache.

A figure is computed in the database once per data version (projects.dataversion.data_version: the newest change-log
id, project write and fetch date; ingestion and moderation both move it) and shared by every process through the
"insights" cache (Redis with the channel layer, the database cache otherwise). The version is part of the key, so a
figure computed from older data is never served: after a change the next read recomputes it. If the cache server is
down, the figure is computed and served without it rather than failing the page.

In front of the shared cache, each process keeps the figures it read last (the hot tier): the key holds the data
version, so a local copy is exactly as fresh as the shared one, and a warm page costs a dictionary look-up (and, on
SpatiaLite, the data-version query) instead of a round trip and an unpickling (bench/insights: README, "Insights").
A page process on PostgreSQL keys its hot tier by the version pushed to it (projects/dataversion.py), and the
shared cache by the queried one, which the worker's warm-up also uses: one query on a local miss.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from django.core.cache import caches

from bukaamanzi.lib.lru import LockedLRU
from projects.dataversion import data_version, shared_version

CACHE_ALIAS = "insights"
# Enough for the national page, nine provinces and the busiest municipalities in two or three languages; a figure
# of an older data version falls out as new ones come in.
LOCAL_ENTRIES = 256
T = TypeVar("T")
logger = logging.getLogger(__name__)

_local: LockedLRU[str, Any] = LockedLRU(LOCAL_ENTRIES)
# The data version a figure being computed belongs to, so that the figures it reads share it (and its query).
_computing_version: ContextVar[str | None] = ContextVar("insights_computing_version", default=None)


def figure_key(name: str, params: dict[str, Any] | None, version: str) -> str:
    """The cache key of one figure: its name, its parameters (order-free) and the data version."""
    raw = json.dumps([name, params or {}, version], sort_keys=True, default=str)
    return "fig:" + hashlib.blake2b(raw.encode(), digest_size=16).hexdigest()


def local_clear() -> None:
    """Forget this process's copies (tests and benchmarks that clear the shared cache)."""
    _local.clear()


@contextmanager
def _computing(version: str) -> Iterator[None]:
    token = _computing_version.set(version)
    try:
        yield
    finally:
        _computing_version.reset(token)


def cached_figure(name: str, compute: Callable[[], T], params: dict[str, Any] | None = None,
                  *, version: str | None = None) -> T:
    """`compute()`, reused while the data version and the parameters are the same.

    `compute` must return picklable data (dicts, lists, numbers, dates), never querysets or model instances.
    """
    version = version or _computing_version.get() or data_version()
    key = figure_key(name, params, version)
    hit = _local.get(key)
    if hit is not None:
        return hit  # type: ignore[no-any-return]
    # The shared tier is keyed by the version every process computes alike (a page process's pushed version is
    # its own name for the state: the worker that warms the cache does not listen).
    shared = shared_version(version)
    shared_key = key if shared == version else figure_key(name, params, shared)
    cache = caches[CACHE_ALIAS]
    try:
        hit = cache.get(shared_key)
    except Exception:  # a cache outage must not take the page down; the figure is computed instead
        logger.warning("insights cache unavailable; computing %s", name, exc_info=True)
        with _computing(shared):
            return compute()
    if hit is not None:
        _local.put(key, hit)
        return hit  # type: ignore[no-any-return]
    with _computing(shared):
        value = compute()
    _local.put(key, value)
    try:
        cache.set(shared_key, value)
    except Exception:
        logger.warning("insights cache unavailable; %s not kept", name, exc_info=True)
    return value
