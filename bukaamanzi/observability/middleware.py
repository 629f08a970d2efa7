"""One middleware, first in the list: gives the request its id (in the log context and the response header) and,
with METRICS_ENABLED, times it by route name and counts its status.

Kept to a few microseconds (README, "Metrics and logs", has the measurement): no database, no lookups beyond the
route name Django already resolved, and the metric children cached per label set by prometheus-client.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import structlog
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

from bukaamanzi.lib.metrics import http_request_seconds, http_responses
from bukaamanzi.observability.requestid import HEADER, META_KEY, new_request_id, parse_request_id

# Labels for requests no URL pattern answered: whitenoise's static files, and 404s (their paths are unbounded).
STATIC_ROUTE = "static"
UNMATCHED_ROUTE = "unmatched"
# A client may send any word as the method: anything else is one label, so labels stay bounded.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER_METHOD = "other"


def route_name(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is not None and match.view_name:
        return str(match.view_name)
    if request.path_info.startswith(settings.STATIC_URL):
        return STATIC_ROUTE
    return UNMATCHED_ROUTE


class ObservabilityMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        # Read once: the switch is a start-up setting (tests that flip it reload the middleware with the client).
        self.metrics = settings.METRICS_ENABLED

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        request_id = parse_request_id(request.META.get(META_KEY)) or new_request_id()
        # Bound, and left bound until the next request on this thread overwrites it: Django logs a 4xx/5xx
        # response that was returned (not raised) after the last middleware has finished, and that line must
        # carry the id too. Under ASGI each request has its own context anyway.
        structlog.contextvars.bind_contextvars(request_id=request_id)
        if not self.metrics:
            response = self.get_response(request)
        else:
            started = time.perf_counter()
            response = self.get_response(request)
            route = route_name(request)
            method = request.method if request.method in METHODS else OTHER_METHOD
            http_request_seconds.labels(route, method).observe(time.perf_counter() - started)
            http_responses.labels(route, str(response.status_code)).inc()
        response[HEADER] = request_id
        return response
