"""The one fixed-window request counter behind every rate limit (reports/ratelimit.py per client address,
apikeys/auth.py per API key).

Counted with the cache's atomic `add` + `incr` in the `ratelimit` cache alias (the private Redis in production, so
every web process shares one count). If the cache is unreachable the request is let through and a warning is
logged: a resident's report matters more than a perfect limit.
"""

from __future__ import annotations

import logging
import time

from django.core.cache import caches

logger = logging.getLogger(__name__)

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """'10/h' -> (10, 3600)."""
    count, _, period = rate.partition("/")
    if not count.isdigit() or period not in PERIODS or int(count) < 1:
        raise ValueError(f"A rate must look like 10/h (count per s, m, h or d), not {rate!r}")
    return int(count), PERIODS[period]


def rate_hit(bucket: str, rate: str) -> tuple[bool, float]:
    """Count one request in `bucket` against `rate`: (allowed, seconds to the end of the window)."""
    limit, period = parse_rate(rate)
    now = time.time()
    window = int(now // period)
    key = f"{bucket}:{period}:{window}"
    wait = (window + 1) * period - now
    cache = caches["ratelimit"]
    try:
        cache.add(key, 0, timeout=period + 1)
        count = cache.incr(key)
    except ValueError:  # the key expired between add and incr: this is the first request of a new window
        cache.set(key, 1, timeout=period + 1)
        count = 1
    except Exception:  # an unreachable cache must not stop requests (see the module docstring)
        logger.warning("Rate-limit cache unavailable; %s not limited", bucket, exc_info=True)
        return True, wait
    return count <= limit, wait
