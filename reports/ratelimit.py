"""Rate limits for reports, updates and "affected too", per client address, as django-ninja throttles (the page
views call the same objects' `allow_request`).

The counting (a fixed window in the shared `ratelimit` cache, let through with a warning when the cache is
unreachable) is `bukaamanzi.lib.ratelimit.rate_hit`, shared with the per-key limits of `apikeys`.
ninja answers a refused request with 429 and a Retry-After header (seconds to the end of the window).
"""

from __future__ import annotations

import threading

from django.conf import settings
from django.http import HttpRequest
from ninja.throttling import BaseThrottle

from bukaamanzi.apitools import client_address
from bukaamanzi.lib.ratelimit import PERIODS, parse_rate, rate_hit

__all__ = ["PERIODS", "ClientRateThrottle", "parse_rate"]


class ClientRateThrottle(BaseThrottle):
    """`setting` names the rate setting (e.g. REPORT_RATE_LIMIT), read on each request so tests can change it."""

    def __init__(self, scope: str, setting: str) -> None:
        self.scope = scope
        self.setting = setting
        # ninja keeps one throttle object per operation and asks wait() after allow_request(): per thread.
        self._local = threading.local()

    def allow_request(self, request: HttpRequest) -> bool:
        allowed, self._local.wait = rate_hit(f"{self.scope}:{client_address(request)}", getattr(settings, self.setting))
        return allowed

    def wait(self) -> float | None:
        return max(getattr(self._local, "wait", 1.0), 1.0)


report_throttle = ClientRateThrottle("reports", "REPORT_RATE_LIMIT")
affected_throttle = ClientRateThrottle("affected", "AFFECTED_RATE_LIMIT")
update_throttle = ClientRateThrottle("updates", "UPDATE_RATE_LIMIT")
flag_throttle = ClientRateThrottle("flags", "FLAG_RATE_LIMIT")
