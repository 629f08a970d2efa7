"""Rate limits for reports, updates and "affected too", per client address, as django-ninja throttles (the page
views call the same objects' `allow_request`).

A fixed window counted with the cache's atomic `add` + `incr` (ninja's own SimpleRateThrottle reads, appends and
writes a list, which lets concurrent requests through). Counts live in the `ratelimit` cache alias: the private
Redis in production, so both daphne processes share one count. If the cache is unreachable, requests are let
through and a warning is logged: a resident's report matters more than a perfect limit.
ninja answers a refused request with 429 and a Retry-After header (seconds to the end of the window).
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest
from ninja.throttling import BaseThrottle

from bukaamanzi.apitools import client_address

logger = logging.getLogger(__name__)

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """'10/h' -> (10, 3600)."""
    count, _, period = rate.partition("/")
    if not count.isdigit() or period not in PERIODS or int(count) < 1:
        raise ValueError(f"A rate must look like 10/h (count per s, m, h or d), not {rate!r}")
    return int(count), PERIODS[period]


class ClientRateThrottle(BaseThrottle):
    """`setting` names the rate setting (e.g. REPORT_RATE_LIMIT), read on each request so tests can change it."""

    def __init__(self, scope: str, setting: str) -> None:
        self.scope = scope
        self.setting = setting
        # ninja keeps one throttle object per operation and asks wait() after allow_request(): per thread.
        self._local = threading.local()

    def allow_request(self, request: HttpRequest) -> bool:
        limit, period = parse_rate(getattr(settings, self.setting))
        now = time.time()
        window = int(now // period)
        key = f"{self.scope}:{client_address(request)}:{period}:{window}"
        self._local.wait = (window + 1) * period - now
        cache = caches["ratelimit"]
        try:
            cache.add(key, 0, timeout=period + 1)
            count = cache.incr(key)
        except ValueError:  # the key expired between add and incr: this is the first request of a new window
            cache.set(key, 1, timeout=period + 1)
            count = 1
        except Exception:  # an unreachable cache must not stop reports (see the module docstring)
            logger.warning("Rate-limit cache unavailable; %s not limited", self.scope, exc_info=True)
            return True
        return count <= limit

    def wait(self) -> float | None:
        return max(getattr(self._local, "wait", 1.0), 1.0)


report_throttle = ClientRateThrottle("reports", "REPORT_RATE_LIMIT")
affected_throttle = ClientRateThrottle("affected", "AFFECTED_RATE_LIMIT")
update_throttle = ClientRateThrottle("updates", "UPDATE_RATE_LIMIT")
flag_throttle = ClientRateThrottle("flags", "FLAG_RATE_LIMIT")
